"""Every write to connections: proposing, the state machine, reflections, blocks and reports.

Who may be placed where is decided under row locks on the Participant rows (taken in id order,
so two services locking overlapping people never deadlock) and enforced again by the
constraints in models.py; an IntegrityError that still gets through becomes an ApplicationError.
"""

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from peermentor.connections.models import (
    CAPACITY_ROLES,
    MET_STATUSES,
    Block,
    Connection,
    ConnectionKind,
    ConnectionMember,
    ConnectionSource,
    ConnectionStatus,
    EndReason,
    Reflection,
    Report,
    ReportStatus,
)
from peermentor.connections.permissions import can_manage_program, can_review_report, member_for
from peermentor.core.errors import ApplicationError
from peermentor.core.models import AuditEvent
from peermentor.core.services import audit_record
from peermentor.enrollment.models import Participant, ParticipantRole, ParticipantStatus
from peermentor.people.models import Person
from peermentor.programs.models import Format, Program

# Keeps every IN (...) list well below SQLite's and PostgreSQL's bound-parameter limits.
CHUNK_SIZE = 900

KINDS_BY_FORMAT: dict[str, tuple[str, ...]] = {
    Format.PAIRS: (ConnectionKind.PAIR,),
    Format.SHADOWING: (ConnectionKind.SHADOWING,),
    Format.BUDDIES: (ConnectionKind.BUDDY,),
    Format.CIRCLES: (ConnectionKind.CIRCLE,),
    # A flash meeting may grow into an ongoing pair (issue 6).
    Format.HELP_NETWORK: (ConnectionKind.FLASH, ConnectionKind.PAIR),
}

EARLY_CLOSE_REASONS = tuple(r for r in EndReason.values if r != EndReason.COMPLETED_NATURALLY)
COMPLETE_REASONS = (EndReason.COMPLETED_NATURALLY, EndReason.GOALS_MET)

MemberSpec = tuple[Participant, str]


@dataclass
class ProposalSpec:
    """One connection to propose: who (participant, role) and what the engine said about it."""

    members: Sequence[MemberSpec]
    kind: str
    score: float | None = None
    reasons: str = ""
    planned_end_on: date | None = None


class ProposalsRefused(ApplicationError):
    """Raised by connections_propose_many: `problems` lists (index of the proposal, message)."""

    def __init__(self, problems: list[tuple[int, str]]) -> None:
        self.problems = problems
        more = len(problems) - 1
        message = problems[0][1] + (f" (and {more} more problems)" if more > 0 else "")
        super().__init__(message)


def _full_clean(instance: Any, **options: Any) -> None:
    """full_clean, with its first error turned into the ApplicationError forms show."""
    try:
        instance.full_clean(**options)
    except ValidationError as error:
        if hasattr(error, "error_dict"):
            name, errors = next(iter(error.error_dict.items()))
            raise ApplicationError(
                " ".join(errors[0].messages), field=None if name == "__all__" else name
            ) from error
        raise ApplicationError(" ".join(error.messages)) from error


def _chunks(values: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), CHUNK_SIZE):
        yield values[start : start + CHUNK_SIZE]


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
    if spec.score is not None and not math.isfinite(spec.score):
        return "The score must be a number."
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


def _place(
    *,
    actor: Any,
    program: Program,
    specs: Sequence[ProposalSpec],
    source: str,
    match_run_id: int | None,
    allow_repeat: bool,
) -> list[Connection]:
    """Validate every proposal against the locked, fresh state and insert them all, or none."""
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

    participant_ids = sorted({p.pk for spec in specs for p, _ in spec.members})
    fresh: dict[int, Participant] = {}
    for chunk in _chunks(participant_ids):
        # Locking only the Participant rows (no join) in id order: the lock is what serialises
        # two proposals for the same person, and a consistent order avoids deadlocks.
        for participant in (
            Participant.objects.select_for_update().filter(pk__in=chunk).order_by("pk")
        ):
            fresh[participant.pk] = participant
    person_ids = sorted({p.person_id for p in fresh.values()})
    people: dict[int, Person] = {}
    for chunk in _chunks(person_ids):
        people.update(Person.objects.in_bulk(chunk))

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
        try:
            # Foreign keys come from rows loaded above and the constraints are checked just
            # below under lock (and by the database), so field validation is all that is left.
            connection.full_clean(
                exclude=["program", "track", "created_by"], validate_constraints=False
            )
        except ValidationError as error:
            problems.append((index, "; ".join(error.messages)))
            continue
        planned.append((connection, members))
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
                connection=connection,
                from_state="",
                to_state=ConnectionStatus.PROPOSED,
                data={
                    "source": source,
                    "match_run_id": match_run_id,
                    "participant_ids": [m.participant_id for m in members],
                },
            )
            for connection, members in planned
        ],
        batch_size=CHUNK_SIZE,
    )
    return connections


