"""Placing people: proposals one by one or by the thousand, and publishing or dropping them.

Who may be placed where is decided under row locks on the Participant rows (taken in id order,
so two services locking overlapping people never deadlock) and enforced again by the
constraints in models.py; an IntegrityError that still gets through becomes an ApplicationError.
"""

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, NamedTuple

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from peermentor.connections.models import (
    CAPACITY_ROLES,
    ENDED_STATUSES,
    MET_STATUSES,
    Block,
    Connection,
    ConnectionKind,
    ConnectionMember,
    ConnectionSource,
    ConnectionStatus,
)
from peermentor.connections.permissions import can_manage_program
from peermentor.connections.services._common import CHUNK_SIZE, _audit_row, _chunks
from peermentor.connections.services.hooks import connections_ended, connections_started
from peermentor.core.errors import ApplicationError
from peermentor.core.models import AuditEvent
from peermentor.enrollment.models import Participant, ParticipantRole, ParticipantStatus
from peermentor.people.models import Person
from peermentor.programs.models import Format, Program

KINDS_BY_FORMAT: dict[str, tuple[str, ...]] = {
    Format.PAIRS: (ConnectionKind.PAIR,),
    Format.SHADOWING: (ConnectionKind.SHADOWING,),
    Format.BUDDIES: (ConnectionKind.BUDDY,),
    Format.CIRCLES: (ConnectionKind.CIRCLE,),
    # A flash meeting may grow into an ongoing pair (issue 6).
    Format.HELP_NETWORK: (ConnectionKind.FLASH, ConnectionKind.PAIR),
}

MemberSpec = tuple[Participant, str]


class _Locked(NamedTuple):
    """The fields of a locked Participant row that placement needs (no model instances:
    publishing loads thousands)."""

    pk: int
    program_id: int
    person_id: int
    track_id: int | None
    status: str
    role: str
    capacity: int


class _Person(NamedTuple):
    full_name: str
    user_id: int | None


@dataclass
class ProposalSpec:
    """One connection to propose: who (participant, role) and what the engine said about it.

    `grows_from`: an earlier connection of exactly these members that this one continues (a
    flash meeting that becomes an ongoing pair); it does not count as "met before".
    """

    members: Sequence[MemberSpec]
    kind: str
    score: float | None = None
    reasons: str = ""
    planned_end_on: date | None = None
    grows_from: Connection | None = None


class ProposalsRefused(ApplicationError):
    """Raised by connections_propose_many: `problems` lists (index of the proposal, message)."""

    def __init__(self, problems: list[tuple[int, str]]) -> None:
        self.problems = problems
        more = len(problems) - 1
        message = problems[0][1] + (f" (and {more} more problems)" if more > 0 else "")
        super().__init__(message)


def _role_bounds(program: Program, kind: str) -> dict[str, tuple[int, int]]:
    """How many members of each role a connection of `kind` needs: {role: (min, max)}."""
    if kind == ConnectionKind.PAIR or kind == ConnectionKind.FLASH:
        return {ParticipantRole.PEER: (2, 2)}
    if kind == ConnectionKind.SHADOWING:
        return {ParticipantRole.HOST: (1, 1), ParticipantRole.SHADOW: (1, 1)}
    if kind == ConnectionKind.BUDDY:
        return {ParticipantRole.BUDDY: (1, 1), ParticipantRole.NEWCOMER: (1, 1)}
    return {
        ParticipantRole.MEMBER: (program.group_size_min, program.group_size_max),
        ParticipantRole.FACILITATOR: (0, 1 if program.has_facilitator else 0),
    }


def _check_shape(program: Program, spec: ProposalSpec) -> str | None:
    """What is wrong with the proposal's kind, roles and score before touching the database."""
    allowed_kinds = KINDS_BY_FORMAT.get(program.format, ())
    if spec.kind not in allowed_kinds:
        names = ", ".join(ConnectionKind(k).label.lower() for k in allowed_kinds) or "none"
        return f"A {program.get_format_display().lower()} program takes these kinds: {names}."
    if spec.score is not None and (
        not isinstance(spec.score, int | float) or not math.isfinite(spec.score)
    ):
        return "The score must be a number."
    if not isinstance(spec.reasons or "", str):
        return "The reasons must be text."
    if spec.planned_end_on is not None and not isinstance(spec.planned_end_on, date):
        return "The planned end must be a date."
    if spec.grows_from is not None and (
        not isinstance(spec.grows_from, Connection) or spec.grows_from.pk is None
    ):
        return "The connection it grows from must be an existing connection."
    participant_ids = [participant.pk for participant, _ in spec.members]
    if len(set(participant_ids)) != len(participant_ids):
        return "The same participant appears twice in one connection."
    bounds = _role_bounds(program, spec.kind)
    counts: dict[str, int] = defaultdict(int)
    for _, role in spec.members:
        if role not in bounds:
            return f"The role {role!r} does not belong in a {ConnectionKind(spec.kind).label}."
        counts[role] += 1
    for role, (low, high) in bounds.items():
        if not low <= counts[role] <= high:
            label = ParticipantRole(role).label.lower()
            wanted = str(low) if low == high else f"{low} to {high}"
            return (
                f"A {ConnectionKind(spec.kind).label.lower()} needs {wanted} with the role {label}."
            )
    return None


