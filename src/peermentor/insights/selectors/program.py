"""The program dashboard's figures, each one aggregate query (or a fixed few) whatever the size
of the program: counts with conditional aggregation, one row per group or per distinct value,
never a row per participant brought into Python.

`ProgramFigures(scope)` computes a figure when first asked and keeps it, so the dashboard asks
each query once and an export asks only for the table it writes.
"""

from __future__ import annotations

from collections.abc import Callable
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
from django.utils import timezone
from django.utils.formats import date_format

from peermentor.connections.models import (
    MET_STATUSES,
    ConnectionMember,
    ConnectionStatus,
    EndReason,
    Reflection,
)
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
from peermentor.insights.selectors.expressions import DaysBetween, UtcDate
from peermentor.insights.selectors.health import health_counts
from peermentor.insights.selectors.scope import Scope, has_met_connection
from peermentor.insights.selectors.sql import histograms
from peermentor.insights.tables import (
    SUPPRESSED,
    ChartSpec,
    Group,
    Table,
    mean_of,
    percent,
    percentile,
    suppress_small_groups,
)
from peermentor.matches.models import MatchRun, RunStatus, UnmatchedEntry

MATCH_RATE_AIM = 70.0
# Breakdown → (id column, name column) of a participant.
BREAKDOWN_COLUMNS = {
    "track": ("track_id", "track__name"),
    "department": ("person__department_id", "person__department__name"),
    "site": ("person__site_id", "person__site__name"),
}
NO_SURVEY_DATA = "No survey data yet."


def _histogram(queryset: QuerySet[Any], expression: Any) -> list[tuple[float, int]]:
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


def _by_period(days: list[tuple[date, int]], kind: str) -> dict[date, int]:
    """Day counts summed per week (starting Monday) or per month."""
    totals: dict[date, int] = {}
    for day, count in days:
        start = day.replace(day=1) if kind == "month" else day - timedelta(days=day.weekday())
        totals[start] = totals.get(start, 0) + count
    return totals