def _members_for(
    *,
    program: Program,
    spec: ProposalSpec,
    fresh: dict[int, Participant],
    people: dict[int, Person],
    blocked: set[tuple[int, int]],
    met_in: dict[int, set[int]],
    taken_slots: dict[int, set[int]],
    has_exclusive: set[int],
) -> tuple[str | None, list[ConnectionMember]]:
    """Check one proposal against the locked state and give it slots; updates the state."""
    rows: list[tuple[Participant, str]] = []
    for given, role in spec.members:
        participant = fresh.get(given.pk)
        if participant is None or participant.program_id != program.pk:
            return "Every member must be a participant of this program.", []
        name = people[participant.person_id].full_name
        if participant.status != ParticipantStatus.ENROLLED:
            return f"{name} is not enrolled in this program.", []
        if participant.role != role:
            return f"{name} takes part as {participant.get_role_display().lower()}.", []
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
    for position, first in enumerate(person_ids):
        for second in person_ids[position + 1 :]:
            if met_in[first] & met_in[second]:
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


def _audit_row(
    *,
    actor: Any,
    action: str,
    connection: Connection,
    from_state: str,
    to_state: str,
    reason: str = "",
    data: dict[str, Any] | None = None,
) -> AuditEvent:
    """An unsaved AuditEvent like core.services.audit_record writes, for bulk_create."""
    return AuditEvent(
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        action=action,
        target_type=Connection._meta.label_lower,
        target_id=connection.pk,
        program_id=connection.program_id,
        from_state=from_state,
        to_state=to_state,
        reason=reason,
        data=data or {},
    )


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
) -> Connection:
    """Afterwards a proposed connection holds a current place for every member.

    Refused (ApplicationError) when a member is not enrolled in `program` or has another role,
    one member blocked another, two members met before (unless `allow_repeat`, managers only),
    or a member has no free place: one current connection for peers, shadows, newcomers and
    circle members; `capacity` for hosts and buddies (and for flash meetings).
    """
    spec = ProposalSpec(
        members=members, kind=kind, score=score, reasons=reasons, planned_end_on=planned_end_on
    )
    try:
        (connection,) = _place(
            actor=actor,
            program=program,
            specs=[spec],
            source=source,
            match_run_id=match_run_id,
            allow_repeat=allow_repeat,
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
    )


def _lock(connection: Connection) -> Connection:
    """The connection's row, locked, with its program and members (people included)."""
    return (
        Connection.objects.select_for_update(of=("self",))
        .select_related("program")
        .prefetch_related("members__participant__person")
        .get(pk=connection.pk)
    )


def _require_status(connection: Connection, allowed: Iterable[str], doing: str) -> None:
    if connection.status not in allowed:
        raise ApplicationError(
            f"This connection is {connection.get_status_display().lower()}: it cannot be {doing}."
        )


def _may_act_for_self_made(actor: Any, connection: Connection) -> bool:
    """Members act on connections they made themselves (requests, help-network offers)."""
    return connection.source in (
        ConnectionSource.SELF_MATCH,
        ConnectionSource.HELP_NETWORK,
    ) and bool(member_for(actor, connection))


