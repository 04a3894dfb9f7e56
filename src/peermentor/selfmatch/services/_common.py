"""What the self-match services share: locking in a fixed order, room left, closing a
request with its audit row, cancelling what can no longer be honoured."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from django.db.models import Case, Count, Q, TextField, Value, When

from peermentor.accounts.models import User
from peermentor.connections.models import (
    CAPACITY_ROLES,
    MET_STATUSES,
    Block,
    ConnectionKind,
    ConnectionMember,
)
from peermentor.core.errors import ApplicationError, full_clean
from peermentor.core.models import AuditEvent
from peermentor.core.services import audit_event, audit_record
from peermentor.enrollment.models import Participant
from peermentor.programs.models import Format, Program, ProgramStatus
from peermentor.selfmatch.models import (
    MatchRequest,
    RequestStatus,
)

KIND_BY_FORMAT: dict[str, str] = {
    Format.PAIRS: ConnectionKind.PAIR,
    Format.SHADOWING: ConnectionKind.SHADOWING,
    Format.BUDDIES: ConnectionKind.BUDDY,
}


# Programs in which people may still ask one another.
OPEN_STATUSES = (ProgramStatus.ENROLLING, ProgramStatus.MATCHING, ProgramStatus.RUNNING)


AUDIT_TARGET = MatchRequest._meta.label_lower


def participant_of(user: User, program: Program) -> Participant | None:
    """The user's participation in `program`, if any."""
    if not getattr(user, "is_authenticated", False):
        return None
    return (
        Participant.objects.select_related("person")
        .filter(program_id=program.pk, person__user_id=user.pk)
        .first()
    )


def _lock_participants(ids: Iterable[int]) -> dict[int, Participant]:
    """The rows locked in id order (no join, so only Participant rows are locked)."""
    wanted = sorted(set(ids))
    locked = {
        p.pk: p
        for p in Participant.objects.select_for_update().filter(pk__in=wanted).order_by("pk")
    }
    names = dict(Participant.objects.filter(pk__in=wanted).values_list("pk", "person__full_name"))
    for pk, participant in locked.items():
        participant.display_name = names.get(pk, "")  # type: ignore[attr-defined]  # read by _name
    return locked


def _name(participant: Participant) -> str:
    return getattr(participant, "display_name", "") or participant.person.full_name


def _lock_request(request: MatchRequest) -> MatchRequest:
    return (
        MatchRequest.objects.select_for_update(of=("self",))
        .select_related("program")
        .get(pk=request.pk)
    )


def _room(participant: Participant, current: dict[int, tuple[int, bool]]) -> int:
    """How many more connections the participant can take now."""
    used, exclusive = current.get(participant.pk, (0, False))
    if exclusive:
        return 0
    if participant.role in CAPACITY_ROLES:
        return max(0, participant.capacity - used)
    return 0 if used else 1


def _current_places(participant_ids: Sequence[int]) -> dict[int, tuple[int, bool]]:
    """participant id -> (current places, whether one of them is exclusive)."""
    rows = (
        ConnectionMember.objects.filter(participant_id__in=list(participant_ids), is_current=True)
        .values("participant_id")
        .annotate(used=Count("id"), exclusive=Count("id", filter=Q(uses_capacity=False)))
        .values_list("participant_id", "used", "exclusive")
    )
    return {pk: (used, exclusive > 0) for pk, used, exclusive in rows}


def _are_blocked(first_person: int, second_person: int) -> bool:
    return Block.objects.filter(
        Q(blocker_id=first_person, blocked_id=second_person)
        | Q(blocker_id=second_person, blocked_id=first_person)
    ).exists()


def _met_before(first_person: int, second_person: int) -> bool:
    met = ConnectionMember.objects.filter(connection__status__in=MET_STATUSES)
    first = met.filter(participant__person_id=first_person).values("connection_id")
    return met.filter(participant__person_id=second_person, connection_id__in=first).exists()


def _pending(queryset: Any, now: dt.datetime) -> Any:
    """Requests still waiting: pending and not past their expiry (the expiry task may lag)."""
    return queryset.filter(status=RequestStatus.PENDING, expires_at__gt=now)


