"""THE one place that turns the database into engine inputs (ARCHITECTURE.md).

`build_engine_input(program)` reads the ready participants of a program (or track), their
answers and directory records, who they must avoid and how much room they have left, and
returns engine `Person` profiles, the engine `Policy` and a map back from engine ids to
participants. Everything is read in a fixed number of queries, whatever the program's size.

Engine ids are the directory Person's primary key as text: blocks and past partners are
recorded between people, and a manager is a person, so `manager_id` and `avoid` need no lookup.
"""

from __future__ import annotations

import copy
import datetime as dt
import zoneinfo
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any, NamedTuple

from django.db.models import Count, QuerySet
from django.utils import timezone

from peermentor.connections.models import CAPACITY_ROLES, ConnectionMember
from peermentor.connections.selectors import blocked_pairs, past_pairs
from peermentor.enrollment.models import Answer, Participant, ParticipantRole, ParticipantStatus
from peermentor.matching.model import InputError, Person, Policy
from peermentor.matching.profiles import policy_columns, policy_from_mapping
from peermentor.people.models import Person as DirectoryPerson
from peermentor.programs.defaults import default_policy
from peermentor.programs.models import Format, Program, Track

# Keys the engine's policy reader does not know; dropped before it sees the policy.
APP_POLICY_KEYS = ("allow_repeats",)

# Program format -> (engine format, side a role, side b role).
BIPARTITE_SIDES: dict[str, tuple[str, str]] = {
    Format.SHADOWING: (ParticipantRole.HOST, ParticipantRole.SHADOW),
    Format.BUDDIES: (ParticipantRole.BUDDY, ParticipantRole.NEWCOMER),
}
MATCHED_ROLES: dict[str, tuple[str, ...]] = {
    Format.PAIRS: (ParticipantRole.PEER,),
    # Not matched by runs, but help recommendations read its people through this adapter.
    Format.HELP_NETWORK: (ParticipantRole.PEER,),
    Format.SHADOWING: BIPARTITE_SIDES[Format.SHADOWING],
    Format.BUDDIES: BIPARTITE_SIDES[Format.BUDDIES],
    Format.CIRCLES: (ParticipantRole.MEMBER,),
}
MATCHABLE_FORMATS = (Format.PAIRS, Format.SHADOWING, Format.BUDDIES, Format.CIRCLES)
DAY_MINUTES = 24 * 60
WEEK_MINUTES = 7 * DAY_MINUTES


class EngineInput:
    """What the engine needs, unpacking as `people, policy, id_map`.

    `context_ids` are people given to the engine only so that reporting lines stay whole
    (managers between two participants who are not in the program themselves): pass them as
    `Locks.context`. `facilitators` are circle facilitators with how many more circles each can
    take; they are added to the engine's circles afterwards.
    """

    def __init__(
        self,
        people: list[Person],
        policy: Policy,
        id_map: dict[str, ParticipantRow],
        *,
        context_ids: tuple[str, ...] = (),
        facilitators: Sequence[tuple[ParticipantRow, int]] = (),
        policy_mapping: Mapping[str, Any] | None = None,
    ) -> None:
        self.people = people
        self.policy = policy
        self.id_map = id_map
        self.context_ids = context_ids
        self.facilitators = list(facilitators)
        self.policy_mapping = dict(policy_mapping or {})

    def __iter__(self) -> Iterator[Any]:
        return iter((self.people, self.policy, self.id_map))

    @property
    def matchable_count(self) -> int:
        return len(self.id_map)


# --- policy -----------------------------------------------------------------------------------
def default_policy_for(program: Program) -> dict[str, Any]:

    return default_policy(
        list(program.goals or []),
        program.format,
        group_size=(program.group_size_min, program.group_size_max),
    )


def stored_policy(program: Program, track: Track | None = None) -> dict[str, Any]:
    """The program's policy (its goals' defaults while none is saved), with the track's
    overrides on top: a key set on the track replaces the program's."""
    policy = copy.deepcopy(program.matching_policy or default_policy_for(program))
    if track is not None and track.matching_policy:
        policy.update(copy.deepcopy(track.matching_policy))
    return policy


def engine_policy_mapping(program: Program, policy: Mapping[str, Any]) -> dict[str, Any]:
    """The stored policy as the engine reads it: app-only keys removed, and the format, sides
    and group size taken from the program itself (they follow its format, not the JSON)."""
    mapping = {key: value for key, value in policy.items() if key not in APP_POLICY_KEYS}
    for plural, singular in (("criteria", "criterion"), ("constraints", "constraint")):
        if plural in mapping:
            mapping.setdefault(singular, mapping.pop(plural))
    mapping.pop("sides", None)
    mapping.pop("group_size", None)
    if program.format in BIPARTITE_SIDES:
        side_a, side_b = BIPARTITE_SIDES[program.format]
        mapping["format"] = "bipartite"
        mapping["sides"] = {"field": "role", "a": str(side_a), "b": str(side_b)}
    elif program.format == Format.CIRCLES:
        mapping["format"] = "circles"
        mapping["group_size"] = [program.group_size_min, program.group_size_max]
    else:
        mapping["format"] = "pairs"
    return mapping