@transaction.atomic
def connection_activate(*, actor: Any, connection: Connection) -> Connection:
    """Afterwards the connection is active, started now, with the program's planned end
    unless it had its own."""
    connection = _lock(connection)
    if not (
        can_manage_program(actor, connection.program) or _may_act_for_self_made(actor, connection)
    ):
        raise PermissionDenied("Only the program's managers may start this connection.")
    _require_status(connection, [ConnectionStatus.PROPOSED], "started")
    connection.status = ConnectionStatus.ACTIVE
    connection.started_at = timezone.now()
    if connection.planned_end_on is None:
        connection.planned_end_on = connection.program.planned_end_on
    _full_clean(connection, exclude=["program", "track", "created_by"])
    connection.save(update_fields=["status", "started_at", "planned_end_on", "updated_at"])
    audit_record(
        actor=actor,
        action="connection.activated",
        target=connection,
        program_id=connection.program_id,
        from_state=ConnectionStatus.PROPOSED,
        to_state=ConnectionStatus.ACTIVE,
    )
    return connection


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

    For publishing thousands at once: a constant number of queries per 900 connections.
    All or nothing: if any named connection is no longer a proposal of `program`, nothing
    changes. Returns how many were started.
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
            AuditEvent(
                actor=actor,
                action="connection.activated",
                target_type=Connection._meta.label_lower,
                target_id=pk,
                program_id=program.pk,
                from_state=ConnectionStatus.PROPOSED,
                to_state=ConnectionStatus.ACTIVE,
                data={"bulk": True},
            )
            for pk in ids
        ],
        batch_size=CHUNK_SIZE,
    )
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
    """Afterwards every named proposal is cancelled and its members' places are free again.

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
            AuditEvent(
                actor=actor,
                action="connection.cancelled",
                target_type=Connection._meta.label_lower,
                target_id=pk,
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
    return len(ids)


def _end(
    *,
    actor: Any,
    connection: Connection,
    to_state: str,
    action: str,
    reason_code: str = "",
    reason_text: str = "",
) -> Connection:
    """Move a locked connection to an end state and free its members' places."""
    from_state = connection.status
    connection.status = to_state
    connection.ended_at = timezone.now()
    connection.end_reason = reason_code
    connection.end_reason_text = reason_text
    _full_clean(connection, exclude=["program", "track", "created_by"])
    connection.save(
        update_fields=["status", "ended_at", "end_reason", "end_reason_text", "updated_at"]
    )
    connection.members.update(is_current=False)
    audit_record(
        actor=actor,
        action=action,
        target=connection,
        program_id=connection.program_id,
        from_state=from_state,
        to_state=to_state,
        reason=reason_text or (EndReason(reason_code).label if reason_code else ""),
        data={"reason_code": reason_code} if reason_code else {},
    )
    return connection


@transaction.atomic
def connection_cancel(*, actor: Any, connection: Connection, reason: str = "") -> Connection:
    """Afterwards the proposal is cancelled and its members are free to be matched again."""
    connection = _lock(connection)
    if not (
        can_manage_program(actor, connection.program) or _may_act_for_self_made(actor, connection)
    ):
        raise PermissionDenied("Only the program's managers may drop this proposal.")
    _require_status(connection, [ConnectionStatus.PROPOSED], "cancelled")
    return _end(
        actor=actor,
        connection=connection,
        to_state=ConnectionStatus.CANCELLED,
        action="connection.cancelled",
        reason_text=reason.strip(),
    )


@transaction.atomic
def connection_complete(
    *,
    actor: Any,
    connection: Connection,
    reason_code: str = EndReason.COMPLETED_NATURALLY,
    reason_text: str = "",
) -> Connection:
    """Afterwards the active connection is completed, its members are free, and each member
    may write a reflection."""
    connection = _lock(connection)
    if not (can_manage_program(actor, connection.program) or member_for(actor, connection)):
        raise PermissionDenied("Only its members or the program's managers may complete it.")
    _require_status(connection, [ConnectionStatus.ACTIVE], "completed")
    if reason_code not in COMPLETE_REASONS:
        raise ApplicationError(
            "Choose how it ended: completed naturally or goals met.", field="reason_code"
        )
    return _end(
        actor=actor,
        connection=connection,
        to_state=ConnectionStatus.COMPLETED,
        action="connection.completed",
        reason_code=reason_code,
        reason_text=reason_text.strip(),
    )


