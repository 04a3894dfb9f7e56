"""Telling people the news of their requests: an in-app notice at once, and an e-mail from a
background task once the transaction has committed.

The e-mail task is defined here, beside the e-mail it sends, rather than in tasks.py: the
services enqueue it, and tasks.py runs a service (expiry), so a task module that the services
imported would close a loop (tasks → services → tasks). The order of imports is
tasks → services → notices.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.urls import reverse
from django_tasks import task

from peermentor.core.tasks import enqueue_on_commit
from peermentor.notifications.email import Email, emails_deliver, emails_queue
from peermentor.notifications.models import NotificationKind
from peermentor.notifications.services import notify
from peermentor.selfmatch.models import MatchRequest, RequestStatus

# Who hears of each outcome: the other side of whoever acted. A cancelled request goes to
# both, because it was nobody's choice.
NOTICE_TO: dict[str, tuple[str, ...]] = {
    RequestStatus.PENDING: ("recipient",),
    RequestStatus.ACCEPTED: ("requester",),
    RequestStatus.DECLINED: ("requester",),
    RequestStatus.WITHDRAWN: ("recipient",),
    RequestStatus.EXPIRED: ("requester",),
    RequestStatus.CANCELLED: ("requester", "recipient"),
}


def notify_in_app(request: MatchRequest, *, to_requester: bool, title: str, body: str) -> None:
    """An in-app notification (read in the app, e-mailed in the digest)."""
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


def notices_send_after_commit(request_ids: Sequence[int]) -> None:
    """E-mail the news of these requests once the transaction commits (never inside it)."""
    ids = sorted(set(request_ids))
    if not ids:
        return
    enqueue_on_commit(request_notices_task, request_ids=ids)


def request_notices_send(*, request_ids: Sequence[int]) -> int:
    """E-mail the news of each named request (sent, accepted, declined, withdrawn, expired,
    cancelled) to whoever must hear it, once per status: each request is claimed with a
    conditional UPDATE of `notified_status`, in the transaction that queues its e-mails, so a
    retried or duplicated task never mails the same news twice. Returns how many e-mails were
    sent now; one that fails is tried again by the periodic job (notifications/email.py)."""
    with transaction.atomic():
        claimed = _claim(request_ids)
        requests = MatchRequest.objects.filter(pk__in=claimed).select_related(
            "program", "requester__person", "recipient__person"
        )
        emails = [email for request in requests.order_by("pk") for email in _emails_for(request)]
        email_ids = emails_queue(emails=emails, purpose="selfmatch.request_notice")
    return emails_deliver(email_ids=email_ids)


@task()
def request_notices_task(request_ids: list[int]) -> int:
    return request_notices_send(request_ids=request_ids)


def _claim(request_ids: Sequence[int]) -> list[int]:
    """The ids whose current status nobody has been told of yet, marked as told."""
    claimed = []
    ids = sorted(set(request_ids))
    for pk, status in MatchRequest.objects.filter(pk__in=ids).values_list("pk", "status"):
        if (
            MatchRequest.objects.filter(pk=pk, status=status)
            .exclude(notified_status=F("status"))
            .update(notified_status=status)
            == 1
        ):
            claimed.append(pk)
    return claimed


def _emails_for(request: MatchRequest) -> list[Email]:
    emails = []
    for side in NOTICE_TO[request.status]:
        person = getattr(request, side).person
        other = (request.recipient if side == "requester" else request.requester).person
        if not person.email:
            continue
        body = render_to_string(
            "selfmatch/email_notice.txt",
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
        emails.append(
            Email(
                to=person.email,
                subject=_notice_subject(request, other.full_name, side == "requester"),
                body=body,
            )
        )
    return emails


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
