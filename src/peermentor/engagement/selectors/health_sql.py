"""Connection health counted in the database, for dashboards.

engagement/health.py holds the rule and engagement.selectors.program_health applies it in
Python, four queries per 900 connections. A dashboard only needs how many connections are in
each state, so this module writes the same rule as one SQL expression and lets the database
count (one query whatever the number of connections). tests/insights/test_health.py builds
every branch of the rule and checks that both give the same answer.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.db.models import (
    BooleanField,
    Case,
    CharField,
    Count,
    Exists,
    ExpressionWrapper,
    F,
    IntegerField,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Greatest

from peermentor.connections.models import Connection, ConnectionStatus
from peermentor.engagement.health import (
    LOW_PULSE,
    OVERDUE_ITEMS_MIN,
    STALL_DAYS,
    TOO_EARLY_DAYS,
    HealthStatus,
)
from peermentor.engagement.models import CheckIn, CircleSession, Meeting, MeetingStatus, PlanItem


def _utc_midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def _count(queryset: QuerySet[Any], column: str) -> Coalesce:
    return Coalesce(
        Subquery(
            queryset.order_by().values(column).annotate(n=Count("pk")).values("n"),
            output_field=IntegerField(),
        ),
        0,
    )


def with_health(connections: QuerySet[Connection], *, today: date, now: datetime) -> QuerySet:
    """`connections` narrowed to active ones, each annotated with `health` (a HealthStatus
    value) by the rule in engagement/health.py."""
    meetings = Meeting.objects.filter(connection_id=OuterRef("pk"))
    sessions = CircleSession.objects.filter(connection_id=OuterRef("pk"), is_cancelled=False)
    held_meetings = meetings.filter(status=MeetingStatus.HELD)
    past_sessions = sessions.filter(starts_at__lt=now)
    last_meeting = Subquery(
        held_meetings.order_by().values("connection_id").annotate(m=Max("starts_at")).values("m")
    )
    last_session = Subquery(
        past_sessions.order_by().values("connection_id").annotate(m=Max("starts_at")).values("m")
    )
    due_items = PlanItem.objects.filter(plan__connection_id=OuterRef("pk"), due_on__lt=today)
    later_pulse = CheckIn.objects.filter(
        connection_id=OuterRef("connection_id"), participant_id=OuterRef("participant_id")
    ).filter(
        Q(created_at__gt=OuterRef("created_at"))
        | Q(created_at=OuterRef("created_at"), pk__gt=OuterRef("pk"))
    )
    # A member's latest pulse is low: a low pulse with no later one by the same member.
    low_latest_pulse = CheckIn.objects.filter(
        connection_id=OuterRef("pk"), rating__lte=LOW_PULSE
    ).filter(~Exists(later_pulse))
    # age_days >= TOO_EARLY_DAYS, in UTC days as engagement counts them.
    old_enough = Q(started_at__lt=_utc_midnight(today - timedelta(days=TOO_EARLY_DAYS - 1)))
    stalled_before = _utc_midnight(today - timedelta(days=STALL_DAYS))
    return (
        connections.filter(status=ConnectionStatus.ACTIVE, started_at__isnull=False)
        .annotate(
            health_held=_count(held_meetings, "connection_id")
            + _count(past_sessions, "connection_id"),
            # Greatest of two maybe-NULL values, the same on SQLite (NULL wins) and
            # PostgreSQL (NULL ignored).
            health_last_held=Greatest(
                Coalesce(last_meeting, last_session), Coalesce(last_session, last_meeting)
            ),
            health_upcoming=ExpressionWrapper(
                Q(Exists(meetings.filter(status=MeetingStatus.SCHEDULED, starts_at__gte=now)))
                | Q(Exists(sessions.filter(starts_at__gte=now))),
                output_field=BooleanField(),
            ),
            health_due=_count(due_items, "plan__connection_id"),
            health_due_done=_count(due_items.filter(is_done=True), "plan__connection_id"),
            health_has_pulse=Exists(CheckIn.objects.filter(connection_id=OuterRef("pk"))),
            health_low_pulse=Exists(low_latest_pulse),
        )
        .annotate(
            health=Case(
                When(health_low_pulse=True, then=Value(HealthStatus.NEEDS_ATTENTION.value)),
                When(
                    old_enough
                    & Q(health_upcoming=False)
                    & (Q(health_held=0) | Q(health_last_held__lt=stalled_before)),
                    then=Value(HealthStatus.NEEDS_ATTENTION.value),
                ),
                When(
                    Q(health_due__gte=F("health_due_done") + OVERDUE_ITEMS_MIN)
                    & Q(health_due__gt=F("health_due_done") * 2),
                    then=Value(HealthStatus.NEEDS_ATTENTION.value),
                ),
                When(
                    ~old_enough & Q(health_held=0) & Q(health_has_pulse=False),
                    then=Value(HealthStatus.TOO_EARLY.value),
                ),
                default=Value(HealthStatus.ON_TRACK.value),
                output_field=CharField(),
            )
        )
    )


def health_counts(
    connections: QuerySet[Connection], *, today: date, now: datetime, by: str | None = None
) -> dict[Any, dict[str, int]]:
    """{group: {health status: count}} over the active connections of `connections`, grouped
    by the column `by` (e.g. "program_id", "track_id") or all under the key None. One query."""
    columns = ["health"] if by is None else [by, "health"]
    rows = (
        with_health(connections, today=today, now=now)
        .order_by()
        .values(*columns)
        .annotate(n=Count("pk"))
    )
    counts: dict[Any, dict[str, int]] = {}
    for row in rows:
        group = None if by is None else row[by]
        counts.setdefault(group, dict.fromkeys(HealthStatus.values, 0))[row["health"]] = row["n"]
    return counts
