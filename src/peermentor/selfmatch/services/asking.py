"""Asking and answering: send, accept, decline, withdraw; and resolving the requests of people
placed or gone by other means."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from peermentor.accounts.models import User
from peermentor.connections import services as connection_services
from peermentor.connections.models import ConnectionSource
from peermentor.core.errors import ApplicationError, full_clean
from peermentor.core.services import audit_record
from peermentor.engagement import services as engagement_services
from peermentor.enrollment.models import Participant, ParticipantStatus
from peermentor.programs.models import Program
from peermentor.selfmatch.models import (
    MESSAGE_MAX_LENGTH,
    MatchRequest,
    RequestStatus,
    SelfMatchSettings,
)
from peermentor.selfmatch.notices import notices_send_after_commit, notify_in_app
from peermentor.selfmatch.recommendations import (
    PairFit,
    offers_self_match,
    pair_fit,
    partner_role,
)
from peermentor.selfmatch.services._common import (
    KIND_BY_FORMAT,
    OPEN_STATUSES,
    _are_blocked,
    _cancel_pending_of,
    _cancel_unhonourable,
    _close,
    _current_places,
    _lock_participants,
    _locked_for_answer,
    _met_before,
    _name,
    _pending,
    _require_pending,
    _room,
    _user_is,
    participant_of,
)
from peermentor.selfmatch.services.upkeep import self_match_settings_for


@transaction.atomic
def request_send(
    *, actor: User, program: Program, recipient: Participant, message: str = ""
) -> MatchRequest:
    """Afterwards a pending request from the actor's participation to `recipient` waits for an
    answer until the program's expiry, the recipient is told, and it is audited.

    Refused (ApplicationError) when self-match is off, the actor is not ready or has no room,
    the recipient is not a ready participant of the program in the partner role or has no room,
    either blocked the other, they were connected before (unless the program allows it), the
    program's rules do not allow the pair, a request between the two is already waiting, or the
    recipient or the actor holds the most unanswered requests the program allows.
    """
    own, message = _check_asking(actor=actor, program=program, recipient=recipient, message=message)
    locked = _lock_participants([own.pk, recipient.pk])
    me, them = _check_pair(program, me=locked.get(own.pk), them=locked.get(recipient.pk))
    now = timezone.now()
    settings = self_match_settings_for(program)
    _check_waiting(me=me, them=them, settings=settings, now=now)
    fit = pair_fit(program=program, requester=me, recipient=them)
    if not fit.is_allowed:
        raise ApplicationError(fit.problem, field="recipient")
    _expire_stale_between(me=me, them=them, now=now)
    request = _request_create(
        program=program, me=me, them=them, message=message, fit=fit, settings=settings, now=now
    )
    audit_record(
        actor=actor,
        action="match_request.sent",
        target=request,
        program_id=program.pk,
        to_state=RequestStatus.PENDING,
        data={"requester_id": me.pk, "recipient_id": them.pk, "score": fit.score},
    )
    notify_in_app(
        request,
        to_requester=False,
        title=f"{own.person.full_name} would like to connect with you",
        body=f"Their request in {program.name} is waiting for your answer.",
    )
    notices_send_after_commit([request.pk])
    return request


def _check_asking(
    *, actor: User, program: Program, recipient: Participant, message: str
) -> tuple[Participant, str]:
    """What can be checked before locking: the program takes requests, the actor takes part,
    the message fits, and the actor is not asking themselves. Returns the actor's
    participation and the cleaned message."""
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
    return own, message


def _check_pair(
    program: Program, *, me: Participant | None, them: Participant | None
) -> tuple[Participant, Participant]:
    """Under the two participants' locks: both are ready, in partner roles, not blocked,
    new to each other (unless the program allows repeats), and both have room."""
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
    return me, them


def _check_waiting(
    *, me: Participant, them: Participant, settings: SelfMatchSettings, now: dt.datetime
) -> None:
    """No request between the two is waiting, and neither holds the most unanswered
    requests the program allows (incoming for them, outgoing for me)."""
    their_name = _name(them)
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


def _expire_stale_between(*, me: Participant, them: Participant, now: dt.datetime) -> None:
    """A past-due request the expiry task has not reached yet would trip the one-pending rule:
    expire it now."""
    stale = MatchRequest.objects.filter(
        Q(requester=me, recipient=them) | Q(requester=them, recipient=me),
        status=RequestStatus.PENDING,
        expires_at__lte=now,
    )
    for old in stale.select_for_update(of=("self",)):
        _close(
            old, actor=None, status=RequestStatus.EXPIRED, now=now, action="match_request.expired"
        )


def _request_create(
    *,
    program: Program,
    me: Participant,
    them: Participant,
    message: str,
    fit: PairFit,
    settings: SelfMatchSettings,
    now: dt.datetime,
) -> MatchRequest:
    """The pending request, saved; a concurrent request between the two (the database's
    one-pending rule) is refused with a message."""
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
    full_clean(request, exclude=["program", "requester", "recipient"], validate_constraints=False)
    try:
        with transaction.atomic():
            request.save()
    except IntegrityError as error:
        raise ApplicationError(
            f"A request between you and {_name(them)} was just made: reload the page.",
            field="recipient",
        ) from error
    return request


@transaction.atomic
def request_accept(*, actor: User, request: MatchRequest) -> MatchRequest:
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
    if not offers_self_match(program) or program.status not in OPEN_STATUSES:
        raise ApplicationError("This program no longer lets participants choose one another.")
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
        notices_send_after_commit(cancelled)
        request.refresh_from_db()
        return request
    connection = engagement_services.connection_activate(actor=actor, connection=connection)
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
    notify_in_app(
        request,
        to_requester=True,
        title=f"{recipient.person.full_name} accepted your request",
        body=f"You are now connected in {program.name}.",
    )
    notices_send_after_commit([request.pk, *cancelled])
    return request


@transaction.atomic
def requests_cancel_unhonourable(
    *, actor: User | None, participant_ids: Sequence[int], reason: str = ""
) -> int:
    """For other apps that just placed or removed people (a published match run, a withdrawal):
    afterwards no pending request remains for any of `participant_ids` who has no room left or
    is no longer enrolled; the other sides are told by e-mail after commit. Returns how many.

    `reason` (the note both people read) may name the person concerned as `{name}`. The
    number of queries does not grow with the people or the requests (batches of 500)."""
    locked = _lock_participants(participant_ids)
    now = timezone.now()
    gone = [p for p in locked.values() if p.status != ParticipantStatus.ENROLLED]
    staying = [p for p in locked.values() if p.status == ParticipantStatus.ENROLLED]

    def reason_or(default: str) -> Any:
        return lambda name: (reason or default).replace("{name}", name)

    cancelled = _cancel_unhonourable(
        actor=actor,
        participants=staying,
        now=now,
        reason_for=reason_or("{name} is no longer free to connect."),
    )
    if gone:
        cancelled += _cancel_pending_of(
            actor=actor,
            participants=gone,
            now=now,
            reason_for=reason_or("{name} is no longer taking part."),
        )
    notices_send_after_commit(cancelled)
    return len(cancelled)


@transaction.atomic
def request_decline(*, actor: User, request: MatchRequest, note: str = "") -> MatchRequest:
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
    notify_in_app(
        request,
        to_requester=True,
        title=f"{recipient.person.full_name} declined your request",
        body="You can ask someone else from your recommendations.",
    )
    notices_send_after_commit([request.pk])
    return request


@transaction.atomic
def request_withdraw(*, actor: User, request: MatchRequest) -> MatchRequest:
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
    notices_send_after_commit([request.pk])
    return request
