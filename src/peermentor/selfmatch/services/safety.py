"""Safety from a request: block or report the other person."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from peermentor.accounts.models import User
from peermentor.connections import services as connection_services
from peermentor.core.errors import ApplicationError
from peermentor.enrollment.models import Participant
from peermentor.selfmatch.models import (
    MatchRequest,
    RequestStatus,
)
from peermentor.selfmatch.services._common import (
    _close,
    _locked_for_answer,
    _user_is,
)


def _party(actor: User, request: MatchRequest) -> tuple[Participant, Participant]:
    """(the actor's side, the other side) of a request the actor is part of."""
    if _user_is(actor, request.requester):
        return request.requester, request.recipient
    if _user_is(actor, request.recipient):
        return request.recipient, request.requester
    raise PermissionDenied("Only the two people in this request can do this.")


@transaction.atomic
def request_block(*, actor: User, request: MatchRequest, reason: str = "") -> MatchRequest:
    """Afterwards the actor has blocked the other person of the request (never recommended or
    proposed to each other again, in any program) and, if it was pending, the request is
    closed: declined when the actor was asked, withdrawn when the actor asked."""
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
def request_report(*, actor: User, request: MatchRequest, text: str) -> Any:
    """Afterwards an open safety report about the other person of the request waits for the
    organisation admins. The request itself is unchanged (block to stop it)."""
    request = MatchRequest.objects.select_related("requester__person", "recipient__person").get(
        pk=request.pk
    )
    _me, other = _party(actor, request)
    if not (text or "").strip():
        raise ApplicationError("Say what happened.", field="text")
    return connection_services.report_person(actor=actor, reported=other.person, text=text)
