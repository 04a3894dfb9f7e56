"""A program's dashboard tables about connections once made: their states, time to match and
to a first meeting, meetings held, plan progress, health and why they ended."""

from __future__ import annotations

from django.db.models import Count

from peermentor.connections.models import MET_STATUSES, ConnectionStatus, EndReason
from peermentor.engagement.health import HealthStatus
from peermentor.insights.selectors.program.queries import ProgramQueries
from peermentor.insights.tables import ChartSpec, Table, percent, percentile


class EngagementTables(ProgramQueries):
    """The engagement tables; ProgramFigures combines them with the others."""

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
