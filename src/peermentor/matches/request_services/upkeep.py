"""Upkeep of requests: expiry, e-mail notices, and the program's self-match settings."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from peermentor.core.models import AuditEvent
from peermentor.core.services import audit_record
from peermentor.matches.models_requests import (
    MatchRequest,
    RequestStatus,
    SelfMatchSettings,
)
from peermentor.matches.request_services._common import (
    AUDIT_TARGET,
    _after_commit_notify,
    _full_clean,
)
from peermentor.notifications.email import Email, emails_deliver, emails_queue
from peermentor.programs.models import Program
from peermentor.programs.permissions import can_manage_program


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


def self_match_settings_copy(*, source: Program, target: Program) -> SelfMatchSettings | None:
    """For `programs.services.program_copy`: afterwards `target` asks as `source` does (expiry,
    pending limits). A source without saved settings uses the defaults, and so will the copy:
    nothing is written. The copy itself is audited by the caller (`program.created`)."""
    found = SelfMatchSettings.objects.filter(program_id=source.pk).first()
    if found is None:
        return None
    return SelfMatchSettings.objects.create(
        program=target,
        request_expiry_days=found.request_expiry_days,
        max_pending_incoming=found.max_pending_incoming,
        max_pending_outgoing=found.max_pending_outgoing,
    )


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
    conditional UPDATE of `notified_status`, in the transaction that queues its e-mails, so a
    retried or duplicated task never mails the same news twice. Returns how many e-mails were
    sent now; one that fails is tried again by the periodic job (notifications/email.py)."""
    from django.conf import settings
    from django.db.models import F
    from django.template.loader import render_to_string

    ids = sorted(set(request_ids))
    with transaction.atomic():
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
        emails = []
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
                            f"{settings.SITE_URL}"
                            f"{reverse('match_request_detail', args=[request.pk])}"
                        ),
                    },
                )
                emails.append(
                    Email(
                        to=person.email,
                        subject=_notice_subject(request, other.full_name, side == "requester"),
                        body=body,
                    )
                )
        email_ids = emails_queue(emails=emails, purpose="selfmatch.request_notice")
    return emails_deliver(email_ids=email_ids)


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
