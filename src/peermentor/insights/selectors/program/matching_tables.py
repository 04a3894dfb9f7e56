"""A program's dashboard tables about getting matched: the enrollment funnel, the match rate
over time and by group, and who the latest run left out."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Min, Q
from django.utils import timezone
from django.utils.formats import date_format

from peermentor.connections.models import MET_STATUSES, ConnectionMember
from peermentor.enrollment.models import ParticipantStatus
from peermentor.insights.selectors.expressions import UtcDate
from peermentor.insights.selectors.program.queries import (
    BREAKDOWN_COLUMNS,
    MATCH_RATE_AIM,
    ProgramQueries,
    by_period,
    histogram_of,
)
from peermentor.insights.selectors.sql import histograms
from peermentor.insights.tables import ChartSpec, Group, Table, percent, suppress_small_groups
from peermentor.matches.models import MatchRun, RunStatus, UnmatchedEntry


class MatchingTables(ProgramQueries):
    """The matching tables; ProgramFigures combines them with the others."""

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
        enrolled_by = by_period(histogram_of(enrolled_now, UtcDate("enrolled_at")), kind)
        first_match_day = (
            ConnectionMember.objects.filter(
                participant__in=enrolled_now.values("pk"), connection__status__in=MET_STATUSES
            )
            .values("participant_id")
            .annotate(day=UtcDate(Min("connection__started_at")))
        )
        matched_by = by_period(histograms(first_match_day, ["day"])["day"], kind)
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
