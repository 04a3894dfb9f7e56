"""Every write of self-match: send, accept, decline, withdraw, expire, block or report from a
request, and the program's self-match settings.

Locking: every service that changes who can be connected locks the two Participant rows first
(in id order, as connections' placing services do), and only then the request row. Two accepts
that involve the same person therefore run one after the other, and the second sees what the
first did (the person connected, their other requests cancelled). Locking the request first
would let two accepts each hold a request the other wants to cancel, and deadlock.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone

from peermentor.connections.models import (
    CAPACITY_ROLES,
    MET_STATUSES,
    Block,
    ConnectionKind,
    ConnectionMember,
    ConnectionSource,
)
from peermentor.core.errors import ApplicationError
from peermentor.core.models import AuditEvent
from peermentor.core.services import audit_record
from peermentor.enrollment.models import Participant, ParticipantStatus
from peermentor.matches.models_requests import (
    MESSAGE_MAX_LENGTH,
    MatchRequest,
    RequestStatus,
    SelfMatchSettings,
)
from peermentor.matches.recommendations import offers_self_match, pair_fit, partner_role
from peermentor.programs.models import Format, Program, ProgramStatus
from peermentor.programs.permissions import can_manage_program

KIND_BY_FORMAT = {
    Format.PAIRS: ConnectionKind.PAIR,
    Format.SHADOWING: ConnectionKind.SHADOWING,
    Format.BUDDIES: ConnectionKind.BUDDY,
}
# Programs in which people may still ask one another.
OPEN_STATUSES = (ProgramStatus.ENROLLING, ProgramStatus.MATCHING, ProgramStatus.RUNNING)
AUDIT_TARGET = MatchRequest._meta.label_lower


# --- settings -----------------------------------------------------------------------------
def self_match_settings_for(program: Program) -> SelfMatchSettings:
    """The program's settings, or unsaved defaults when none were saved (no write)."""
    found = SelfMatchSettings.objects.filter(program_id=program.pk).first()
    return found or SelfMatchSettings(program=program)


@transaction.atomic
def self_match_settings_update(
    *,
    actor: Any,
    program: Program,
    request_expiry_days: int,
    max_pending_incoming: int,
    max_pending_outgoing: int,
) -> SelfMatchSettings:
    """Afterwards the program's requests expire after `request_expiry_days` (requests already
    sent keep their date) and nobody holds more than the given numbers of unanswered requests
    (requests already waiting are not touched)."""
    if not can_manage_program(actor, program):
        raise PermissionDenied("Only the program's managers can change how requests work.")
    settings, _ = SelfMatchSettings.objects.select_for_update().get_or_create(program=program)
    before = {
        "request_expiry_days": settings.request_expiry_days,
        "max_pending_incoming": settings.max_pending_incoming,
        "max_pending_outgoing": settings.max_pending_outgoing,
    }
    settings.request_expiry_days = request_expiry_days
    settings.max_pending_incoming = max_pending_incoming
    settings.max_pending_outgoing = max_pending_outgoing
    _full_clean(settings, exclude=["program"])
    settings.save()
    audit_record(
        actor=actor,
        action="self_match.settings_updated",
        target=settings,
        program_id=program.pk,
        data={"before": before, "after": {key: getattr(settings, key) for key in before}},
    )
    return settings


# --- helpers ------------------------------------------------------------------------------
def _full_clean(instance: Any, **options: Any) -> None:
    try:
        instance.full_clean(**options)
    except ValidationError as error:
        if hasattr(error, "error_dict"):
            name, errors = next(iter(error.error_dict.items()))
            raise ApplicationError(
                " ".join(errors[0].messages), field=None if name == "__all__" else name
            ) from error
        raise ApplicationError(" ".join(error.messages)) from error


def participant_of(user: Any, program: Program) -> Participant | None:
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
        participant.display_name = names.get(pk, "")
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
    actor: Any,
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
    _full_clean(request, exclude=["program", "requester", "recipient", "connection"])
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