class _Earlier(NamedTuple):
    """What growing from an earlier connection needs to know about it."""

    program_id: int
    kind: str
    status: str
    participant_ids: frozenset[int]


def _load_earlier(specs: Sequence[ProposalSpec]) -> dict[int, _Earlier]:
    """The connections the proposals grow from, by id (two queries per 900; none if no
    proposal grows from one)."""
    wanted = sorted({spec.grows_from.pk for spec in specs if spec.grows_from is not None})
    rows: dict[int, tuple[int, str, str]] = {}
    members: dict[int, set[int]] = defaultdict(set)
    for chunk in _chunks(wanted):
        for pk, program_id, kind, status in Connection.objects.filter(pk__in=chunk).values_list(
            "pk", "program_id", "kind", "status"
        ):
            rows[pk] = (program_id, kind, status)
        for connection_id, participant_id in ConnectionMember.objects.filter(
            connection_id__in=chunk
        ).values_list("connection_id", "participant_id"):
            members[connection_id].add(participant_id)
    return {
        pk: _Earlier(program_id, kind, status, frozenset(members[pk]))
        for pk, (program_id, kind, status) in rows.items()
    }


def _check_grows_from(
    program: Program, spec: ProposalSpec, earlier: dict[int, _Earlier]
) -> str | None:
    """What keeps the proposal from growing out of `spec.grows_from`, if anything."""
    if spec.grows_from is None:
        return None
    found = earlier.get(spec.grows_from.pk)
    if found is None or found.program_id != program.pk:
        return "The connection it grows from must belong to this program."
    if found.status not in MET_STATUSES or (
        found.status not in ENDED_STATUSES and found.kind != ConnectionKind.FLASH
    ):
        return "Only a connection that has ended, or a flash meeting, can grow into a new one."
    if found.participant_ids != frozenset(p.pk for p, _ in spec.members):
        return "A connection can only grow from an earlier one of exactly the same people."
    return None