@transaction.atomic
def connection_close_early(
    *, actor: Any, connection: Connection, reason_code: str, reason_text: str = ""
) -> Connection:
    """Afterwards the active connection is closed early with its reason recorded, its members
    can be re-matched, and each member may write a reflection."""
    connection = _lock(connection)
    if not (can_manage_program(actor, connection.program) or member_for(actor, connection)):
        raise PermissionDenied("Only its members or the program's managers may close it.")
    _require_status(connection, [ConnectionStatus.ACTIVE], "closed early")
    if reason_code not in EARLY_CLOSE_REASONS:
        raise ApplicationError("Choose why the connection is closing.", field="reason_code")
    reason_text = reason_text.strip()
    if reason_code == EndReason.OTHER and not reason_text:
        raise ApplicationError("Say in a few words why it is closing.", field="reason_text")
    return _end(
        actor=actor,
        connection=connection,
        to_state=ConnectionStatus.CLOSED_EARLY,
        action="connection.closed_early",
        reason_code=reason_code,
        reason_text=reason_text,
    )


@transaction.atomic
def connection_extend(
    *, actor: Any, connection: Connection, planned_end_on: date, reason: str
) -> Connection:
    """Afterwards the connection's planned end is the later `planned_end_on`."""
    connection = _lock(connection)
    if not can_manage_program(actor, connection.program):
        raise PermissionDenied("Only the program's managers may extend a connection.")
    _require_status(connection, [ConnectionStatus.PROPOSED, ConnectionStatus.ACTIVE], "extended")
    if not isinstance(planned_end_on, date):
        raise ApplicationError("Give the new planned end date.", field="planned_end_on")
    if planned_end_on <= timezone.localdate():
        raise ApplicationError("The new planned end must be in the future.", field="planned_end_on")
    previous = connection.planned_end_on
    if previous is not None and planned_end_on <= previous:
        raise ApplicationError(
            f"The new planned end must be after the current one ({previous:%d %b %Y}).",
            field="planned_end_on",
        )
    reason = reason.strip()
    if not reason:
        raise ApplicationError("Say why the connection is extended.", field="reason")
    connection.planned_end_on = planned_end_on
    _full_clean(connection, exclude=["program", "track", "created_by"])
    connection.save(update_fields=["planned_end_on", "updated_at"])
    audit_record(
        actor=actor,
        action="connection.extended",
        target=connection,
        program_id=connection.program_id,
        from_state=connection.status,
        to_state=connection.status,
        reason=reason,
        data={
            "planned_end_on_before": previous.isoformat() if previous else None,
            "planned_end_on": planned_end_on.isoformat(),
        },
    )
    return connection


@transaction.atomic
def reflection_submit(
    *,
    actor: Any,
    connection: Connection,
    went_well: str,
    learned: str,
    rating: int,
    may_quote: bool,
) -> Reflection:
    """Afterwards the actor's one reflection on the ended connection is stored; only they read
    its text, and the program report may quote it only if `may_quote`."""
    connection = _lock(connection)
    member = member_for(actor, connection)
    if member is None:
        raise PermissionDenied("Only the connection's members write reflections.")
    if not connection.is_ended:
        raise ApplicationError("Reflections open once the connection has ended.")
    if Reflection.objects.filter(connection=connection, participant_id=member.participant_id):
        raise ApplicationError("You have already shared your reflection on this connection.")
    if isinstance(rating, bool) or not isinstance(rating, int):
        raise ApplicationError("Rate it from 1 to 5.", field="rating")
    reflection = Reflection(
        connection=connection,
        participant_id=member.participant_id,
        went_well=went_well.strip(),
        learned=learned.strip(),
        rating=rating,
        may_quote=bool(may_quote),
    )
    _full_clean(reflection, exclude=["connection", "participant"], validate_constraints=False)
    try:
        with transaction.atomic():
            reflection.save()
    except IntegrityError as error:
        raise ApplicationError("You have already shared your reflection.") from error
    audit_record(
        actor=actor,
        action="reflection.submitted",
        target=reflection,
        program_id=connection.program_id,
        # The text stays with its author: the trail records only that it was written.
        data={"connection_id": connection.pk, "may_quote": reflection.may_quote},
    )
    return reflection


def _actor_person(actor: Any) -> Person:
    person = getattr(actor, "person", None) if getattr(actor, "is_authenticated", False) else None
    if person is None:
        raise PermissionDenied("Only people in the directory can do this.")
    return person