def _close(
    request: MatchRequest,
    *,
    actor: User | None,
    status: str,
    now: dt.datetime,
    note: str = "",
    action: str,
    data: dict[str, Any] | None = None,
) -> MatchRequest:
    """Move a locked pending request to a final status, with its audit row."""
    request.status = status
    request.responded_at = now
    request.response_note = note
    full_clean(request, exclude=["program", "requester", "recipient", "connection"])
    request.save(update_fields=["status", "responded_at", "response_note", "connection"])
    audit_record(
        actor=actor,
        action=action,
        target=request,
        program_id=request.program_id,
        from_state=RequestStatus.PENDING,
        to_state=status,
        reason=note,
        data=data,
    )
    return request


def _locked_for_answer(
    request: MatchRequest,
) -> tuple[MatchRequest, Participant, Participant]:
    """Lock both participants (id order), then the request; return them fresh."""
    ids = (
        MatchRequest.objects.filter(pk=request.pk)
        .values_list("requester_id", "recipient_id")
        .first()
    )
    if ids is None:
        raise ApplicationError("This request does not exist any more.")
    locked = _lock_participants(ids)
    request = _lock_request(request)
    return request, locked[request.requester_id], locked[request.recipient_id]


def _require_pending(request: MatchRequest, now: dt.datetime) -> None:
    if request.status != RequestStatus.PENDING:
        raise ApplicationError(
            f"This request is {request.get_status_display().lower()}: it cannot be answered now."
        )
    if request.expires_at <= now:
        raise ApplicationError("This request has expired: it can no longer be answered.")


def _user_is(actor: User, participant: Participant) -> bool:
    return bool(
        getattr(actor, "is_authenticated", False)
        and participant.person.user_id is not None
        and participant.person.user_id == actor.pk
    )


def _cancel_unhonourable(
    *,
    actor: User | None,
    participants: Sequence[Participant],
    now: dt.datetime,
    reason_for: Any,
    keep: int | None = None,
) -> list[int]:
    """Cancel the pending requests (sent or received) of those of `participants` who have no
    room left; return the ids cancelled. The caller holds the participants' locks."""
    current = _current_places([p.pk for p in participants])
    full = [p for p in participants if _room(p, current) == 0]
    return _cancel_pending_of(
        actor=actor, participants=full, now=now, reason_for=reason_for, keep=keep
    )


CANCEL_BATCH = 500


def _cancel_pending_of(
    *,
    actor: User | None,
    participants: Sequence[Participant],
    now: dt.datetime,
    reason_for: Any,
    keep: int | None = None,
) -> list[int]:
    """Cancel every pending request sent or received by `participants` (but `keep`), each
    with `reason_for(name of the person concerned)` and an audit row; return their ids."""
    if not participants:
        return []
    ids = [p.pk for p in participants]
    names = {p.pk: _name(p) for p in participants}
    pending = MatchRequest.objects.select_for_update(of=("self",)).filter(
        Q(requester_id__in=ids) | Q(recipient_id__in=ids), status=RequestStatus.PENDING
    )
    if keep is not None:
        pending = pending.exclude(pk=keep)
    rows = list(
        pending.order_by("pk").values_list("pk", "requester_id", "recipient_id", "program_id")
    )
    events = []
    reasons: dict[int, str] = {}
    for pk, requester_id, recipient_id, program_id in rows:
        reason = reason_for(names.get(requester_id) or names.get(recipient_id))
        reasons[pk] = reason
        events.append(
            audit_event(
                actor=actor,
                action="match_request.cancelled",
                target_type=AUDIT_TARGET,
                target_id=pk,
                program_id=program_id,
                from_state=RequestStatus.PENDING,
                to_state=RequestStatus.CANCELLED,
                reason=reason,
            )
        )
    # The rows are locked: one UPDATE per batch, each request with its own note.
    pks = list(reasons)
    for start in range(0, len(pks), CANCEL_BATCH):
        batch = pks[start : start + CANCEL_BATCH]
        MatchRequest.objects.filter(pk__in=batch, status=RequestStatus.PENDING).update(
            status=RequestStatus.CANCELLED,
            responded_at=now,
            response_note=Case(
                *(When(pk=pk, then=Value(reasons[pk])) for pk in batch),
                default=Value(""),
                output_field=TextField(),
            ),
        )
    AuditEvent.objects.bulk_create(events, batch_size=CANCEL_BATCH)
    return pks
