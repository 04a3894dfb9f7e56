"""What a program's managers see of each connection on its list: health, the last meeting held,
the last check-in and plan progress, and the filters "needing attention" and "no meeting yet".
A fixed number of queries per page, whatever the size of the program."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Exists, Max, OuterRef, Q
from django.utils import timezone

from peermentor.connections.models import Connection
from peermentor.core.timezones import today as utc_today
from peermentor.engagement.health import Health, HealthStatus
from peermentor.engagement.models import CheckIn, CircleSession, Meeting, MeetingStatus, PlanItem
from peermentor.engagement.selectors.health import health_for_connections
from peermentor.engagement.selectors.health_sql import with_health

ACTIVITY_FILTERS = {
    HealthStatus.NEEDS_ATTENTION.value: "Needing attention",
    HealthStatus.ON_TRACK.value: "On track",
    HealthStatus.TOO_EARLY.value: "Too early to tell",
    "no_meeting": "No meeting held yet",
}


@dataclass(frozen=True)
class Activity:
    health: Health | None  # None unless the connection is active
    last_meeting_at: datetime | None
    last_check_in_at: datetime | None
    items_done: int
    items_total: int


def activity_filter(program_id: int, value: str) -> Q | None:
    """A condition on Connection for one of ACTIVITY_FILTERS (None for any other value)."""
    if value == "no_meeting":
        now = timezone.now()
        held = Meeting.objects.filter(connection=OuterRef("pk"), status=MeetingStatus.HELD)
        sessions = CircleSession.objects.filter(
            connection=OuterRef("pk"), is_cancelled=False, starts_at__lt=now
        )
        return ~Q(Exists(held)) & ~Q(Exists(sessions)) & Q(started_at__isnull=False)
    if value in HealthStatus.values:
        matching = with_health(
            Connection.objects.filter(program_id=program_id), today=utc_today(), now=timezone.now()
        ).filter(health=value)
        return Q(pk__in=matching.values("pk"))
    return None


def connection_activity(connection_ids: Sequence[int]) -> dict[int, Activity]:
    """Activity of each listed connection: health by the rule in engagement/health.py (four
    queries), then three grouped queries for meetings, check-ins and plan items."""
    ids = list(connection_ids)
    if not ids:
        return {}
    health = health_for_connections(ids)
    meetings = dict(
        Meeting.objects.filter(connection_id__in=ids, status=MeetingStatus.HELD)
        .order_by()
        .values("connection_id")
        .annotate(last=Max("starts_at"))
        .values_list("connection_id", "last")
    )
    check_ins = dict(
        CheckIn.objects.filter(connection_id__in=ids)
        .order_by()
        .values("connection_id")
        .annotate(last=Max("created_at"))
        .values_list("connection_id", "last")
    )
    plans = {
        row["plan__connection_id"]: (row["done"], row["total"])
        for row in PlanItem.objects.filter(plan__connection_id__in=ids)
        .values("plan__connection_id")
        .annotate(total=Count("pk"), done=Count("pk", filter=Q(is_done=True)))
        .order_by()
    }
    return {
        pk: Activity(
            health=health.get(pk),
            last_meeting_at=meetings.get(pk),
            last_check_in_at=check_ins.get(pk),
            items_done=plans.get(pk, (0, 0))[0],
            items_total=plans.get(pk, (0, 0))[1],
        )
        for pk in ids
    }