def _place(
    *,
    actor: Any,
    program: Program,
    specs: Sequence[ProposalSpec],
    source: str,
    match_run_id: int | None,
    allow_repeat: bool,
    validate_fields: bool,
) -> list[Connection]:
    """Validate every proposal against the locked, fresh state and insert them all, or none.

    `validate_fields=False` skips full_clean per row for bulk placement: _check_shape has
    already checked every field a caller supplies (kind, score; reasons and dates are typed).
    """
    if source not in ConnectionSource.values:
        raise ApplicationError("Unknown source of the connection.", field="source")
    if not specs:
        return []
    is_manager = can_manage_program(actor, program)
    if allow_repeat and not is_manager:
        raise PermissionDenied("Only the program's managers may allow people to meet again.")
    problems: list[tuple[int, str]] = []
    for index, spec in enumerate(specs):
        problem = _check_shape(program, spec)
        if problem:
            problems.append((index, problem))
    if problems:
        raise ProposalsRefused(problems)
    earlier = _load_earlier(specs)
    for index, spec in enumerate(specs):
        problem = _check_grows_from(program, spec, earlier)
        if problem:
            problems.append((index, problem))
    if problems:
        raise ProposalsRefused(problems)

    participant_ids = sorted({p.pk for spec in specs for p, _ in spec.members})
    fresh: dict[int, _Locked] = {}
    for chunk in _chunks(participant_ids):
        # Locking only the Participant rows (no join) in id order: the lock is what serialises
        # two proposals for the same person, and a consistent order avoids deadlocks.
        for row in (
            Participant.objects.select_for_update()
            .filter(pk__in=chunk)
            .order_by("pk")
            .values_list(*_Locked._fields)
        ):
            fresh[row[0]] = _Locked(*row)
    person_ids = sorted({p.person_id for p in fresh.values()})
    people: dict[int, _Person] = {}
    for chunk in _chunks(person_ids):
        for pk, full_name, user_id in Person.objects.filter(pk__in=chunk).values_list(
            "pk", "full_name", "user_id"
        ):
            people[pk] = _Person(full_name, user_id)

    if not is_manager:
        # Participants may only make connections they are in themselves (requests, offers).
        own_source = source in (ConnectionSource.SELF_MATCH, ConnectionSource.HELP_NETWORK)
        for spec in specs:
            user_ids = {
                people[fresh[p.pk].person_id].user_id for p, _ in spec.members if p.pk in fresh
            }
            if not own_source or actor.pk not in user_ids:
                raise PermissionDenied("Only the program's managers may connect other people.")
        if source == ConnectionSource.SELF_MATCH and not program.is_self_match_enabled:
            raise PermissionDenied("This program does not let participants choose one another.")

    blocked: set[tuple[int, int]] = set()
    for chunk in _chunks(person_ids):
        blocked.update(
            Block.objects.filter(blocker_id__in=chunk).values_list("blocker_id", "blocked_id")
        )
    met_in: dict[int, set[int]] = defaultdict(set)
    if not allow_repeat:
        for chunk in _chunks(person_ids):
            for connection_id, person_id in ConnectionMember.objects.filter(
                participant__person_id__in=chunk, connection__status__in=MET_STATUSES
            ).values_list("connection_id", "participant__person_id"):
                met_in[person_id].add(connection_id)
    taken_slots: dict[int, set[int]] = defaultdict(set)
    has_exclusive: set[int] = set()
    for chunk in _chunks(participant_ids):
        for participant_id, slot, uses_capacity in ConnectionMember.objects.filter(
            participant_id__in=chunk, is_current=True
        ).values_list("participant_id", "slot", "uses_capacity"):
            taken_slots[participant_id].add(slot)
            if not uses_capacity:
                has_exclusive.add(participant_id)

    planned: list[tuple[Connection, list[ConnectionMember]]] = []
    planned_specs: list[ProposalSpec] = []
    for index, spec in enumerate(specs):
        problem, members = _members_for(
            program=program,
            spec=spec,
            fresh=fresh,
            people=people,
            blocked=blocked,
            met_in=met_in,
            taken_slots=taken_slots,
            has_exclusive=has_exclusive,
        )
        if problem:
            problems.append((index, problem))
            continue
        tracks = {fresh[m.participant_id].track_id for m in members}
        connection = Connection(
            program=program,
            track_id=tracks.pop() if len(tracks) == 1 else None,
            kind=spec.kind,
            score=spec.score,
            reasons=spec.reasons or "",
            source=source,
            match_run_id=match_run_id,
            allow_repeat=allow_repeat,
            created_by=actor if getattr(actor, "is_authenticated", False) else None,
            planned_end_on=spec.planned_end_on,
        )
        if validate_fields:
            try:
                # Foreign keys come from rows loaded above and the placement rules were checked
                # above under lock (the database checks them again), so only fields are left.
                connection.full_clean(
                    exclude=["program", "track", "created_by"], validate_constraints=False
                )
            except ValidationError as error:
                problems.append((index, "; ".join(error.messages)))
                continue
        planned.append((connection, members))
        planned_specs.append(spec)
    if problems:
        raise ProposalsRefused(problems)

    try:
        with transaction.atomic():
            connections = Connection.objects.bulk_create([c for c, _ in planned])
            all_members = []
            for connection, members in planned:
                for member in members:
                    member.connection = connection
                    all_members.append(member)
            ConnectionMember.objects.bulk_create(all_members, batch_size=CHUNK_SIZE)
    except IntegrityError as error:
        raise ApplicationError(
            "Someone else was just placed with one of these people. Reload and try again."
        ) from error
    AuditEvent.objects.bulk_create(
        [
            _audit_row(
                actor=actor,
                action="connection.proposed",
                connection_id=connection.pk,
                program_id=program.pk,
                from_state="",
                to_state=ConnectionStatus.PROPOSED,
                data={
                    "source": source,
                    "match_run_id": match_run_id,
                    "participant_ids": [m.participant_id for m in members],
                    **({"grows_from_id": spec.grows_from.pk} if spec.grows_from else {}),
                },
            )
            for (connection, members), spec in zip(planned, planned_specs, strict=True)
        ],
        batch_size=CHUNK_SIZE,
    )
    return connections


