"""E-mail digests: one message per person per day (or week) with everything new since the last.

How a send is claimed, so that two workers running at once never send the same digest and a
re-run sends nothing twice:

1. read who has notifications waiting for e-mail, and their preferences;
2. insert one Digest row per person due, for their current period ("d2026-11-27" or
   "w2026-48" in their own time zone), with this run's claim id; the unique (user, period)
   lets only one insert win, and the rows carrying our claim id are ours;
3. attach the waiting notifications to our digests in one UPDATE (only rows not yet in a
   digest), then render them and queue the e-mails (notifications/email.py), in the same
   transaction that marks the digests sent; the outbox sends them, and tries one that fails
   again later.

Notifications of kinds the person muted, and everything for people who chose no e-mail, are
marked skipped so that they are never e-mailed later. A constant number of queries per run
(per 900 people), whatever the number of notifications.
"""

import logging
import uuid
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import NamedTuple

from django.conf import settings
from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from peermentor.core.timezones import zone
from peermentor.notifications.email import Email, emails_deliver, emails_queue
from peermentor.notifications.models import Digest as DigestRow
from peermentor.notifications.models import (
    DigestFrequency,
    Notification,
    NotificationKind,
    NotificationPreference,
)
from peermentor.notifications.tokens import unsubscribe_token

logger = logging.getLogger(__name__)

CHUNK_SIZE = 900
# Digests go out on the first run at or after this hour of the recipient's own day, so
# nobody is e-mailed in the middle of their night. Run `send_nudges` at least hourly.
DIGEST_LOCAL_HOUR = 7
# Older notifications are not worth an e-mail any more (the centre still lists them).
EMAIL_MAX_AGE = timedelta(days=14)


class _Waiting(NamedTuple):
    pk: int
    recipient_id: int
    kind: str
    time_zone: str


class _Person(NamedTuple):
    frequency: str
    muted: frozenset[str]


def period_key(frequency: str, now: datetime, zone_name: str) -> str | None:
    """The person's current digest period, or None while it is too early in their day."""
    local = now.astimezone(zone(zone_name))
    if local.hour < DIGEST_LOCAL_HOUR:
        return None
    if frequency == DigestFrequency.WEEKLY:
        year, week, _ = local.date().isocalendar()
        return f"w{year}-{week:02d}"
    return f"d{local.date().isoformat()}"


def _preferences(user_ids: Sequence[int]) -> dict[int, _Person]:
    people: dict[int, _Person] = {}
    for start in range(0, len(user_ids), CHUNK_SIZE):
        for user_id, frequency, muted in NotificationPreference.objects.filter(
            user_id__in=user_ids[start : start + CHUNK_SIZE]
        ).values_list("user_id", "digest_frequency", "email_muted_kinds"):
            people[user_id] = _Person(frequency, frozenset(muted or ()))
    return people


def _mark_skipped(ids: Sequence[int]) -> None:
    for start in range(0, len(ids), CHUNK_SIZE):
        Notification.objects.filter(
            pk__in=ids[start : start + CHUNK_SIZE], digest__isnull=True
        ).update(is_email_skipped=True)


def _claim(users: dict[int, str], *, now: datetime) -> uuid.UUID:
    """Insert a digest per (user, period); those inserted carry the returned claim id."""
    claim = uuid.uuid4()
    DigestRow.objects.bulk_create(
        [
            DigestRow(user_id=user_id, period_key=key, claim=claim, created_at=now)
            for user_id, key in users.items()
        ],
        batch_size=CHUNK_SIZE,
        ignore_conflicts=True,
    )
    return claim


def _attach(claim: uuid.UUID, *, up_to_pk: int, since: datetime) -> None:
    """Give every waiting notification of a person we claimed to that person's digest."""
    ours = DigestRow.objects.filter(claim=claim)
    Notification.objects.filter(
        recipient_id__in=ours.values("user_id"),
        digest__isnull=True,
        is_email_skipped=False,
        pk__lte=up_to_pk,
        created_at__gte=since,
    ).update(digest_id=Subquery(ours.filter(user_id=OuterRef("recipient_id")).values("pk")[:1]))


