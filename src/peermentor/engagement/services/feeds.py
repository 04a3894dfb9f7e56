"""Private calendar feeds: one secret address per user, stored only as a SHA-256 hash."""

import hashlib
import secrets

from django.core.exceptions import PermissionDenied
from django.db import transaction

from peermentor.accounts.models import User
from peermentor.core.services import audit_record
from peermentor.engagement.models import CalendarFeed

TOKEN_BYTES = 32


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _require_user(actor: User) -> None:
    if not (getattr(actor, "is_authenticated", False) and actor.is_active):
        raise PermissionDenied("Sign in first.")


@transaction.atomic
def calendar_feed_rotate(*, actor: User) -> str:
    """Afterwards the actor's calendar feed answers only to the returned token: any earlier
    address stops working. The token is not stored (only its hash), so show it now."""
    _require_user(actor)
    token = secrets.token_urlsafe(TOKEN_BYTES)
    feed, created = CalendarFeed.objects.select_for_update().get_or_create(
        user=actor, defaults={"token_hash": token_hash(token)}
    )
    if not created:
        feed.token_hash = token_hash(token)
        feed.save(update_fields=["token_hash", "created_at"])
    audit_record(
        actor=actor,
        action="calendar_feed.created" if created else "calendar_feed.rotated",
        target=feed,
    )
    return token


@transaction.atomic
def calendar_feed_revoke(*, actor: User) -> bool:
    """Afterwards the actor has no calendar feed; returns whether there was one."""
    _require_user(actor)
    feed = CalendarFeed.objects.select_for_update().filter(user=actor).first()
    if feed is None:
        return False
    audit_record(actor=actor, action="calendar_feed.revoked", target=feed)
    feed.delete()
    return True
