"""Reads of the notifications app. Every list is the viewer's own."""

from dataclasses import dataclass
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import Http404

from peermentor.accounts.models import User
from peermentor.core.pagination import PAGE_SIZE
from peermentor.notifications.models import Notification


def _own(viewer: User) -> QuerySet[Notification]:
    if not getattr(viewer, "is_authenticated", False):
        return Notification.objects.none()
    return Notification.objects.filter(recipient_id=viewer.pk)


def unread_count(*, viewer: User) -> int:
    """One indexed COUNT (the partial index on unread rows)."""
    return _own(viewer).filter(read_at__isnull=True).count()


@dataclass
class NotificationCentre:
    page: Page
    unread: int
    unread_only: bool


def notification_centre(
    *, viewer: User, page_number: Any = None, unread_only: bool = False
) -> NotificationCentre:
    """The viewer's notifications, newest first, one page at a time. Three queries."""
    notifications = _own(viewer).only(
        "id", "kind", "title", "body", "url", "created_at", "read_at", "recipient_id"
    )
    if unread_only:
        notifications = notifications.filter(read_at__isnull=True)
    page = Paginator(notifications, PAGE_SIZE).get_page(page_number)
    return NotificationCentre(
        page=page, unread=unread_count(viewer=viewer), unread_only=unread_only
    )


def get_notification_for(*, viewer: User, pk: Any) -> Notification:
    """The viewer's own notification `pk`; anyone else's is 404 (it is private)."""
    try:
        return _own(viewer).get(pk=int(pk))
    except (Notification.DoesNotExist, TypeError, ValueError):
        raise Http404("No such notification.") from None
