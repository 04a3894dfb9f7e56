"""Calendar feeds: who a feed token belongs to, and what their feed lists."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Exists, OuterRef, Prefetch
from django.utils import timezone

from peermentor.accounts.models import User
from peermentor.connections.models import ConnectionMember
from peermentor.engagement.models import (
    TIMED_STATUSES,
    CalendarFeed,
    CircleSession,
    Meeting,
    MeetingStatus,
    SessionRsvp,
)
from peermentor.engagement.services.feeds import token_hash

FEED_PAST_DAYS = 90
FEED_MAX_EVENTS = 500


def feed_owner(token: str) -> User | None:
    """The active user whose feed answers to `token`, or None (unknown, revoked, inactive)."""
    if not token or len(token) > 200:
        return None
    feed = (
        CalendarFeed.objects.select_related("user")
        .filter(token_hash=token_hash(token), user__is_active=True)
        .first()
    )
    return feed.user if feed else None


@dataclass
class FeedItems:
    meetings: list[Meeting]
    sessions: list[CircleSession]


def feed_items(*, user: User, now: datetime | None = None) -> FeedItems:
    """The user's meetings with a time (and cancellations of them) and the sessions of their
    circles they did not decline, from 90 days ago on, at most 500 of each."""
    now = now or timezone.now()
    since = now - timedelta(days=FEED_PAST_DAYS)
    mine = ConnectionMember.objects.filter(
        connection=OuterRef("connection"), participant__person__user_id=user.pk
    )
    members = Prefetch(
        "connection__members",
        queryset=ConnectionMember.objects.select_related("participant__person").order_by("id"),
    )
    meetings = list(
        Meeting.objects.filter(Exists(mine), starts_at__gte=since)
        .filter(status__in=[*TIMED_STATUSES, MeetingStatus.CANCELLED])
        .select_related("proposed_by", "connection")
        .prefetch_related(members)
        .order_by("starts_at", "pk")[:FEED_MAX_EVENTS]
    )
    current = ConnectionMember.objects.filter(
        connection=OuterRef("connection"), participant__person__user_id=user.pk, is_current=True
    )
    declined = SessionRsvp.objects.filter(
        session=OuterRef("pk"), participant__person__user_id=user.pk, is_attending=False
    )
    sessions = list(
        CircleSession.objects.filter(Exists(current), starts_at__gte=since)
        .exclude(Exists(declined))
        .order_by("starts_at", "pk")[:FEED_MAX_EVENTS]
    )
    return FeedItems(meetings=meetings, sessions=sessions)


def calendar_feed_state(*, viewer: User) -> CalendarFeed | None:
    return CalendarFeed.objects.filter(user_id=viewer.pk).first()