def _members_for(
    *,
    program: Program,
    spec: ProposalSpec,
    fresh: dict[int, "_Locked"],
    people: dict[int, "_Person"],
    blocked: set[tuple[int, int]],
    met_in: dict[int, set[int]],
    taken_slots: dict[int, set[int]],
    has_exclusive: set[int],
) -> tuple[str | None, list[ConnectionMember]]:
    """Check one proposal against the locked state and give it slots; updates the state."""
    rows: list[tuple[_Locked, str]] = []
    for given, role in spec.members:
        participant = fresh.get(given.pk)
        if participant is None or participant.program_id != program.pk:
            return "Every member must be a participant of this program.", []
        name = people[participant.person_id].full_name
        if participant.status != ParticipantStatus.ENROLLED:
            return f"{name} is not enrolled in this program.", []
        if participant.role != role:
            return f"{name} takes part as {ParticipantRole(participant.role).label.lower()}.", []
        rows.append((participant, role))
    person_ids = [p.person_id for p, _ in rows]
    for blocker in person_ids:
        for other in person_ids:
            if (blocker, other) in blocked:
                # Say neither who blocked nor whom: the proposer may be one of them.
                return (
                    "These people cannot be connected: one asked not to be matched with another.",
                    [],
                )
    # The connection this one grows from was checked to be of exactly these people.
    exempt = {spec.grows_from.pk} if spec.grows_from is not None else set()
    for position, first in enumerate(person_ids):
        for second in person_ids[position + 1 :]:
            if (met_in[first] & met_in[second]) - exempt:
                names = f"{people[first].full_name} and {people[second].full_name}"
                return f"{names} were connected before.", []
    members = []
    uses_capacity_here = spec.kind == ConnectionKind.FLASH
    for participant, role in rows:
        name = people[participant.person_id].full_name
        uses_capacity = uses_capacity_here or role in CAPACITY_ROLES
        taken = taken_slots[participant.pk]
        if not uses_capacity:
            if taken:
                return f"{name} already has a current connection.", []
            slot = 1
        else:
            if participant.pk in has_exclusive:
                return f"{name} already has a current connection.", []
            free = [s for s in range(1, participant.capacity + 1) if s not in taken]
            if not free:
                return f"{name} has no free place (takes {participant.capacity} at a time).", []
            slot = free[0]
        members.append(
            ConnectionMember(
                participant_id=participant.pk,
                role=role,
                is_current=True,
                uses_capacity=uses_capacity,
                slot=slot,
            )
        )
    for member in members:
        taken_slots[member.participant_id].add(member.slot)
        if not member.uses_capacity:
            has_exclusive.add(member.participant_id)
    return None, members


@transaction.atomic
def connection_propose(
    *,
    actor: Any,
    program: Program,
    members: Sequence[MemberSpec],
    kind: str,
    score: float | None = None,
    reasons: str = "",
    source: str,
    match_run_id: int | None = None,
    planned_end_on: date | None = None,
    allow_repeat: bool = False,
    grows_from: Connection | None = None,
) -> Connection:
    """Afterwards a proposed connection holds a current place for every member.

    Refused (ApplicationError) when a member is not enrolled in `program` or has another role,
    one member blocked another, two members met before (unless `allow_repeat`, managers only),
    or a member has no free place: one current connection for peers, shadows, newcomers and
    circle members; `capacity` for hosts and buddies (and for flash meetings).

    `grows_from` names the earlier connection this one continues (a flash meeting that becomes
    an ongoing pair): that connection alone does not count as "met before". It must belong to
    `program`, have ended or be a flash meeting, and have exactly the same members; its id is
    recorded in the audit row.
    """
    spec = ProposalSpec(
        members=members,
        kind=kind,
        score=score,
        reasons=reasons,
        planned_end_on=planned_end_on,
        grows_from=grows_from,
    )
    try:
        (connection,) = _place(
            actor=actor,
            program=program,
            specs=[spec],
            source=source,
            match_run_id=match_run_id,
            allow_repeat=allow_repeat,
            validate_fields=True,
        )
    except ProposalsRefused as refused:
        raise ApplicationError(refused.message) from None
    return connection


@transaction.atomic
def connections_propose_many(
    *,
    actor: Any,
    program: Program,
    proposals: Sequence[ProposalSpec],
    source: str,
    match_run_id: int | None = None,
    allow_repeat: bool = False,
) -> list[Connection]:
    """All of `proposals` become proposed connections, in order, or none do.

    The same rules as connection_propose, checked with a constant number of queries per
    900 people; the proposals are placed one after another, so two of them cannot take the
    same place. Raises ProposalsRefused listing every proposal that cannot be placed.
    """
    return _place(
        actor=actor,
        program=program,
        specs=proposals,
        source=source,
        match_run_id=match_run_id,
        allow_repeat=allow_repeat,
        validate_fields=False,
    )


