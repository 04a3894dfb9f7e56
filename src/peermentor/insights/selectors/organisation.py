"""Across programs: one row per program the viewer may see, four grouped queries in all."""

from __future__ import annotations

from datetime import UTC

from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from peermentor.accounts.models import User
from peermentor.connections.models import Connection, ConnectionStatus
from peermentor.engagement.health import HealthStatus
from peermentor.enrollment.models import Participant, ParticipantStatus
from peermentor.insights.permissions import can_view_organisation_insights
from peermentor.insights.selectors.health import health_counts
from peermentor.insights.selectors.program import MATCH_RATE_AIM
from peermentor.insights.selectors.scope import has_met_connection
from peermentor.insights.tables import ChartSpec, Table, percent
from peermentor.programs.models import Program


def visible_programs(viewer: User) -> QuerySet[Program]:
    if not can_view_organisation_insights(viewer):
        raise PermissionDenied("Only organisation admins and program managers see figures.")
    programs = Program.objects.all()
    if not viewer.is_org_admin:
        programs = programs.filter(manager_links__user_id=viewer.pk)
    return programs.order_by("-created_at", "-id")


def organisation_table(*, viewer: User) -> Table:
    """Every visible program with its participants, match rate, connections and health."""
    programs = list(visible_programs(viewer).values("pk", "name", "status", "format"))
    ids = [program["pk"] for program in programs]
    enrolled = Q(status=ParticipantStatus.ENROLLED)
    people = {
        row["program_id"]: row
        for row in Participant.objects.filter(program_id__in=ids)
        .annotate(insights_met=has_met_connection())
        .order_by()
        .values("program_id")
        .annotate(
            enrolled=Count("pk", filter=enrolled),
            matched=Count("pk", filter=enrolled & Q(insights_met=True)),
        )
    }
    states: dict[int, dict[str, int]] = {}
    for program_id, status, n in (
        Connection.objects.filter(program_id__in=ids)
        .order_by()
        .values_list("program_id", "status")
        .annotate(n=Count("pk"))
    ):
        states.setdefault(program_id, {})[status] = n
    now = timezone.now()
    health = health_counts(
        Connection.objects.filter(program_id__in=ids),
        today=now.astimezone(UTC).date(),
        now=now,
        by="program_id",
    )
    rows = []
    for program in programs:
        counts = people.get(program["pk"], {"enrolled": 0, "matched": 0})
        connection_states = states.get(program["pk"], {})
        rows.append(
            [
                program["name"],
                Program(status=program["status"]).get_status_display(),
                counts["enrolled"],
                counts["matched"],
                percent(counts["matched"], counts["enrolled"]),
                connection_states.get(ConnectionStatus.ACTIVE, 0),
                health.get(program["pk"], {}).get(HealthStatus.NEEDS_ATTENTION, 0),
                connection_states.get(ConnectionStatus.COMPLETED, 0),
                connection_states.get(ConnectionStatus.CLOSED_EARLY, 0),
            ]
        )
    return Table(
        key="programs",
        title="Programs at a glance",
        description="Each program's enrolled participants, match rate and connections.",
        columns=[
            "Program",
            "Status",
            "Enrolled",
            "Matched",
            "Match rate (%)",
            "Active connections",
            "Needing attention",
            "Completed",
            "Closed early",
        ],
        rows=rows,
        chart=ChartSpec(
            kind="bar",
            value_columns=(4,),
            aim=MATCH_RATE_AIM,
            aim_label=f"Aim {MATCH_RATE_AIM:.0f} %",
            max_value=100.0,
            unit="%",
        ),
        empty_message="No programs yet.",
        extra={"program_ids": ids},
    )
