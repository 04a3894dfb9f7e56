"""Placing people: proposals one by one or by the thousand, and publishing or dropping them.

Who may be placed where is decided under row locks on the Participant rows (taken in id order,
so two services locking overlapping people never deadlock) and enforced again by the
constraints in models.py; an IntegrityError that still gets through becomes an ApplicationError.
"""

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

from peermentor.accounts.models import User
from peermentor.connections.models import (
    MET_STATUSES,
    Block,
    Connection,
    ConnectionMember,
    ConnectionSource,
    ConnectionStatus,
)
from peermentor.connections.permissions import can_manage_program
from peermentor.connections.services._common import CHUNK_SIZE, _audit_row, _chunks
from peermentor.connections.services.placement_rules import (
    MemberSpec,
    ProposalSpec,
    ProposalsRefused,
    _check_grows_from,
    _check_shape,
    _load_earlier,
    _Locked,
    _members_for,
    _Person,
)
from peermentor.core.errors import ApplicationError
from peermentor.core.models import AuditEvent
from peermentor.enrollment.models import Participant
from peermentor.people.models import Person
from peermentor.programs.models import Program


def _place(
    *,
    actor: User,
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
    _refuse_malformed(program, specs)
    fresh, people = _lock_participants(specs)
    if not is_manager:
        _require_own_connections(actor, program, specs, source, fresh, people)
    ledger = _read_ledger(fresh, people, allow_repeat=allow_repeat)
    planned = _plan_connections(
        actor=actor,
        program=program,
        specs=specs,
        ledger=ledger,
        source=source,
        match_run_id=match_run_id,
        allow_repeat=allow_repeat,
        validate_fields=validate_fields,
    )
    connections = _insert(planned)
    _audit_proposed(actor, program, planned, source=source, match_run_id=match_run_id)
    return connections


def _refuse_malformed(program: Program, specs: Sequence[ProposalSpec]) -> None:
    """ProposalsRefused if a proposal's shape is wrong, or (checked next, against the
    database) what it grows from."""
    problems = [
        (index, problem)
        for index, spec in enumerate(specs)
        if (problem := _check_shape(program, spec))
    ]
    if problems:
        raise ProposalsRefused(problems)
    earlier = _load_earlier(specs)
    problems = [
        (index, problem)
        for index, spec in enumerate(specs)
        if (problem := _check_grows_from(program, spec, earlier))
    ]
    if problems:
        raise ProposalsRefused(problems)


@dataclass
class _Ledger:
    """The state every proposal is checked against, read under lock; proposals update it as
    they take their places, so two proposals of one call cannot both take the last seat."""

    fresh: dict[int, _Locked]
    people: dict[int, _Person]
    blocked: set[tuple[int, int]]
    met_in: dict[int, set[int]]
    taken_slots: dict[int, set[int]]
    has_exclusive: set[int]


def _lock_participants(
    specs: Sequence[ProposalSpec],
) -> tuple[dict[int, _Locked], dict[int, _Person]]:
    """Lock the proposed participants' rows; their fields and their people, by id."""
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
    return fresh, people


def _read_ledger(
    fresh: dict[int, _Locked], people: dict[int, _Person], *, allow_repeat: bool
) -> _Ledger:
    """What placing the locked participants depends on: blocks between people, whom they met
    (unless repeats are allowed) and the slots they hold."""
    participant_ids = sorted(fresh)
    person_ids = sorted({p.person_id for p in fresh.values()})
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
    return _Ledger(fresh, people, blocked, met_in, taken_slots, has_exclusive)


def _require_own_connections(
    actor: User,
    program: Program,
    specs: Sequence[ProposalSpec],
    source: str,
    fresh: dict[int, _Locked],
    people: dict[int, _Person],
) -> None:
    """Participants may only make connections they are in themselves (requests, offers)."""
    own_source = source in (ConnectionSource.SELF_MATCH, ConnectionSource.HELP_NETWORK)
    for spec in specs:
        user_ids = {people[fresh[p.pk].person_id].user_id for p, _ in spec.members if p.pk in fresh}
        if not own_source or actor.pk not in user_ids:
            raise PermissionDenied("Only the program's managers may connect other people.")
    if source == ConnectionSource.SELF_MATCH and not program.is_self_match_enabled:
        raise PermissionDenied("This program does not let participants choose one another.")


class _Planned(NamedTuple):
    connection: Connection
    members: list[ConnectionMember]
    spec: ProposalSpec


def _plan_connections(
    *,
    actor: User,
    program: Program,
    specs: Sequence[ProposalSpec],
    ledger: _Ledger,
    source: str,
    match_run_id: int | None,
    allow_repeat: bool,
    validate_fields: bool,
) -> list[_Planned]:
    """The unsaved connection and members of every proposal, or ProposalsRefused listing
    each proposal the placement rules refuse."""
    problems: list[tuple[int, str]] = []
    planned: list[_Planned] = []
    for index, spec in enumerate(specs):
        problem, members = _members_for(
            program=program,
            spec=spec,
            fresh=ledger.fresh,
            people=ledger.people,
            blocked=ledger.blocked,
            met_in=ledger.met_in,
            taken_slots=ledger.taken_slots,
            has_exclusive=ledger.has_exclusive,
        )
        if problem:
            problems.append((index, problem))
            continue
        tracks = {ledger.fresh[m.participant_id].track_id for m in members}
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
        planned.append(_Planned(connection, members, spec))
    if problems:
        raise ProposalsRefused(problems)
    return planned


def _insert(planned: list[_Planned]) -> list[Connection]:
    """Insert the planned connections and their members; the database's constraints refuse
    anyone placed by a concurrent request since the lock was taken."""
    try:
        with transaction.atomic():
            connections = Connection.objects.bulk_create([p.connection for p in planned])
            all_members = []
            for connection, members, _ in planned:
                for member in members:
                    member.connection = connection
                    all_members.append(member)
            ConnectionMember.objects.bulk_create(all_members, batch_size=CHUNK_SIZE)
    except IntegrityError as error:
        raise ApplicationError(
            "Someone else was just placed with one of these people. Reload and try again."
        ) from error
    return connections


def _audit_proposed(
    actor: User,
    program: Program,
    planned: list[_Planned],
    *,
    source: str,
    match_run_id: int | None,
) -> None:
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
            for connection, members, spec in planned
        ],
        batch_size=CHUNK_SIZE,
    )


@transaction.atomic
def connection_propose(
    *,
    actor: User,
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
    actor: User,
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
    actor: User,
    program: Program,
    connection_ids: Sequence[int] | None = None,
    match_run_id: int | None = None,
) -> list[int]:
    """Afterwards every named proposal (by id, or all proposals of a match run) is active.

    For publishing thousands at once: a constant number of queries per 900 connections. All or
    nothing: if any named connection is no longer a proposal of `program`, nothing changes.
    Returns the ids of the connections started (their plans are the caller's: engagement's
    connections_activate_many makes them).
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
    return ids


@transaction.atomic
def connections_cancel_many(
    *,
    actor: User | None,
    program: Program,
    connection_ids: Sequence[int] | None = None,
    match_run_id: int | None = None,
    reason: str = "",
) -> list[int]:
    """Afterwards every named proposal is cancelled and its members' places are free again.
    Returns the ids of the connections cancelled.

    Same contract as connections_activate_many (all or nothing, bounded queries). `actor` None
    is the system (a program closing at its planned end).
    """
    if actor is not None and not can_manage_program(actor, program):
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
    return ids