def _email(digest: DigestRow, notifications: Sequence[Notification]) -> Email:
    user = digest.user
    groups: dict[str, list[Notification]] = defaultdict(list)
    for notification in notifications:
        groups[notification.kind].append(notification)
    sections = [
        (NotificationKind(kind).label, groups[kind])
        for kind in NotificationKind.values
        if groups.get(kind)
    ]
    unsubscribe_url = settings.SITE_URL + reverse(
        "notifications_unsubscribe", args=[unsubscribe_token(user)]
    )
    context = {
        "user": user,
        "sections": sections,
        "count": len(notifications),
        "site_url": settings.SITE_URL,
        "centre_url": settings.SITE_URL + reverse("notification_centre"),
        "preferences_url": settings.SITE_URL + reverse("notification_preferences"),
        "unsubscribe_url": unsubscribe_url,
        "is_weekly": digest.period_key.startswith("w"),
    }
    subject = render_to_string("notifications/email/digest_subject.txt", context)
    body = render_to_string("notifications/email/digest_body.txt", context)
    return Email(
        subject=subject,
        body=body,
        to=user.email,
        headers={
            # RFC 2369 and RFC 8058: mail clients offer a one-click "Unsubscribe" button that
            # POSTs "List-Unsubscribe=One-Click" to this address without signing in.
            "List-Unsubscribe": f"<{unsubscribe_url}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "Auto-Submitted": "auto-generated",
        },
    )


def digests_send(*, now: datetime | None = None) -> int:
    """Afterwards everyone whose digest is due has been sent one e-mail listing their
    notifications not e-mailed before (grouped by kind), at most once per period, honouring
    their frequency and muted kinds. Returns how many e-mails went out."""
    now = now or timezone.now()
    since = now - EMAIL_MAX_AGE
    waiting = [
        _Waiting(*row)
        for row in Notification.objects.filter(
            digest__isnull=True,
            is_email_skipped=False,
            created_at__gte=since,
            recipient__is_active=True,
        )
        .order_by("recipient_id", "pk")
        .values_list("pk", "recipient_id", "kind", "recipient__time_zone")
    ]
    if not waiting:
        return 0
    up_to_pk = max(row.pk for row in waiting)
    user_ids = sorted({row.recipient_id for row in waiting})
    people = _preferences(user_ids)
    default = _Person(DigestFrequency.DAILY, frozenset())
    skipped: list[int] = []
    wanted_users: set[int] = set()
    for row in waiting:
        person = people.get(row.recipient_id, default)
        if person.frequency == DigestFrequency.OFF or row.kind in person.muted:
            skipped.append(row.pk)
        else:
            wanted_users.add(row.recipient_id)
    _mark_skipped(skipped)
    if not wanted_users:
        return 0

    zones = {row.recipient_id: row.time_zone for row in waiting}
    due: dict[int, str] = {}
    for user_id in sorted(wanted_users):
        key = period_key(people.get(user_id, default).frequency, now, zones.get(user_id, ""))
        if key is not None:
            due[user_id] = key
    if not due:
        return 0
    claim = _claim(due, now=now)
    _attach(claim, up_to_pk=up_to_pk, since=since)

    digests = list(DigestRow.objects.filter(claim=claim).select_related("user").order_by("pk"))
    by_digest: dict[int | None, list[Notification]] = defaultdict(list)
    for notification in (
        Notification.objects.filter(digest__claim=claim)
        .only("id", "kind", "title", "body", "url", "created_at", "digest_id")
        .order_by("created_at", "pk")
    ):
        by_digest[notification.digest_id].append(notification)

    emails: list[Email] = []
    queued: list[int] = []
    empty: list[int] = []
    for digest in digests:
        notifications = by_digest.get(digest.pk, [])
        if notifications:
            emails.append(_email(digest, notifications))
            queued.append(digest.pk)
        else:
            empty.append(digest.pk)
    with transaction.atomic():
        # Nothing left to say (taken by another digest meanwhile): free the period.
        DigestRow.objects.filter(pk__in=empty).delete()
        email_ids = emails_queue(emails=emails, purpose="notifications.digest")
        for start in range(0, len(queued), CHUNK_SIZE):
            DigestRow.objects.filter(pk__in=queued[start : start + CHUNK_SIZE]).update(sent_at=now)
    return emails_deliver(email_ids=email_ids)