def _members_pair(actor: Any, connection: Connection | None, other: Person) -> Connection | None:
    """Check that both people are members of `connection` (when given) and return it locked."""
    if connection is None:
        return None
    connection = _lock(connection)
    if member_for(actor, connection) is None:
        raise PermissionDenied("You are not a member of this connection.")
    if not any(m.participant.person_id == other.pk for m in connection.members.all()):
        raise ApplicationError("Choose one of the people in this connection.", field="person")
    return connection


@transaction.atomic
def block_person(
    *, actor: Any, blocked: Person, reason: str = "", connection: Connection | None = None
) -> Block:
    """Afterwards `blocked` is never proposed to the actor again, in any program. Blocking
    from a current one-to-one connection also ends it (a proposal is cancelled, an active
    connection closed early as not a good fit). Blocking twice keeps the first block."""
    person = _actor_person(actor)
    if blocked.pk == person.pk:
        raise ApplicationError("You cannot block yourself.", field="person")
    connection = _members_pair(actor, connection, blocked)
    block = Block.objects.filter(blocker=person, blocked=blocked).first()
    if block is None:
        block = Block(
            blocker=person,
            blocked=blocked,
            program_id=connection.program_id if connection else None,
            reason=reason.strip(),
        )
        _full_clean(block, exclude=["blocker", "blocked", "program"], validate_constraints=False)
        try:
            with transaction.atomic():
                block.save()
        except IntegrityError:
            block = Block.objects.get(blocker=person, blocked=blocked)
        else:
            audit_record(
                actor=actor,
                action="block.created",
                target=block,
                program_id=block.program_id,
                data={"connection_id": connection.pk if connection else None},
            )
    if connection is not None and connection.is_current and len(connection.members.all()) == 2:
        if connection.status == ConnectionStatus.PROPOSED:
            _end(
                actor=actor,
                connection=connection,
                to_state=ConnectionStatus.CANCELLED,
                action="connection.cancelled",
            )
        else:
            _end(
                actor=actor,
                connection=connection,
                to_state=ConnectionStatus.CLOSED_EARLY,
                action="connection.closed_early",
                reason_code=EndReason.NOT_A_GOOD_FIT,
            )
    return block


@transaction.atomic
def report_person(
    *, actor: Any, reported: Person, text: str, connection: Connection | None = None
) -> Report:
    """Afterwards an open safety report about `reported` waits for the organisation admins
    and, when made from a connection, that program's managers."""
    person = _actor_person(actor)
    if reported.pk == person.pk:
        raise ApplicationError("You cannot report yourself.", field="person")
    connection = _members_pair(actor, connection, reported)
    report = Report(
        reporter=person,
        reported=reported,
        connection=connection,
        program_id=connection.program_id if connection else None,
        text=text.strip(),
    )
    _full_clean(
        report,
        exclude=["reporter", "reported", "connection", "program", "reviewed_by"],
        validate_constraints=False,
    )
    report.save()
    audit_record(
        actor=actor,
        action="report.created",
        target=report,
        program_id=report.program_id,
        to_state=ReportStatus.OPEN,
    )
    return report


@transaction.atomic
def report_review(*, actor: Any, report: Report, note: str = "") -> Report:
    """Afterwards the report is marked reviewed, by whom and when, with the reviewer's note."""
    report = (
        Report.objects.select_for_update(of=("self",)).select_related("program").get(pk=report.pk)
    )
    if not can_review_report(actor, report):
        raise PermissionDenied("Only organisation admins and the program's managers review it.")
    if report.status != ReportStatus.OPEN:
        raise ApplicationError("This report has already been reviewed.")
    report.status = ReportStatus.REVIEWED
    report.reviewed_by = actor
    report.reviewed_at = timezone.now()
    report.review_note = note.strip()
    _full_clean(report, exclude=["reporter", "reported", "connection", "program", "reviewed_by"])
    report.save(update_fields=["status", "reviewed_by", "reviewed_at", "review_note"])
    audit_record(
        actor=actor,
        action="report.reviewed",
        target=report,
        program_id=report.program_id,
        from_state=ReportStatus.OPEN,
        to_state=ReportStatus.REVIEWED,
    )
    return report