def to_engine_policy(program: Program, policy: Mapping[str, Any]) -> Policy:
    """Raises InputError (naming the field) for a policy the engine would refuse."""
    return policy_from_mapping(engine_policy_mapping(program, policy), file="matching settings")


def allows_repeats(program: Program) -> bool:
    # Program.allow_repeat_pairs is requested from PROGRAMS (notes/REQUESTS.md); until it exists
    # past partners are always avoided.
    return bool(getattr(program, "allow_repeat_pairs", False))


# --- attribute values ------------------------------------------------------------------------
def _clean(text: Any) -> str:
    # A ";" inside one value would make the engine read two values.
    return str(text).replace(";", ",").strip()


def _multi(values: Iterable[Any]) -> str:
    return ";".join(cleaned for value in values if (cleaned := _clean(value)))


def _number_text(value: float) -> str:
    return f"{value:.6g}"


@cache
def _zone(name: str) -> zoneinfo.ZoneInfo | None:
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return None


def utc_offset_hours(zone_name: str, at: dt.datetime) -> float | None:
    zone = _zone(zone_name) if zone_name else None
    if zone is None:
        return None
    offset = at.astimezone(zone).utcoffset()
    return None if offset is None else offset.total_seconds() / 3600


def _minutes(text: str) -> int:
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


def availability_tokens(slots: Any, zone_name: str, at: dt.datetime) -> list[str]:
    """Weekly slots in the person's zone → the UTC hours they cover ("d0h14" = Monday 14:00 UTC),
    so that an `overlap` criterion measures how much free time two people share."""
    if not isinstance(slots, list):
        return []
    offset = utc_offset_hours(zone_name or "UTC", at) or 0.0
    tokens: list[str] = []
    for slot in slots:
        try:
            day = int(slot["day"])
            start = day * DAY_MINUTES + _minutes(slot["start"]) - round(offset * 60)
            end = day * DAY_MINUTES + _minutes(slot["end"]) - round(offset * 60)
        except (KeyError, TypeError, ValueError):
            continue
        hour = start - start % 60
        while hour < end:
            week_minute = hour % WEEK_MINUTES
            token = f"d{week_minute // DAY_MINUTES}h{(week_minute % DAY_MINUTES) // 60}"
            if token not in tokens:
                tokens.append(token)
            hour += 60
    return tokens


