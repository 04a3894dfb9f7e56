"""The program report a program's owner shares with leadership: goals and what happened against
them, key figures and charts, outcomes, and quotes participants agreed to share (no names)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone

from peermentor.accounts.models import User
from peermentor.connections.selectors import Quote, quotable_reflections
from peermentor.insights.selectors.metrics import Sources, metric_card, program_metric
from peermentor.insights.selectors.outcomes import OutcomeFigures
from peermentor.insights.selectors.program import ProgramFigures
from peermentor.insights.selectors.scope import Scope
from peermentor.insights.selectors.ties import TieFigures
from peermentor.insights.tables import SUPPRESSED, Table
from peermentor.programs.defaults import GOAL_DESCRIPTIONS, METRICS
from peermentor.programs.models import Goal

# Metrics where less is better (days waited); every other metric aims at or above its target.
LOWER_IS_BETTER = {"time_to_match_days", "time_to_first_meeting_days"}
QUOTES_SHOWN = 6
# The report's key figures, in order.
KEY_FIGURES = ("match_rate", "meetings_per_connection", "cross_team_ties")


def _met(key: str, value: Any, target: Any) -> str:
    if target is None or value is None or value is SUPPRESSED:
        return "—"
    hit = value <= target if key in LOWER_IS_BETTER else value >= target
    return "Yes" if hit else "Not yet"


def goals_table(figures: ProgramFigures, outcomes: OutcomeFigures, ties: TieFigures) -> Table:
    sources = Sources(figures, outcomes, ties)
    rows = []
    for metric in figures.scope.program.success_metrics or []:
        key = metric.get("key")
        if key not in METRICS:
            continue
        result = program_metric(key, sources)
        # The unit is part of the measure's one definition; the program sets only its target.
        target = metric.get("target", METRICS[key].target)
        rows.append(
            [
                result.label,
                target,
                result.value,
                result.unit,
                _met(key, result.value, target),
                result.note,
            ]
        )
    return Table(
        key="goals",
        title="Success measures: target and result",
        description="Each success measure the program set, its target and what happened.",
        columns=["Measure", "Target", "Result", "Unit", "Target met", "How measured"],
        rows=rows,
        empty_message="The program set no success measures.",
    )


@dataclass
class ProgramReport:
    program: Any
    generated_at: Any
    goals: list[tuple[str, str]]
    cards: list[dict[str, Any]]
    success: Table
    tables: dict[str, Table]
    quotes: list[Quote] = field(default_factory=list)
    retention: dict[str, Any] = field(default_factory=dict)
    internal_moves: dict[str, Any] = field(default_factory=dict)
    ties: dict[str, Any] = field(default_factory=dict)


def program_report(*, viewer: User, scope: Scope) -> ProgramReport:
    figures = ProgramFigures(scope, viewer=viewer)
    outcomes = OutcomeFigures(scope, viewer=viewer)
    ties = TieFigures(scope)
    sources = Sources(figures, outcomes, ties)
    labels = dict(Goal.choices)
    tables = {
        "funnel": figures.funnel(),
        "match_rate": figures.match_rate_trend(),
        "time_to_match": figures.time_to_match(),
        "meetings": figures.meetings(),
        "health": figures.health_table(),
        "satisfaction": figures.satisfaction(),
        "closure_reasons": figures.closure_reasons(),
        "retention": outcomes.retention_table(),
        "internal_moves": outcomes.internal_moves_table(),
        "pre_post": outcomes.pre_post_table(),
        "ties": ties.summary_table(),
        "ties_matrix": ties.matrix_table(),
    }
    return ProgramReport(
        program=scope.program,
        generated_at=timezone.now(),
        goals=[
            (labels.get(goal, goal), GOAL_DESCRIPTIONS.get(goal, ""))
            for goal in scope.program.goals or []
        ],
        cards=[
            figures.cards()[0],
            *(metric_card(program_metric(key, sources)) for key in KEY_FIGURES),
        ],
        success=goals_table(figures, outcomes, ties),
        tables=tables,
        quotes=quotable_reflections(viewer=viewer, program=scope.program, limit=QUOTES_SHOWN),
        retention=tables["retention"].extra,
        internal_moves=tables["internal_moves"].extra,
        ties=ties.summary,
    )