def _after_commit_notify(request_ids: Sequence[int]) -> None:
    """E-mail the news of these requests once the transaction commits (never inside it)."""
    ids = sorted(set(request_ids))
    if not ids:
        return

    def enqueue() -> None:
        from peermentor.matches.tasks_requests import request_notices_task

        request_notices_task.enqueue(request_ids=ids)

    transaction.on_commit(enqueue)


def _notify_in_app(request: MatchRequest, *, to_requester: bool, title: str, body: str) -> None:
    """An in-app notification (read in the app, e-mailed in the digest)."""
    from peermentor.notifications.models import NotificationKind
    from peermentor.notifications.services import notify

    participant = request.requester if to_requester else request.recipient
    user_id = participant.person.user_id
    if user_id is None:
        return
    notify(
        recipient=user_id,
        kind=NotificationKind.REQUEST_WAITING,
        title=title,
        body=body,
        url=reverse("match_request_detail", args=[request.pk]),
        dedupe_key=f"match_request:{request.pk}:{request.status}",
    )


# --- send ---------------------------------------------------------------------------------
@transaction.atomic
def request_send(
    *, actor: Any, program: Program, recipient: Participant, message: str = ""
) -> MatchRequest:
    """Afterwards a pending request from the actor's participation to `recipient` waits for an
    answer until the program's expiry, the recipient is told, and it is audited.

    Refused (ApplicationError) when self-match is off, the actor is not ready or has no room,
    the recipient is not a ready participant of the program in the partner role or has no room,
    either blocked the other, they were connected before (unless the program allows it), the
    program's rules do not allow the pair, a request between the two is already waiting, or the
    recipient or the actor holds the most unanswered requests the program allows.
    """
    if not offers_self_match(program):
        raise PermissionDenied("This program does not let participants choose one another.")
    if program.status not in OPEN_STATUSES:
        raise ApplicationError("This program is not taking requests now.")
    if not isinstance(recipient, Participant) or recipient.pk is None:
        raise ApplicationError("Choose whom to ask.", field="recipient")
    own = participant_of(actor, program)
    if own is None:
        raise PermissionDenied("Only participants of this program can send requests.")
    message = (message or "").strip()
    if len(message) > MESSAGE_MAX_LENGTH:
        raise ApplicationError(
            f"Keep the message to {MESSAGE_MAX_LENGTH} characters or fewer.", field="message"
        )
    if recipient.pk == own.pk:
        raise ApplicationError("You cannot send a request to yourself.", field="recipient")

    locked = _lock_participants([own.pk, recipient.pk])
    me, them = locked.get(own.pk), locked.get(recipient.pk)
    if them is None or them.program_id != program.pk:
        raise ApplicationError("That person is not taking part in this program.", field="recipient")
    assert me is not None
    if me.status != ParticipantStatus.ENROLLED or me.ready_at is None:
        raise ApplicationError("Finish your profile and the training before you send requests.")
    their_name = _name(them)
    if them.status != ParticipantStatus.ENROLLED or them.ready_at is None:
        raise ApplicationError(f"{their_name} is not ready to be matched yet.", field="recipient")
    if partner_role(program, me.role) != them.role:
        raise ApplicationError(
            f"{their_name} takes part as {them.get_role_display().lower()}: "
            "in this program you can only ask people you could be connected with.",
            field="recipient",
        )
    if _are_blocked(me.person_id, them.person_id):
        # Never say who blocked whom.
        raise ApplicationError("You cannot send a request to this person.", field="recipient")
    if not getattr(program, "allow_repeat_pairs", False) and _met_before(
        me.person_id, them.person_id
    ):
        raise ApplicationError(
            f"You and {their_name} were connected before: choose someone new.", field="recipient"
        )
    current = _current_places([me.pk, them.pk])
    if _room(me, current) == 0:
        raise ApplicationError(
            "You already have a connection in this program (or as many as you can take)."
        )
    if _room(them, current) == 0:
        raise ApplicationError(
            f"{their_name} already has a connection (or as many as they can take).",
            field="recipient",
        )
    now = timezone.now()
    between = _pending(MatchRequest.objects, now).filter(
        Q(requester=me, recipient=them) | Q(requester=them, recipient=me)
    )
    existing = between.values_list("requester_id", flat=True).first()
    if existing == me.pk:
        raise ApplicationError(
            f"You have already asked {their_name}: wait for their answer.", field="recipient"
        )
    if existing == them.pk:
        raise ApplicationError(
            f"{their_name} has already asked you: answer their request instead.",
            field="recipient",
        )
    settings = self_match_settings_for(program)
    waiting_for_them = _pending(MatchRequest.objects, now).filter(recipient=them).count()
    if waiting_for_them >= settings.max_pending_incoming:
        raise ApplicationError(
            f"{their_name} already has {waiting_for_them} requests waiting for an answer, the "
            "most this program allows: try again once they have answered, or ask someone else.",
            field="recipient",
        )
    mine_waiting = _pending(MatchRequest.objects, now).filter(requester=me).count()
    if mine_waiting >= settings.max_pending_outgoing:
        raise ApplicationError(
            f"You have {mine_waiting} requests waiting for answers, the most this program "
            "allows: withdraw one or wait for an answer first."
        )
    fit = pair_fit(program=program, requester=me, recipient=them)
    if not fit.is_allowed:
        raise ApplicationError(fit.problem, field="recipient")

    # A past-due request the expiry task has not reached yet would trip the one-pending rule.
    stale = MatchRequest.objects.filter(
        Q(requester=me, recipient=them) | Q(requester=them, recipient=me),
        status=RequestStatus.PENDING,
        expires_at__lte=now,
    )
    for old in stale.select_for_update(of=("self",)):
        _close(
            old, actor=None, status=RequestStatus.EXPIRED, now=now, action="match_request.expired"
        )

    request = MatchRequest(
        program=program,
        requester=me,
        recipient=them,
        message=message,
        score=fit.score,
        reasons=fit.reasons,
        created_at=now,
        expires_at=now + dt.timedelta(days=settings.request_expiry_days),
    )
    _full_clean(request, exclude=["program", "requester", "recipient"], validate_constraints=False)
    try:
        with transaction.atomic():
            request.save()
    except IntegrityError as error:
        raise ApplicationError(
            f"A request between you and {their_name} was just made: reload the page.",
            field="recipient",
        ) from error
    audit_record(
        actor=actor,
        action="match_request.sent",
        target=request,
        program_id=program.pk,
        to_state=RequestStatus.PENDING,
        data={"requester_id": me.pk, "recipient_id": them.pk, "score": fit.score},
    )
    _notify_in_app(
        request,
        to_requester=False,
        title=f"{own.person.full_name} would like to connect with you",
        body=f"Their request in {program.name} is waiting for your answer.",
    )
    _after_commit_notify([request.pk])
    return request