def answer_text(kind: str, value: Any, zone_name: str, at: dt.datetime) -> str:
    """An answer as an engine cell: lists joined with ";", numbers as text."""
    if value is None:
        return ""
    if kind == "availability":
        return _multi(availability_tokens(value, zone_name, at))
    if isinstance(value, list):
        return _multi(value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        return _number_text(float(value))
    return _clean(value)


def years_between(start: dt.date | None, end: dt.date) -> str:
    if start is None:
        return ""
    return f"{max(0.0, (end - start).days / 365.25):.1f}"


# --- reads --------------------------------------------------------------------------------------
def ready_participants(program: Program, track: Track | None = None) -> QuerySet[Participant]:
    """Enrolled participants whose profile and training are done: the ones a run may place."""
    queryset = Participant.objects.filter(
        program=program, status=ParticipantStatus.ENROLLED, ready_at__isnull=False
    )
    if track is not None:
        queryset = queryset.filter(track=track)
    return queryset


@dataclass
class _ConnectionFacts:
    current_count: dict[int, int] = field(default_factory=dict)  # participant id -> places used
    avoid: dict[int, set[int]] = field(default_factory=lambda: defaultdict(set))  # person ids


def _connection_facts(
    participant_ids: Any, person_ids: list[int], *, include_past: bool
) -> _ConnectionFacts:
    """Current places, blocks and past partners, in three queries."""

    facts = _ConnectionFacts()
    current = (
        ConnectionMember.objects.filter(participant_id__in=participant_ids, is_current=True)
        .values("participant_id")
        .annotate(count=Count("id"))
        .values_list("participant_id", "count")
    )
    facts.current_count = dict(current)
    wanted = set(person_ids)
    pairs = blocked_pairs(person_ids=None if len(person_ids) > MANY_PEOPLE else person_ids)
    if include_past:
        pairs |= past_pairs()
    for first, second in pairs:
        if first in wanted or second in wanted:
            facts.avoid[first].add(second)
            facts.avoid[second].add(first)
    return facts


def _manager_tree() -> dict[int, int | None]:
    return dict(DirectoryPerson.objects.values_list("id", "manager_id"))


def _bridging_managers(
    person_ids: set[int], managers: Mapping[int, int | None]
) -> dict[int, int | None]:
    """Managers outside the input who sit between two people in it.

    The engine follows `manager_id` only through people it knows, so a team lead who is not in
    the program would otherwise hide that a participant reports (through them) to another.
    Returns the extra people to add, with their own manager.
    """
    extra: dict[int, int | None] = {}
    for person_id in person_ids:
        chain: list[int] = []
        seen = {person_id}
        current = managers.get(person_id)
        while current is not None and current not in seen:
            if current in person_ids:
                for manager_id in chain:
                    extra[manager_id] = managers.get(manager_id)
                break
            seen.add(current)
            chain.append(current)
            current = managers.get(current)
    return extra


# --- the adapter -----------------------------------------------------------------------------
class ParticipantRow(NamedTuple):
    """What the matching code needs of a participant, read without building model objects
    (10,000 Participant + Person + Department + Site instances cost seconds)."""

    pk: int
    person_id: int
    role: str
    capacity: int
    track_id: int | None
    full_name: str
    department: str
    site: str
    site_zone: str
    level: str
    job_title: str
    hire_date: dt.date | None
    time_zone: str
    languages: Any
    manager_id: int | None


_ROW_FIELDS = (
    "id",
    "person_id",
    "role",
    "capacity",
    "track_id",
    "person__full_name",
    "person__department__name",
    "person__site__name",
    "person__site__time_zone",
    "person__level",
    "person__job_title",
    "person__hire_date",
    "person__time_zone",
    "person__languages",
    "person__manager_id",
)
# Above this many people, read blocks org-wide and filter here rather than send every id.
MANY_PEOPLE = 500


def build_engine_input(
    program: Program,
    *,
    track: Track | None = None,
    participants: Iterable[Participant] | QuerySet[Participant] | None = None,
    policy: Mapping[str, Any] | None = None,
    at: dt.datetime | None = None,
    include_context: bool = True,
    respect_room: bool = True,
) -> EngineInput:
    """Engine people, policy and id map for the ready participants of `program` (or `track`).

    Without `participants`, takes every ready participant of the program (or track) who still
    has room: nobody with a current connection, except hosts and buddies, whose capacity shrinks
    by the places they already hold. `participants` restricts the input to those given (the
    same room rules apply). `policy` replaces the stored policy (the settings page previews
    unsaved settings with it). With `respect_room=False` people are included whatever places
    they hold now, hosts and buddies with their full capacity (one-off help meetings check room
    when accepted). `id_map` maps engine ids to `ParticipantRow`s. Raises InputError for a
    policy the engine would refuse.
    """
    at = at or timezone.now()
    policy_mapping = dict(policy) if policy is not None else stored_policy(program, track)
    engine_policy = to_engine_policy(program, policy_mapping)
    include_past = not allows_repeats(program)

    if participants is None:
        queryset = ready_participants(program, track)
    else:
        queryset = Participant.objects.filter(pk__in=[p.pk for p in participants])
    rows = [ParticipantRow(*values) for values in queryset.order_by("id").values_list(*_ROW_FIELDS)]
    sides = BIPARTITE_SIDES.get(program.format)
    facilitators = [row for row in rows if row.role == ParticipantRole.FACILITATOR]
    participant_ids: Any = [row.pk for row in rows]
    if participants is None and len(rows) > MANY_PEOPLE:
        # Large programs: let the database join instead of sending thousands of ids.
        participant_ids = queryset.values("id")
    facts = _connection_facts(
        participant_ids, [row.person_id for row in rows], include_past=include_past
    )
    # A role the format does not use could never become a connection: leave such people out.
    rows = [row for row in rows if row.role in MATCHED_ROLES[program.format]]

    zones = {row.pk: row.time_zone or row.site_zone or "UTC" for row in rows}
    answers = _answer_texts(participant_ids, zones, at)
    needed_columns = set(_policy_columns(engine_policy))
    people, id_map = _engine_people(
        rows,
        sides=sides,
        facts=facts,
        respect_room=respect_room,
        answers=answers,
        zones=zones,
        needed_columns=needed_columns,
        at=at,
    )
    context_ids: list[str] = []
    if include_context and engine_policy_needs_managers(engine_policy):
        in_input = {row.person_id for row in id_map.values()}
        bridges = _bridging_managers(in_input, _manager_tree())
        context = _context_people(bridges, needed_columns=needed_columns, sides=sides)
        people.extend(context)
        context_ids = [person.id for person in context]

    return EngineInput(
        people,
        engine_policy,
        id_map,
        context_ids=tuple(context_ids),
        facilitators=[
            (row, places)
            for row in facilitators
            if (places := _facilitator_places(row, facts)) > 0 and program.has_facilitator
        ],
        policy_mapping=policy_mapping,
    )


def _answer_texts(
    participant_ids: Any, zones: dict[int, str], at: dt.datetime
) -> dict[int, dict[str, str]]:
    """Each kept participant's answers as engine text, by lower-case question key."""
    answers: dict[int, dict[str, str]] = defaultdict(dict)
    answer_rows = Answer.objects.filter(participant_id__in=participant_ids).values_list(
        "participant_id", "question__key", "question__kind", "value", "time_zone"
    )
    for participant_id, key, kind, value, zone_name in answer_rows:
        if participant_id in zones:
            answers[participant_id][key.lower()] = answer_text(
                kind, value, zone_name or zones[participant_id], at
            )
    return answers


def _engine_people(
    rows: list[ParticipantRow],
    *,
    sides: tuple[str, str] | None,
    facts: _ConnectionFacts,
    respect_room: bool,
    answers: dict[int, dict[str, str]],
    zones: dict[int, str],
    needed_columns: set[str],
    at: dt.datetime,
) -> tuple[list[Person], dict[str, ParticipantRow]]:
    """An engine Person for each participant with room (see build_engine_input), and the map
    from engine id back to the participant."""
    offsets: dict[str, str] = {}
    people: list[Person] = []
    id_map: dict[str, ParticipantRow] = {}
    for row in rows:
        used = facts.current_count.get(row.pk, 0) if respect_room else 0
        capacity = 1
        if sides is not None and row.role == sides[0]:
            capacity = row.capacity - used
            if capacity <= 0:
                continue
        elif used:
            continue
        engine_id = str(row.person_id)
        zone_name = zones[row.pk]
        if zone_name not in offsets:
            offset = utc_offset_hours(zone_name, at)
            offsets[zone_name] = "" if offset is None else _number_text(offset)
        attributes: dict[str, str] = dict.fromkeys(needed_columns, "")
        attributes.update(answers.get(row.pk, {}))
        attributes.update(
            {
                "name": _clean(row.full_name),
                "department": _clean(row.department or ""),
                "site": _clean(row.site or ""),
                "level": _clean(row.level),
                "job_title": _clean(row.job_title),
                "years_experience": years_between(row.hire_date, at.date()),
                "time_zone": zone_name,
                "utc_offset": offsets[zone_name],
                "languages": _multi(row.languages or []),
                "manager_id": "" if row.manager_id is None else str(row.manager_id),
                "avoid": ";".join(str(o) for o in sorted(facts.avoid.get(row.person_id, ()))),
            }
        )
        if sides is not None:
            attributes["role"] = row.role
            attributes["capacity"] = str(capacity if row.role == sides[0] else 1)
        people.append(Person(id=engine_id, attributes=attributes))
        id_map[engine_id] = row
    return people, id_map


def _context_people(
    bridges: dict[int, int | None], *, needed_columns: set[str], sides: tuple[str, str] | None
) -> list[Person]:
    """The managers who link people of the input through the reporting line, as context
    people (never matched) so the engine can follow the line."""
    people = []
    for manager_id, their_manager in sorted(bridges.items()):
        attributes = dict.fromkeys(needed_columns, "")
        attributes["manager_id"] = "" if their_manager is None else str(their_manager)
        attributes["avoid"] = ""
        if sides is not None:
            attributes["role"] = ""
        people.append(Person(id=str(manager_id), attributes=attributes))
    return people


def _facilitator_places(participant: ParticipantRow, facts: _ConnectionFacts) -> int:
    """How many more circles a facilitator can take: their capacity if connections give
    facilitators capacity slots, else one current circle at a time."""

    limit = participant.capacity if ParticipantRole.FACILITATOR in CAPACITY_ROLES else 1
    return limit - facts.current_count.get(participant.pk, 0)


def engine_policy_needs_managers(policy: Policy) -> bool:
    return any(rule.kind == "not_in_reporting_line" for rule in policy.constraints)


def _policy_columns(policy: Policy) -> list[str]:

    return policy_columns(policy)


__all__ = [
    "EngineInput",
    "InputError",
    "build_engine_input",
    "engine_policy_mapping",
    "ready_participants",
    "stored_policy",
    "to_engine_policy",
]
