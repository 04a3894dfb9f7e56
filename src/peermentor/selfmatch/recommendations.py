"""Self-match recommendations: which peers to suggest to a participant, best first, and why.

The engine input comes from matches' `adapter.build_engine_input` (the one place that turns
rows into engine profiles), built ONCE per page for the whole program (a fixed number of
queries whatever its size): ready participants with room, their answers, and `avoid` (blocks
either way, and past partners unless the program allows repeats). The engine's `recommend`
then scores the viewer against every candidate in one vectorised call and returns the top
allowed partners under the program's policy (constraints, avoid, min_score) by exact score,
ties by id, each explained in plain language.

Filters (department, site, an offered skill, a name) narrow the candidates before ranking, so
the top of a filtered list is exactly the best allowed partners among those who match.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from peermentor.enrollment.models import Participant, ParticipantRole, ParticipantStatus
from peermentor.matches.adapter import EngineInput, ParticipantRow, build_engine_input
from peermentor.matching.api import recommend
from peermentor.matching.model import InputError, Locks
from peermentor.programs.models import Format, Program, QuestionKind

# Formats where a request between two people can become a connection. Circles are formed
# by match runs; the help network has its own asks and offers.
SELF_MATCH_FORMATS = (Format.PAIRS, Format.SHADOWING, Format.BUDDIES)
# Whom each role may ask (and be asked by) in each format.
PARTNER_ROLES: dict[str, dict[str, str]] = {
    Format.PAIRS: {ParticipantRole.PEER: ParticipantRole.PEER},
    Format.SHADOWING: {
        ParticipantRole.HOST: ParticipantRole.SHADOW,
        ParticipantRole.SHADOW: ParticipantRole.HOST,
    },
    Format.BUDDIES: {
        ParticipantRole.BUDDY: ParticipantRole.NEWCOMER,
        ParticipantRole.NEWCOMER: ParticipantRole.BUDDY,
    },
}
# The side that takes several people (side a of the engine's bipartite format).
SIDE_A_ROLES = (ParticipantRole.HOST, ParticipantRole.BUDDY)
DEFAULT_TOP = 20
MAX_TOP = 100


def offers_self_match(program: Program) -> bool:
    return bool(program.is_self_match_enabled) and program.format in SELF_MATCH_FORMATS


def partner_role(program: Program, role: str) -> str | None:
    return PARTNER_ROLES.get(program.format, {}).get(role)


@dataclass(frozen=True)
class Filters:
    department: str = ""
    site: str = ""
    skill: str = ""
    search: str = ""

    @property
    def is_empty(self) -> bool:
        return not (self.department or self.site or self.skill or self.search)


@dataclass(frozen=True)
class Recommendation:
    participant_id: int
    full_name: str
    job_title: str
    department: str
    site: str
    role: str
    score: float
    reasons: str

    @property
    def score_percent(self) -> int:
        return round(self.score * 100)


@dataclass
class Recommendations:
    """What the recommendations page shows. `problem` says why there is nothing to show."""

    me: ParticipantRow | None = None
    problem: str = ""
    rows: list[Recommendation] = field(default_factory=list)
    # Allowed partners who would have made the list but hold the most unanswered requests
    # they may: not offered until they answer some (DOMAIN.md: popular people get every
    # request).
    held_back: int = 0
    departments: list[str] = field(default_factory=list)
    sites: list[str] = field(default_factory=list)
    skills: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class PairFit:
    """The engine's view of one pair: allowed under the program's rules, score and reasons."""

    is_allowed: bool
    score: float | None = None
    reasons: str = ""
    problem: str = ""


def _fold(text: str) -> str:
    return " ".join(str(text).split()).casefold()


def _values(cell: str) -> list[str]:
    return [item.strip() for item in cell.split(";") if item.strip()]


def offered_skill_keys(program: Program) -> list[str]:
    """The attribute names (question keys) under which participants offer skills."""
    return [
        key.lower()
        for key in program.questions.filter(kind=QuestionKind.SKILLS_OFFERED)
        .order_by("position", "id")
        .values_list("key", flat=True)
    ]


def _engine_recommend(
    engine_input: EngineInput,
    me: ParticipantRow,
    candidates: Sequence[ParticipantRow],
    top: int,
) -> list[tuple[ParticipantRow, float, str]]:
    """The engine's `recommend`: the `top` allowed partners of `me` among `candidates` by
    exact score (ties by id), with reasons.

    Everyone else stays in the population as context (never a partner), so that a reporting
    line running through someone who is not a candidate is still seen.
    """
    if not candidates or top <= 0:
        return []
    by_engine_id = {str(row.person_id): row for row in candidates}
    my_id = str(me.person_id)
    not_partners = tuple(
        person.id
        for person in engine_input.people
        if person.id != my_id and person.id not in by_engine_id
    )
    found = recommend(
        engine_input.people,
        engine_input.policy,
        my_id,
        top=top,
        locks=Locks(context=not_partners),
    )
    return [
        (by_engine_id[item.person_id], item.score, item.reasons)
        for item in found.items
        if item.person_id in by_engine_id
    ]


def _matches_filters(
    row: ParticipantRow, attributes: Any, filters: Filters, skill_keys: Any
) -> bool:
    if filters.department and _fold(row.department or "") != _fold(filters.department):
        return False
    if filters.site and _fold(row.site or "") != _fold(filters.site):
        return False
    if filters.search and _fold(filters.search) not in _fold(row.full_name):
        return False
    if filters.skill:
        wanted = _fold(filters.skill)
        offered = {_fold(v) for key in skill_keys for v in _values(attributes.get(key, ""))}
        if wanted not in offered:
            return False
    return True


def why_not_available(participant: Participant | None, program: Program) -> str:
    """Plain words for a participant who cannot ask anyone right now."""
    if participant is None:
        return "You are not taking part in this program."
    if participant.status != ParticipantStatus.ENROLLED:
        return "You are not enrolled in this program any more."
    if participant.ready_at is None:
        return (
            "Finish your profile and the training first: then you can choose someone to "
            "connect with."
        )
    if partner_role(program, participant.role) is None:
        return "People in your role are matched by the program team in this program."
    return (
        "You already have a connection in this program (or as many as you can take). "
        "You can look for someone new once it ends."
    )


def recommendations_for(
    *,
    program: Program,
    participant: Participant | None,
    filters: Filters = Filters(),
    held_back_ids: Iterable[int] = (),
    top: int = DEFAULT_TOP,
    at: dt.datetime | None = None,
) -> Recommendations:
    """The best `top` allowed partners for `participant` among those who match `filters`.

    Candidates are ready participants of the program with room, of the role that pairs with
    the participant's. `held_back_ids` (people at their limit of unanswered requests) are
    never shown; `held_back` counts those of them who would otherwise have made the list.
    Never raises for a policy the engine refuses: `problem` says so instead.
    """
    result = Recommendations()
    if participant is None or participant.ready_at is None:
        result.problem = why_not_available(participant, program)
        return result
    wanted_role = partner_role(program, participant.role)
    if wanted_role is None:
        result.problem = why_not_available(participant, program)
        return result
    try:
        engine_input = build_engine_input(program, at=at)
    except InputError:
        result.problem = (
            "Recommendations are not available: the program's matching settings need "
            "attention from the program team."
        )
        return result
    attributes = {person.id: person.attributes for person in engine_input.people}
    rows_by_id = {row.pk: row for row in engine_input.id_map.values()}
    me = rows_by_id.get(participant.pk)
    if me is None:
        result.problem = why_not_available(participant, program)
        return result
    result.me = me
    skill_keys = offered_skill_keys(program)
    candidates = [
        row for row in engine_input.id_map.values() if row.role == wanted_role and row.pk != me.pk
    ]
    _set_filter_choices(result, candidates=candidates, attributes=attributes, skill_keys=skill_keys)
    candidates = [
        row
        for row in candidates
        if _matches_filters(row, attributes[str(row.person_id)], filters, skill_keys)
    ]
    _set_rows(result, engine_input, me=me, candidates=candidates, held=set(held_back_ids), top=top)
    return result


def _set_filter_choices(
    result: Recommendations,
    *,
    candidates: Sequence[ParticipantRow],
    attributes: dict[str, Mapping[str, str]],
    skill_keys: Sequence[str],
) -> None:
    """The departments, sites and offered skills the page's filters offer: those of all the
    candidates, before any filter narrows them."""
    result.departments = sorted({row.department for row in candidates if row.department})
    result.sites = sorted({row.site for row in candidates if row.site})
    result.skills = sorted(
        {
            value
            for row in candidates
            for key in skill_keys
            for value in _values(attributes[str(row.person_id)].get(key, ""))
        },
        key=_fold,
    )


def _set_rows(
    result: Recommendations,
    engine_input: EngineInput,
    *,
    me: ParticipantRow,
    candidates: Sequence[ParticipantRow],
    held: set[int],
    top: int,
) -> None:
    """The best `top` of `candidates` not in `held`, and how many of `held` they kept out."""
    top = max(1, min(top, MAX_TOP))
    # Asking for `top` more per person held back still yields the best `top` of the others;
    # the held-back people ranked above the last one shown are those the limit kept out.
    held_candidates = sum(1 for row in candidates if row.pk in held)
    ranked = _engine_recommend(engine_input, me, candidates, top + held_candidates)
    shown = [item for item in ranked if item[0].pk not in held][:top]
    cut = len(ranked) if len(shown) < top else ranked.index(shown[-1])
    result.held_back = sum(1 for row, _, _ in ranked[:cut] if row.pk in held)
    result.rows = [
        Recommendation(
            participant_id=row.pk,
            full_name=row.full_name,
            job_title=row.job_title,
            department=row.department or "",
            site=row.site or "",
            role=row.role,
            score=round(score, 6),
            reasons=why,
        )
        for row, score, why in shown
    ]


def pair_fit(*, program: Program, requester: Participant, recipient: Participant) -> PairFit:
    """Whether the program's rules allow the two to be connected, with the engine's score and
    reasons. Only the two people (and the managers between them) are read."""
    try:
        engine_input = build_engine_input(program, participants=[requester, recipient])
    except InputError:
        return PairFit(
            is_allowed=False,
            problem="The program's matching settings need attention from the program team.",
        )
    rows = {row.pk: row for row in engine_input.id_map.values()}
    me, other = rows.get(requester.pk), rows.get(recipient.pk)
    if me is None or other is None:
        # The callers check room and readiness first and say which; this is the fallback.
        return PairFit(is_allowed=False, problem="One of you cannot take a new connection now.")
    ranked = _engine_recommend(engine_input, me, [other], 1)
    if not ranked:
        return PairFit(
            is_allowed=False,
            problem="The program's matching rules do not allow the two of you to be matched.",
        )
    _row, score, why = ranked[0]
    return PairFit(is_allowed=True, score=round(score, 6), reasons=why)