# --- answer -------------------------------------------------------------------------------
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


def _user_is(actor: Any, participant: Participant) -> bool:
    return bool(
        getattr(actor, "is_authenticated", False)
        and participant.person.user_id is not None
        and participant.person.user_id == actor.pk
    )


@transaction.atomic
def request_accept(*, actor: Any, request: MatchRequest) -> MatchRequest:
    """Afterwards the request is accepted and the two people are in an active connection made
    through the connections services (under row locks: capacity and one-current-connection hold
    under concurrency), with the request's score and reasons. Every other pending request of
    either person that can no longer be honoured (they have no room left) is cancelled, and the
    people on the other side of those are told by e-mail after commit.

    Refused when the actor is not the recipient, the request is no longer pending or has
    expired, or the connection cannot be made (a ApplicationError from connections says why).
    """
    request, requester, recipient = _locked_for_answer(request)
    if not _user_is(actor, recipient):
        raise PermissionDenied("Only the person who was asked can accept this request.")
    now = timezone.now()
    _require_pending(request, now)
    program = request.program
    if not offers_self_match(program):
        raise ApplicationError("This program no longer lets participants choose one another.")
    from peermentor.connections import services as connection_services

    members = [(requester, requester.role), (recipient, recipient.role)]
    try:
        with transaction.atomic():
            connection = connection_services.connection_propose(
                actor=actor,
                program=program,
                members=members,
                kind=KIND_BY_FORMAT[program.format],
                score=request.score,
                reasons=request.reasons,
                source=ConnectionSource.SELF_MATCH,
            )
    except ApplicationError:
        # Someone was placed by other means since (a published match run): this request and
        # the others that cannot be honoured now are resolved rather than left waiting.
        cancelled = _cancel_unhonourable(
            actor=actor,
            participants=[requester, recipient],
            now=now,
            reason_for=lambda name: f"{name} has been connected with someone else since.",
        )
        if request.pk not in cancelled:
            raise
        _after_commit_notify(cancelled)
        request.refresh_from_db()
        return request
    connection = connection_services.connection_activate(actor=actor, connection=connection)
    request.connection = connection
    _close(
        request,
        actor=actor,
        status=RequestStatus.ACCEPTED,
        now=now,
        action="match_request.accepted",
        data={"connection_id": connection.pk},
    )
    cancelled = _cancel_unhonourable(
        actor=actor,
        participants=[requester, recipient],
        now=now,
        reason_for=lambda name: f"{name} has just been connected with someone else.",
        keep=request.pk,
    )
    _notify_in_app(
        request,
        to_requester=True,
        title=f"{recipient.person.full_name} accepted your request",
        body=f"You are now connected in {program.name}.",
    )
    _after_commit_notify([request.pk, *cancelled])
    return request