def _claim_many(
    *,
    program: Program,
    connection_ids: Sequence[int] | None,
    match_run_id: int | None,
    doing: str,
) -> list[int]:
    """Lock and return the ids of the program's proposed connections named by ids or run."""
    if (connection_ids is None) == (match_run_id is None):
        raise ApplicationError("Give either the connections or the match run, not both.")
    proposed = Connection.objects.select_for_update().filter(
        program=program, status=ConnectionStatus.PROPOSED
    )
    if match_run_id is not None:
        return list(
            proposed.filter(match_run_id=match_run_id).order_by("pk").values_list("pk", flat=True)
        )
    wanted = sorted(set(connection_ids or ()))
    claimed: list[int] = []
    for chunk in _chunks(wanted):
        claimed.extend(proposed.filter(pk__in=chunk).order_by("pk").values_list("pk", flat=True))
    if len(claimed) != len(wanted):
        missing = len(wanted) - len(claimed)
        raise ApplicationError(
            f"{missing} of these connections are not proposals of this program any more: "
            f"nothing was {doing}. Reload and try again."
        )
    return claimed


@transaction.atomic
def connections_activate_many(
    *,
    actor: Any,
    program: Program,
    connection_ids: Sequence[int] | None = None,
    match_run_id: int | None = None,
) -> int:
    """Afterwards every named proposal (by id, or all proposals of a match run) is active.

    For publishing thousands at once: a constant number of queries per 900 connections, and
    the started hooks run once for all of them (their engagement plans are made). All or
    nothing: if any named connection is no longer a proposal of `program`, nothing changes.
    Returns how many were started.
    """
    if not can_manage_program(actor, program):
        raise PermissionDenied("Only the program's managers may publish connections.")
    ids = _claim_many(
        program=program,
        connection_ids=connection_ids,
        match_run_id=match_run_id,
        doing="published",
    )
    now = timezone.now()
    changes: dict[str, Any] = {
        "status": ConnectionStatus.ACTIVE,
        "started_at": now,
        "updated_at": now,
    }
    if program.planned_end_on is not None:
        changes["planned_end_on"] = Coalesce("planned_end_on", Value(program.planned_end_on))
    for chunk in _chunks(ids):
        Connection.objects.filter(pk__in=chunk).update(**changes)
    AuditEvent.objects.bulk_create(
        [
            _audit_row(
                actor=actor,
                action="connection.activated",
                connection_id=pk,
                program_id=program.pk,
                from_state=ConnectionStatus.PROPOSED,
                to_state=ConnectionStatus.ACTIVE,
                data={"bulk": True},
            )
            for pk in ids
        ],
        batch_size=CHUNK_SIZE,
    )
    connections_started(actor=actor, connection_ids=ids)
    return len(ids)


@transaction.atomic
def connections_cancel_many(
    *,
    actor: Any,
    program: Program,
    connection_ids: Sequence[int] | None = None,
    match_run_id: int | None = None,
    reason: str = "",
) -> int:
    """Afterwards every named proposal is cancelled and its members' places are free again,
    and the ended hooks have run once for all of them.

    Same contract as connections_activate_many (all or nothing, bounded queries).
    """
    if not can_manage_program(actor, program):
        raise PermissionDenied("Only the program's managers may drop proposals.")
    ids = _claim_many(
        program=program,
        connection_ids=connection_ids,
        match_run_id=match_run_id,
        doing="cancelled",
    )
    now = timezone.now()
    for chunk in _chunks(ids):
        Connection.objects.filter(pk__in=chunk).update(
            status=ConnectionStatus.CANCELLED, ended_at=now, updated_at=now
        )
        ConnectionMember.objects.filter(connection_id__in=chunk).update(is_current=False)
    AuditEvent.objects.bulk_create(
        [
            _audit_row(
                actor=actor,
                action="connection.cancelled",
                connection_id=pk,
                program_id=program.pk,
                from_state=ConnectionStatus.PROPOSED,
                to_state=ConnectionStatus.CANCELLED,
                reason=reason,
                data={"bulk": True},
            )
            for pk in ids
        ],
        batch_size=CHUNK_SIZE,
    )
    connections_ended(actor=actor, connection_ids=ids, reason=reason)
    return len(ids)
