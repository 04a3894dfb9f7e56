"""A program's dashboard: every figure and table, and the export name of each table."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.urls import reverse

from peermentor.engagement.health import HealthStatus
from peermentor.insights.selectors.metrics import Sources, metric_card, program_metric
from peermentor.insights.selectors.program.engagement_tables import EngagementTables
from peermentor.insights.selectors.program.matching_tables import MatchingTables
from peermentor.insights.selectors.program.queries import MATCH_RATE_AIM
from peermentor.insights.selectors.program.satisfaction_tables import SatisfactionTables
from peermentor.insights.tables import Table


class ProgramFigures(MatchingTables, EngagementTables, SatisfactionTables):
    """Every figure of one program's dashboard for one scope (program, track, period)."""

    def cards(self) -> list[dict[str, Any]]:
        counts = self.participant_counts
        sources = Sources(self)
        program_id = self.scope.program.pk
        connections = reverse("program_connections", args=[program_id])
        return [
            {"label": "Enrolled", "value": counts["enrolled"], "unit": ""},
            metric_card(program_metric("match_rate", sources), aim=MATCH_RATE_AIM),
            {"label": "Waiting for a match", "value": counts["waiting"], "unit": ""},
            {
                "label": "Median days to match",
                "value": self.median_days("enrollment_to_match"),
                "unit": "",
            },
            metric_card(program_metric("meetings_per_connection", sources)),
            {
                "label": "Needing attention",
                "value": self.health[HealthStatus.NEEDS_ATTENTION],
                "unit": "",
                "url": f"{connections}?health={HealthStatus.NEEDS_ATTENTION}",
            },
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
