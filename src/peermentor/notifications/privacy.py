"""Notifications' part of a subject-access or erasure request (see core/privacy.py)."""

from typing import Any

from django.db import transaction
from django.db.models import Q

from peermentor.accounts.models import User
from peermentor.core.privacy import records
from peermentor.notifications.models import (
    Digest,
    Notification,
    NotificationPreference,
    OutgoingEmail,
)


def personal_data(*, user: User, email: str) -> dict[str, Any]:
    """What the app told `user`: notifications, digests, e-mail preferences and the e-mails
    kept for `email` (four queries)."""
    return {
        "notifications": records(
            Notification.objects.filter(recipient=user),
            ("kind", "title", "body", "url", "created_at", "read_at"),
        ),
        "email_digests": records(
            Digest.objects.filter(user=user), ("period_key", "created_at", "sent_at")
        ),
        "notification_preferences": records(
            NotificationPreference.objects.filter(user=user),
            ("digest_frequency", "email_muted_kinds", "unsubscribed_at", "updated_at"),
        ),
        "emails": records(
            OutgoingEmail.objects.filter(to__iexact=email),
            ("purpose", "subject", "created_at", "sent_at", "given_up_at"),
        ),
    }


@transaction.atomic
def personal_data_erase(*, user: User | None, email: str, name: str, replacement: str) -> int:
    """Afterwards nothing is kept of what was sent to `user` or `email`, and `name` no longer
    appears in what was sent to anyone else (a partner's "Ana asked you to connect" reads
    "Former employee #12 asked you to connect"). Returns how many others' messages changed."""
    if user is not None:
        Notification.objects.filter(recipient=user).delete()
        Digest.objects.filter(user=user).delete()
        NotificationPreference.objects.filter(user=user).delete()
    OutgoingEmail.objects.filter(to__iexact=email).delete()
    if len(name.strip()) < 5:
        # A very short name would match inside other words ("Al" in "Alert"): left alone.
        return 0
    changed = 0
    mentions = Q(title__contains=name) | Q(body__contains=name)
    notifications = list(Notification.objects.filter(mentions))
    for notification in notifications:
        notification.title = notification.title.replace(name, replacement)
        notification.body = notification.body.replace(name, replacement)
    Notification.objects.bulk_update(notifications, ["title", "body"], batch_size=500)
    changed += len(notifications)
    emails = list(OutgoingEmail.objects.filter(Q(subject__contains=name) | Q(body__contains=name)))
    for outgoing in emails:
        outgoing.subject = outgoing.subject.replace(name, replacement)
        outgoing.body = outgoing.body.replace(name, replacement)
    OutgoingEmail.objects.bulk_update(emails, ["subject", "body"], batch_size=500)
    return changed + len(emails)
