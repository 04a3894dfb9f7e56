"""The rules a proposed connection must meet: its shape (kind, roles, sizes, score) before the
database is read, what it grows from, and, against the locked state of its members, their
enrollment, blocks, earlier meetings and free places."""

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import NamedTuple

from peermentor.connections.models import (
    CAPACITY_ROLES,
    ENDED_STATUSES,
    MET_STATUSES,
    Connection,
    ConnectionKind,
    ConnectionMember,
)
from peermentor.connections.services._common import _chunks
from peermentor.core.errors import ApplicationError
from peermentor.enrollment.models import Participant, ParticipantRole, ParticipantStatus
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
