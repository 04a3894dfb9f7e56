"""The queries behind a program's dashboard, each one aggregate query (or a fixed few)
whatever the size of the program: counts with conditional aggregation, one row per group or per
distinct value, never a row per participant brought into Python.

`ProgramQueries(scope)` computes a figure when first asked and keeps it, so the dashboard asks
each query once and an export asks only for the table it writes.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import cached_property
from typing import Any

from django.db.models import (
    Avg,
    BooleanField,
    Count,
    ExpressionWrapper,
    IntegerField,
    Max,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
)
from django.db.models.functions import Coalesce, Least

from peermentor.accounts.models import User
from peermentor.connections.models import MET_STATUSES, ConnectionMember, Reflection
from peermentor.engagement.health import HealthStatus
from peermentor.engagement.models import (
    CheckIn,
    CircleSession,
    Meeting,
    MeetingStatus,
    PlanItem,
    PlanItemKind,
)
from peermentor.enrollment.models import ParticipantStatus
from peermentor.insights.selectors import surveys
from peermentor.insights.selectors.expressions import DaysBetween
from peermentor.insights.selectors.health import health_counts
from peermentor.insights.selectors.scope import Scope, has_met_connection
from peermentor.insights.selectors.sql import histograms
from peermentor.insights.tables import SUPPRESSED, mean_of, percent, percentile

MATCH_RATE_AIM = 70.0
# Breakdown → (id column, name column) of a participant.
BREAKDOWN_COLUMNS = {
    "track": ("track_id", "track__name"),
    "department": ("person__department_id", "person__department__name"),
    "site": ("person__site_id", "person__site__name"),
}
NO_SURVEY_DATA = "No survey data yet."


def histogram_of(queryset: QuerySet[Any], expression: Any) -> list[tuple[Any, int]]:
    """(value, how many rows) for each distinct value of `expression`; rows where it is NULL
    (nothing to measure yet) are left out. One row per distinct value comes back, so callers
    get percentiles and means without a row per person."""
    rows = (
        queryset.annotate(insights_value=expression)
        .order_by()
        .values_list("insights_value")
        .annotate(n=Count("pk"))
    )
    return [(value, n) for value, n in rows if value is not None]


def _earliest(first: Any, second: Any) -> Least:
    """The earlier of two maybe-NULL values, the same on SQLite and PostgreSQL."""
    return Least(Coalesce(first, second), Coalesce(second, first))


def _first_held(path: str, now: Any) -> Least:
    """The first meeting held (or circle session past) of the connection at `path`, as an
    aggregate over the joined meetings and sessions."""
    return _earliest(
        Min(
            f"{path}meetings__starts_at",
            filter=Q(**{f"{path}meetings__status": MeetingStatus.HELD}),
        ),
        Min(
            f"{path}circle_sessions__starts_at",
            filter=Q(
                **{
                    f"{path}circle_sessions__is_cancelled": False,
                    f"{path}circle_sessions__starts_at__lt": now,
                }
            ),
        ),
    )


def _held_meetings(connection_ref: str, now: Any) -> tuple[QuerySet, QuerySet]:
    meetings = Meeting.objects.filter(status=MeetingStatus.HELD, **{connection_ref: OuterRef("pk")})
    sessions = CircleSession.objects.filter(
        is_cancelled=False, starts_at__lt=now, **{connection_ref: OuterRef("pk")}
    )
    return meetings, sessions


def _held_count(connection_ref: str, now: Any) -> Any:
    meetings, sessions = _held_meetings(connection_ref, now)

    def count(queryset: QuerySet) -> Coalesce:
        return Coalesce(
            Subquery(
                queryset.order_by().values(connection_ref).annotate(n=Count("pk")).values("n"),
                output_field=IntegerField(),
            ),
            0,
        )

    return count(meetings) + count(sessions)


def by_period(days: list[tuple[date, int]], kind: str) -> dict[date, int]:
    """Day counts summed per week (starting Monday) or per month."""
    totals: dict[date, int] = {}
    for day, count in days:
        start = day.replace(day=1) if kind == "month" else day - timedelta(days=day.weekday())
        totals[start] = totals.get(start, 0) + count
    return totals


class ProgramQueries:
    """The figures of one program for one scope (program, track, period), each query run once
    and kept; the table mixins and ProgramFigures build on them."""

    def __init__(self, scope: Scope, *, viewer: User) -> None:
        self.scope = scope
        self.viewer = viewer
        self.threshold = scope.program.anonymity_threshold

    @cached_property
    def participant_groups(self) -> list[dict[str, Any]]:
        """Participants counted per (status, readiness, track, department, site), with how
        many are matched: one scan of the program's participants feeds the funnel, the cards
        and the three breakdowns. Rows are bounded by the number of groups, not of people."""
        return list(
            self.scope.participants()
            .annotate(
                insights_met=has_met_connection(),
                insights_ready=ExpressionWrapper(
                    Q(ready_at__isnull=False), output_field=BooleanField()
                ),
            )
            .order_by()
            .values(
                "status",
                "insights_ready",
                *(column for columns in BREAKDOWN_COLUMNS.values() for column in columns),
            )
            .annotate(
                n=Count("pk"),
                matched=Count("pk", filter=Q(insights_met=True)),
                first_enrolled_at=Min("enrolled_at"),
            )
        )

    @cached_property
    def participant_counts(self) -> dict[str, Any]:
        groups = self.participant_groups

        def total(**wanted: Any) -> int:
            return sum(row["n"] for row in groups if all(row[k] == v for k, v in wanted.items()))

        enrolled = [row for row in groups if row["status"] == ParticipantStatus.ENROLLED]
        counts: dict[str, Any] = {
            "pending": total(status=ParticipantStatus.PENDING_APPROVAL),
            "enrolled": sum(row["n"] for row in enrolled),
            "ready": total(insights_ready=True),
            "declined": total(status=ParticipantStatus.DECLINED),
            "withdrawn": total(status=ParticipantStatus.WITHDRAWN),
            "matched": sum(row["matched"] for row in enrolled),
            "waiting": sum(row["n"] - row["matched"] for row in enrolled if row["insights_ready"]),
            "first_enrolled_at": min((row["first_enrolled_at"] for row in groups), default=None),
        }
        counts["invited"] = self.scope.invitations().count()
        return counts

    @property
    def match_rate(self) -> float | None:
        counts = self.participant_counts
        return percent(counts["matched"], counts["enrolled"])

    @cached_property
    def time_histograms(self) -> dict[str, list[tuple[float, int]]]:
        """Day histograms of the three waiting times: per participant (enrollment to their
        first connection, and to their first meeting held) and per connection (start to its
        first meeting held). Two statements, each grouping once and counting per value."""
        participants = self.scope.participants().exclude(status=ParticipantStatus.DECLINED)
        enrolled = Max("participant__enrolled_at")
        per_person = (
            ConnectionMember.objects.filter(
                participant__in=participants.values("pk"), connection__status__in=MET_STATUSES
            )
            .values("participant_id")
            .annotate(
                to_match=DaysBetween(Min("connection__started_at"), enrolled),
                to_meeting=DaysBetween(_first_held("connection__", self.scope.at), enrolled),
            )
        )
        per_connection = (
            self.scope.met_connections()
            .values("pk")
            .annotate(to_meeting=DaysBetween(_first_held("", self.scope.at), Max("started_at")))
        )
        people = histograms(per_person, ["to_match", "to_meeting"])
        return {
            "enrollment_to_match": people["to_match"],
            "match_to_first_meeting": histograms(per_connection, ["to_meeting"])["to_meeting"],
            "enrollment_to_first_meeting": people["to_meeting"],
        }

    @cached_property
    def meeting_histogram(self) -> list[tuple[float, int]]:
        """(meetings held, connections) over connections that really happened."""
        rows = (
            self.scope.met_connections()
            .annotate(insights_held=_held_count("connection_id", self.scope.at))
            .order_by()
            .values("insights_held")
            .annotate(n=Count("pk"))
        )
        return [(row["insights_held"], row["n"]) for row in rows]

    @cached_property
    def plan_counts(self) -> dict[str, int]:
        due = Q(due_on__lt=self.scope.today)
        milestone = Q(kind=PlanItemKind.MILESTONE)
        return PlanItem.objects.filter(
            plan__connection__in=self.scope.met_connections().values("pk")
        ).aggregate(
            items=Count("pk"),
            done=Count("pk", filter=Q(is_done=True)),
            due=Count("pk", filter=due),
            due_done=Count("pk", filter=due & Q(is_done=True)),
            milestones=Count("pk", filter=milestone),
            milestones_done=Count("pk", filter=milestone & Q(is_done=True)),
        )

    @cached_property
    def health(self) -> dict[str, int]:
        counts = health_counts(self.scope.connections(), today=self.scope.today, now=self.scope.at)
        return counts.get(None, dict.fromkeys(HealthStatus.values, 0))

    @cached_property
    def pulse(self) -> dict[str, Any]:
        return CheckIn.objects.filter(
            connection__in=self.scope.connections().values("pk")
        ).aggregate(respondents=Count("participant_id", distinct=True), average=Avg("rating"))

    @cached_property
    def reflection_ratings(self) -> dict[str, Any]:
        return Reflection.objects.filter(
            connection__in=self.scope.connections().values("pk")
        ).aggregate(respondents=Count("participant_id", distinct=True), average=Avg("rating"))

    @cached_property
    def survey_summary(self) -> dict[str, Any] | None:
        return surveys.satisfaction_summary(viewer=self.viewer, scope=self.scope)

    # --- figures for cards and the report ----------------------------------------------------
    def median_days(self, key: str) -> float | None:
        return percentile(self.time_histograms[key], 0.5)

    @property
    def meetings_per_connection(self) -> float | None:
        return mean_of(self.meeting_histogram)

    @property
    def milestone_completion(self) -> float | None:
        counts = self.plan_counts
        return percent(counts["milestones_done"], counts["milestones"])

    def _rating(self, figures: dict[str, Any]) -> Any:
        if not figures["respondents"]:
            return None
        if figures["respondents"] < self.threshold:
            return SUPPRESSED
        return round(figures["average"], 1)

    @property
    def average_pulse(self) -> Any:
        return self._rating(self.pulse)