class ProgramFigures:
    """Every figure of one program's dashboard for one scope (program, track, period)."""

    def __init__(self, scope: Scope, *, viewer: Any) -> None:
        self.scope = scope
        self.viewer = viewer
        self.threshold = scope.program.anonymity_threshold

    # --- queries, each run once ------------------------------------------------------------
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

    # --- tables ----------------------------------------------------------------------------
    def funnel(self) -> Table:
        counts = self.participant_counts
        stages = [
            ("Invited", counts["invited"]),
            ("Enrolled", counts["enrolled"]),
            ("Ready", counts["ready"]),
            ("Matched", counts["matched"]),
        ]
        return Table(
            key="funnel",
            title="Enrollment funnel",
            description=(
                "People invited, enrolled (approved and still taking part), ready (profile and "
                "training done) and matched (in a connection that started)."
            ),
            columns=["Stage", "People"],
            rows=[[name, value] for name, value in stages],
            chart=ChartSpec(kind="funnel"),
            note=(
                f"Also: {counts['pending']} waiting for approval, {counts['withdrawn']} "
                f"withdrawn, {counts['declined']} not approved. People can enroll without an "
                "invitation, so a stage can be larger than the one before it."
            ),
        )

    def match_rate_trend(self) -> Table:
        """Cumulative enrolled, matched and match rate at the end of each week (or month)."""
        first = self.participant_counts["first_enrolled_at"]
        kind = "week"
        if first is not None and (self.scope.at - first).days > 26 * 7:
            kind = "month"
        enrolled_now = self.scope.participants().filter(status=ParticipantStatus.ENROLLED)
        # Counted per UTC day in the database (a few hundred rows at most), then gathered
        # into weeks or months here.
        enrolled_by = _by_period(_histogram(enrolled_now, UtcDate("enrolled_at")), kind)
        first_match_day = (
            ConnectionMember.objects.filter(
                participant__in=enrolled_now.values("pk"), connection__status__in=MET_STATUSES
            )
            .values("participant_id")
            .annotate(day=UtcDate(Min("connection__started_at")))
        )
        matched_by = _by_period(histograms(first_match_day, ["day"])["day"], kind)
        rows, enrolled_total, matched_total = [], 0, 0
        for start in sorted(set(enrolled_by) | set(matched_by)):
            enrolled_total += enrolled_by.get(start, 0)
            matched_total += matched_by.get(start, 0)
            label = date_format(start, "M Y" if kind == "month" else "j M Y")
            rows.append(
                [label, enrolled_total, matched_total, percent(matched_total, enrolled_total)]
            )
        return Table(
            key="match_rate",
            title="Match rate over time",
            description=(
                f"Share of enrolled participants in a connection, by the {kind} they enrolled "
                f"or were matched in (cumulative); programs aim for at least "
                f"{MATCH_RATE_AIM:.0f} %."
            ),
            columns=[
                "Week starting" if kind == "week" else "Month",
                "Enrolled so far",
                "Matched so far",
                "Match rate (%)",
            ],
            rows=rows,
            chart=ChartSpec(
                kind="line",
                value_columns=(3,),
                aim=MATCH_RATE_AIM,
                aim_label=f"Aim {MATCH_RATE_AIM:.0f} %",
                max_value=100.0,
                unit="%",
            ),
            extra={"match_rate": self.match_rate},
        )

    def unmatched(self) -> Table:
        runs = MatchRun.objects.filter(program=self.scope.program, status=RunStatus.SUCCEEDED)
        if self.scope.track is not None:
            runs = runs.filter(Q(track=self.scope.track) | Q(track__isnull=True))
        run = runs.order_by("-created_at", "-id").only("pk", "created_at", "finished_at").first()
        rows: list[list[Any]] = []
        if run is not None:
            entries = UnmatchedEntry.objects.filter(run=run)
            if self.scope.track is not None:
                entries = entries.filter(participant__track=self.scope.track)
            rows = [
                [reason, n]
                for reason, n in entries.order_by()
                .values_list("reason")
                .annotate(n=Count("pk"))
                .order_by("-n", "reason")
            ]
        when = (
            date_format(timezone.localtime(run.finished_at or run.created_at), "j M Y")
            if run
            else ""
        )
        return Table(
            key="unmatched",
            title="Left out by the latest match run, and why",
            description="People the latest finished match run could not place, by reason.",
            columns=["Reason", "People"],
            rows=rows,
            chart=ChartSpec(kind="bar"),
            note=(
                f"Match run of {when}. "
                f"{self.participant_counts['waiting']} ready participants have no connection "
                "yet."
                if run
                else "No finished match run yet."
            ),
            empty_message="Nobody was left out." if run else "No finished match run yet.",
        )

    def connections_by_state(self) -> Table:
        counts = dict(
            self.scope.connections().order_by().values_list("status").annotate(n=Count("pk"))
        )
        rows = [
            [status.label, counts.get(status.value, 0)]
            for status in ConnectionStatus
            if counts.get(status.value, 0) or status in MET_STATUSES
        ]
        return Table(
            key="connections",
            title="Connections by state",
            description="Connections created in the period, by where they stand now.",
            columns=["State", "Connections"],
            rows=rows if any(row[1] for row in rows) else [],
            chart=ChartSpec(kind="bar"),
            empty_message="No connections yet.",
        )

    def time_to_match(self) -> Table:
        labels = {
            "enrollment_to_match": "Enrollment to match",
            "match_to_first_meeting": "Match to first meeting",
            "enrollment_to_first_meeting": "Enrollment to first meeting",
        }
        rows = []
        for key, label in labels.items():
            histogram = self.time_histograms[key]
            count = sum(n for _, n in histogram)
            if count:
                rows.append([label, count, percentile(histogram, 0.5), percentile(histogram, 0.75)])
        return Table(
            key="time_to_match",
            title="Time to match and to first meeting",
            description=(
                "Days from enrolling to the first connection, from a connection's start to its "
                "first meeting held, and from enrolling to one's first meeting held."
            ),
            columns=["Measure", "Counted", "Median (days)", "75th percentile (days)"],
            rows=rows,
            chart=ChartSpec(kind="bar", value_columns=(2,), unit="days"),
            note="Counted: participants for the enrollment measures, connections for the other.",
            empty_message="Nobody has been matched yet.",
        )

    def meetings(self) -> Table:
        buckets = [("None yet", 0, 0), ("1", 1, 1), ("2", 2, 2), ("3 to 5", 3, 5)]
        rows = [
            [label, sum(n for held, n in self.meeting_histogram if low <= held <= high)]
            for label, low, high in buckets
        ]
        rows.append(["6 or more", sum(n for held, n in self.meeting_histogram if held >= 6)])
        total = sum(n for _, n in self.meeting_histogram)
        return Table(
            key="meetings",
            title="Meetings held per connection",
            description=(
                "Connections that started, by how many meetings (or circle sessions) they held."
            ),
            columns=["Meetings held", "Connections"],
            rows=rows if total else [],
            chart=ChartSpec(kind="bar"),
            note=f"Average: {self.meetings_per_connection} meetings per connection."
            if total
            else "",
            empty_message="No connection has started yet.",
            extra={"average": self.meetings_per_connection},
        )

    def plan_progress(self) -> Table:
        counts = self.plan_counts
        rows = [
            [
                "All plan items",
                counts["items"],
                counts["done"],
                percent(counts["done"], counts["items"]),
            ],
            [
                "Items due by today",
                counts["due"],
                counts["due_done"],
                percent(counts["due_done"], counts["due"]),
            ],
            [
                "Milestones",
                counts["milestones"],
                counts["milestones_done"],
                percent(counts["milestones_done"], counts["milestones"]),
            ],
        ]
        return Table(
            key="plan_progress",
            title="Plan progress",
            description="Engagement-plan items of connections that started, and how many are done.",
            columns=["Items", "Total", "Done", "Done (%)"],
            rows=[row for row in rows if row[1]],
            chart=ChartSpec(kind="bar", value_columns=(3,), max_value=100.0, unit="%"),
            empty_message="No engagement plans yet.",
        )

    def health_table(self) -> Table:
        counts = self.health
        total = sum(counts.values())
        order = [HealthStatus.ON_TRACK, HealthStatus.NEEDS_ATTENTION, HealthStatus.TOO_EARLY]
        return Table(
            key="health",
            title="Connection health",
            description=(
                "Active connections on track, needing attention (a low pulse, no meeting for "
                "too long, plan items overdue) or too new to tell."
            ),
            columns=["Health", "Connections", "Share (%)"],
            rows=[[s.label, counts[s.value], percent(counts[s.value], total)] for s in order]
            if total
            else [],
            chart=ChartSpec(kind="bar"),
            empty_message="No active connections.",
        )

    def satisfaction(self) -> Table:
        pulse, reflections = self.pulse, self.reflection_ratings
        rows: list[list[Any]] = [
            ["Check-in pulse (1 to 5)", pulse["respondents"], self._rating(pulse)],
            [
                "Closing reflection rating (1 to 5)",
                reflections["respondents"],
                self._rating(reflections),
            ],
        ]
        survey = self.survey_summary
        if survey is None:
            rows.append(["Survey satisfaction (1 to 5)", None, NO_SURVEY_DATA])
            rows.append(["Likelihood to recommend (NPS, -100 to 100)", None, NO_SURVEY_DATA])
        else:
            rows.append(
                [
                    "Survey satisfaction (1 to 5)",
                    survey["satisfaction_people"],
                    SUPPRESSED if survey["satisfaction_hidden"] else survey["average_rating"],
                ]
            )
            rows.append(
                [
                    "Likelihood to recommend (NPS, -100 to 100)",
                    survey["nps_people"],
                    SUPPRESSED if survey["nps_hidden"] else survey["nps"],
                ]
            )
        return Table(
            key="satisfaction",
            title="Satisfaction and likelihood to recommend",
            description=(
                "Average ratings and the net promoter score; a figure from fewer people than "
                f"the program's anonymity threshold ({self.threshold}) is hidden."
            ),
            columns=["Measure", "Respondents", "Result"],
            rows=rows,
        )

    def closure_reasons(self) -> Table:
        labels = dict(EndReason.choices)
        rows = [
            [
                f"{ConnectionStatus(status).label}: {labels.get(reason, 'no reason given')}",
                n,
            ]
            for status, reason, n in self.scope.ended_connections()
            .filter(status__in=[ConnectionStatus.COMPLETED, ConnectionStatus.CLOSED_EARLY])
            .order_by()
            .values_list("status", "end_reason")
            .annotate(n=Count("pk"))
            .order_by("-n", "status", "end_reason")
        ]
        return Table(
            key="closure_reasons",
            title="Why connections ended",
            description="Connections that ended in the period, by how and why.",
            columns=["Ending", "Connections"],
            rows=rows,
            chart=ChartSpec(kind="bar"),
            empty_message="No connection has ended yet.",
        )

    def _breakdown(self, key: str, by: str, title: str, none: str) -> Table:
        field, name_field = BREAKDOWN_COLUMNS[by]
        sizes: dict[Any, list[Any]] = {}
        for row in self.participant_groups:
            if row["status"] != ParticipantStatus.ENROLLED:
                continue
            group = sizes.setdefault(row[field], [row[name_field] or none, 0, 0])
            group[1] += row["n"]
            group[2] += row["matched"]
        groups = [
            Group(name=name, size=size, counts=[matched]) for name, size, matched in sizes.values()
        ]
        shown, hidden = suppress_small_groups(
            groups,
            threshold=self.threshold,
            derive=lambda size, counts: [int(counts[0]), percent(counts[0], size)],
        )
        return Table(
            key=key,
            title=title,
            description="Enrolled participants, how many are matched, and the match rate.",
            columns=[title.split(" by ")[-1].capitalize(), "Enrolled", "Matched", "Match rate (%)"],
            rows=shown,
            chart=ChartSpec(
                kind="bar",
                value_columns=(3,),
                aim=MATCH_RATE_AIM,
                aim_label=f"Aim {MATCH_RATE_AIM:.0f} %",
                max_value=100.0,
                unit="%",
            ),
            note=(
                f"Groups of fewer than {self.threshold} people are combined so that nobody can "
                "be singled out."
                if hidden
                else ""
            ),
            hidden_groups=hidden,
            empty_message="Nobody enrolled yet.",
        )

    def by_track(self) -> Table:
        return self._breakdown("by_track", "track", "Match rate by track", "No track")

    def by_department(self) -> Table:
        return self._breakdown(
            "by_department", "department", "Match rate by department", "No department"
        )

    def by_site(self) -> Table:
        return self._breakdown("by_site", "site", "Match rate by site", "No site")

    def satisfaction_by(self, group_by: str) -> Table:
        rows = surveys.satisfaction_by_group(
            viewer=self.viewer, scope=self.scope, group_by=group_by
        )
        return Table(
            key=f"satisfaction_by_{group_by}",
            title=f"Survey satisfaction by {group_by}",
            description=(
                "Average survey satisfaction and net promoter score per group; a group too "
                "small to show is hidden."
            ),
            columns=[group_by.capitalize(), "People", "Satisfaction (1 to 5)", "NPS"],
            rows=[
                [
                    row["name"],
                    SUPPRESSED if row["satisfaction_hidden"] else row["satisfaction_people"],
                    SUPPRESSED if row["satisfaction_hidden"] else row["average_rating"],
                    SUPPRESSED if row["nps_hidden"] else row["nps"],
                ]
                for row in rows or []
            ],
            chart=ChartSpec(kind="bar", value_columns=(2,), max_value=5.0),
            empty_message=NO_SURVEY_DATA if rows is None else "No survey answers yet.",
        )

    def satisfaction_by_track(self) -> Table:
        return self.satisfaction_by("track")

    def satisfaction_by_department(self) -> Table:
        return self.satisfaction_by("department")

    def satisfaction_by_site(self) -> Table:
        return self.satisfaction_by("site")

    # --- the whole dashboard -----------------------------------------------------------------
    def cards(self) -> list[dict[str, Any]]:
        counts = self.participant_counts
        return [
            {"label": "Enrolled", "value": counts["enrolled"]},
            {"label": "Match rate", "value": self.match_rate, "unit": "%", "aim": MATCH_RATE_AIM},
            {"label": "Waiting for a match", "value": counts["waiting"]},
            {
                "label": "Median days to match",
                "value": self.median_days("enrollment_to_match"),
            },
            {"label": "Meetings per connection", "value": self.meetings_per_connection},
            {"label": "Needing attention", "value": self.health[HealthStatus.NEEDS_ATTENTION]},
        ]


# Every table the dashboard shows, by export name.
DASHBOARD_TABLES: dict[str, Callable[[ProgramFigures], Table]] = {
    "funnel": ProgramFigures.funnel,
    "match_rate": ProgramFigures.match_rate_trend,
    "unmatched": ProgramFigures.unmatched,
    "connections": ProgramFigures.connections_by_state,
    "time_to_match": ProgramFigures.time_to_match,
    "meetings": ProgramFigures.meetings,
    "plan_progress": ProgramFigures.plan_progress,
    "health": ProgramFigures.health_table,
    "satisfaction": ProgramFigures.satisfaction,
    "closure_reasons": ProgramFigures.closure_reasons,
    "by_track": ProgramFigures.by_track,
    "by_department": ProgramFigures.by_department,
    "by_site": ProgramFigures.by_site,
    "satisfaction_by_track": ProgramFigures.satisfaction_by_track,
    "satisfaction_by_department": ProgramFigures.satisfaction_by_department,
    "satisfaction_by_site": ProgramFigures.satisfaction_by_site,
}