def _cancel_unhonourable(
    *,
    actor: Any,
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


def _cancel_pending_of(
    *,
    actor: Any,
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
    rows = list(
        MatchRequest.objects.select_for_update(of=("self",))
        .filter(Q(requester_id__in=ids) | Q(recipient_id__in=ids), status=RequestStatus.PENDING)
        .exclude(pk=keep)
        .order_by("pk")
        .values_list("pk", "requester_id", "recipient_id", "program_id")
    )
    events = []
    for pk, requester_id, recipient_id, program_id in rows:
        reason = reason_for(names.get(requester_id) or names.get(recipient_id))
        MatchRequest.objects.filter(pk=pk, status=RequestStatus.PENDING).update(
            status=RequestStatus.CANCELLED, responded_at=now, response_note=reason
        )
        events.append(
            AuditEvent(
                actor=actor if getattr(actor, "is_authenticated", False) else None,
                action="match_request.cancelled",
                target_type=AUDIT_TARGET,
                target_id=pk,
                program_id=program_id,
                from_state=RequestStatus.PENDING,
                to_state=RequestStatus.CANCELLED,
                reason=reason,
            )
        )
    AuditEvent.objects.bulk_create(events)
    return [pk for pk, *_ in rows]


@transaction.atomic
def requests_cancel_unhonourable(
    *, actor: Any, participant_ids: Sequence[int], reason: str = ""
) -> int:
    """For other apps that just placed or removed people (a published match run, a withdrawal):
    afterwards no pending request remains for any of `participant_ids` who has no room left or
    is no longer enrolled; the other sides are told by e-mail after commit. Returns how many."""
    locked = _lock_participants(participant_ids)
    now = timezone.now()
    gone = [p for p in locked.values() if p.status != ParticipantStatus.ENROLLED]
    staying = [p for p in locked.values() if p.status == ParticipantStatus.ENROLLED]
    cancelled = _cancel_unhonourable(
        actor=actor,
        participants=staying,
        now=now,
        reason_for=lambda name: reason or f"{name} is no longer free to connect.",
    )
    if gone:
        cancelled += _cancel_pending_of(
            actor=actor,
            participants=gone,
            now=now,
            reason_for=lambda name: reason or f"{name} is no longer taking part.",
        )
    _after_commit_notify(cancelled)
    return len(cancelled)


@transaction.atomic
def request_decline(*, actor: Any, request: MatchRequest, note: str = "") -> MatchRequest:
    """Afterwards the request is declined (with the recipient's optional note, which the
    requester reads), the requester is told, and it is audited. Only the recipient declines."""
    request, _requester, recipient = _locked_for_answer(request)
    if not _user_is(actor, recipient):
        raise PermissionDenied("Only the person who was asked can decline this request.")
    note = (note or "").strip()
    if len(note) > MESSAGE_MAX_LENGTH:
        raise ApplicationError(
            f"Keep the note to {MESSAGE_MAX_LENGTH} characters or fewer.", field="note"
        )
    now = timezone.now()
    _require_pending(request, now)
    _close(
        request,
        actor=actor,
        status=RequestStatus.DECLINED,
        now=now,
        note=note,
        action="match_request.declined",
    )
    _notify_in_app(
        request,
        to_requester=True,
        title=f"{recipient.person.full_name} declined your request",
        body="You can ask someone else from your recommendations.",
    )
    _after_commit_notify([request.pk])
    return request


@transaction.atomic
def request_withdraw(*, actor: Any, request: MatchRequest) -> MatchRequest:
    """Afterwards the request is withdrawn, the recipient no longer sees it waiting, is told,
    and it is audited. Only the requester withdraws, and only while it is pending."""
    request, requester, _recipient = _locked_for_answer(request)
    if not _user_is(actor, requester):
        raise PermissionDenied("Only the person who sent this request can withdraw it.")
    now = timezone.now()
    if request.status != RequestStatus.PENDING:
        raise ApplicationError(
            f"This request is {request.get_status_display().lower()}: it cannot be withdrawn."
        )
    _close(
        request,
        actor=actor,
        status=RequestStatus.WITHDRAWN,
        now=now,
        action="match_request.withdrawn",
    )
    _after_commit_notify([request.pk])
    return request


# --- expiry -------------------------------------------------------------------------------
EXPIRE_BATCH = 500


def requests_expire(*, now: dt.datetime | None = None) -> int:
    """Afterwards no request is pending past its `expires_at`; the requesters are told by
    e-mail. Safe to run twice or on two workers at once: each request is claimed with a
    conditional UPDATE (pending → expired) in its own short transaction, and only the claimer
    audits and notifies it (holding one row at a time, it never deadlocks with an accept).
    Returns how many requests this call expired."""
    now = now or timezone.now()
    total = 0
    while True:
        due = list(
            MatchRequest.objects.filter(status=RequestStatus.PENDING, expires_at__lte=now)
            .order_by("pk")
            .values_list("pk", "program_id")[:EXPIRE_BATCH]
        )
        for pk, program_id in due:
            with transaction.atomic():
                claimed = MatchRequest.objects.filter(pk=pk, status=RequestStatus.PENDING).update(
                    status=RequestStatus.EXPIRED, responded_at=now
                )
                if claimed != 1:
                    continue
                AuditEvent.objects.create(
                    actor=None,
                    action="match_request.expired",
                    target_type=AUDIT_TARGET,
                    target_id=pk,
                    program_id=program_id,
                    from_state=RequestStatus.PENDING,
                    to_state=RequestStatus.EXPIRED,
                    reason="No answer before the request expired.",
                )
                _after_commit_notify([pk])
            total += 1
        if len(due) < EXPIRE_BATCH:
            return total


# --- safety -------------------------------------------------------------------------------
def _party(actor: Any, request: MatchRequest) -> tuple[Participant, Participant]:
    """(the actor's side, the other side) of a request the actor is part of."""
    if _user_is(actor, request.requester):
        return request.requester, request.recipient
    if _user_is(actor, request.recipient):
        return request.recipient, request.requester
    raise PermissionDenied("Only the two people in this request can do this.")


@transaction.atomic
def request_block(*, actor: Any, request: MatchRequest, reason: str = "") -> MatchRequest:
    """Afterwards the actor has blocked the other person of the request (never recommended or
    proposed to each other again, in any program) and, if it was pending, the request is
    closed: declined when the actor was asked, withdrawn when the actor asked."""
    from peermentor.connections import services as connection_services

    request, _requester, recipient = _locked_for_answer(request)
    me, other = _party(actor, request)
    connection_services.block_person(actor=actor, blocked=other.person, reason=reason)
    if request.status == RequestStatus.PENDING:
        is_recipient = me.pk == recipient.pk
        _close(
            request,
            actor=actor,
            status=RequestStatus.DECLINED if is_recipient else RequestStatus.WITHDRAWN,
            now=timezone.now(),
            action="match_request.declined" if is_recipient else "match_request.withdrawn",
            data={"blocked": True},
        )
    return request


@transaction.atomic
def request_report(*, actor: Any, request: MatchRequest, text: str) -> Any:
    """Afterwards an open safety report about the other person of the request waits for the
    organisation admins. The request itself is unchanged (block to stop it)."""
    from peermentor.connections import services as connection_services

    request = MatchRequest.objects.select_related("requester__person", "recipient__person").get(
        pk=request.pk
    )
    _me, other = _party(actor, request)
    if not (text or "").strip():
        raise ApplicationError("Say what happened.", field="text")
    return connection_services.report_person(actor=actor, reported=other.person, text=text)


# --- notices ------------------------------------------------------------------------------
# Who hears of each outcome: the other side of whoever acted. A cancelled request goes to
# both, because it was nobody's choice.
NOTICE_TO = {
    RequestStatus.PENDING: ("recipient",),
    RequestStatus.ACCEPTED: ("requester",),
    RequestStatus.DECLINED: ("requester",),
    RequestStatus.WITHDRAWN: ("recipient",),
    RequestStatus.EXPIRED: ("requester",),
    RequestStatus.CANCELLED: ("requester", "recipient"),
}


def request_notices_send(*, request_ids: Sequence[int]) -> int:
    """E-mail the news of each named request (sent, accepted, declined, withdrawn, expired,
    cancelled) to whoever must hear it, once per status: each request is claimed with a
    conditional UPDATE of `notified_status` before sending, so a retried or duplicated task
    never mails the same news twice. Returns how many e-mails were sent."""
    from django.conf import settings
    from django.core.mail import EmailMessage, get_connection
    from django.db.models import F
    from django.template.loader import render_to_string

    ids = sorted(set(request_ids))
    claimed = []
    for pk, status in MatchRequest.objects.filter(pk__in=ids).values_list("pk", "status"):
        if (
            MatchRequest.objects.filter(pk=pk, status=status)
            .exclude(notified_status=F("status"))
            .update(notified_status=status)
            == 1
        ):
            claimed.append(pk)
    requests = MatchRequest.objects.filter(pk__in=claimed).select_related(
        "program", "requester__person", "recipient__person"
    )
    messages = []
    for request in requests.order_by("pk"):
        for side in NOTICE_TO[request.status]:
            person = getattr(request, side).person
            other = (request.recipient if side == "requester" else request.requester).person
            if not person.email:
                continue
            body = render_to_string(
                "matches/requests/email_notice.txt",
                {
                    "request": request,
                    "person": person,
                    "other": other,
                    "is_requester": side == "requester",
                    "requests_url": f"{settings.SITE_URL}{reverse('match_request_list')}",
                    "connections_url": f"{settings.SITE_URL}{reverse('my_connections')}",
                    "detail_url": (
                        f"{settings.SITE_URL}{reverse('match_request_detail', args=[request.pk])}"
                    ),
                },
            )
            messages.append(
                EmailMessage(
                    subject=_notice_subject(request, other.full_name, side == "requester"),
                    body=body,
                    to=[person.email],
                )
            )
    if not messages:
        return 0
    with get_connection() as connection:
        return connection.send_messages(messages) or 0


def _notice_subject(request: MatchRequest, other_name: str, is_requester: bool) -> str:
    program = request.program.name
    if request.status == RequestStatus.PENDING:
        return f"{other_name} would like to connect with you in {program}"
    if request.status == RequestStatus.ACCEPTED:
        return f"{other_name} accepted your request in {program}"
    if request.status == RequestStatus.DECLINED:
        return f"{other_name} declined your request in {program}"
    if request.status == RequestStatus.WITHDRAWN:
        return f"{other_name} withdrew their request in {program}"
    if request.status == RequestStatus.EXPIRED:
        return f"Your request to {other_name} in {program} expired"
    if is_requester:
        return f"Your request to {other_name} in {program} was withdrawn"
    return f"The request from {other_name} in {program} was withdrawn"
