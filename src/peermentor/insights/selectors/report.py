"""The program report a program's owner shares with leadership: goals and what happened against
them, key figures and charts, outcomes, and quotes participants agreed to share (no names)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone

from peermentor.accounts.models import User
from peermentor.connections.selectors import Quote, quotable_reflections
from peermentor.insights.selectors.outcomes import OutcomeFigures
from peermentor.insights.selectors.program import ProgramFigures
from peermentor.insights.selectors.scope import Scope
from peermentor.insights.selectors.ties import TieFigures
from peermentor.insights.tables import SUPPRESSED, Table, percent
from peermentor.programs.defaults import GOAL_DESCRIPTIONS, METRICS
from peermentor.programs.models import Goal

# Metrics where less is better (days waited); every other metric aims at or above its target.
LOWER_IS_BETTER = {"time_to_match_days", "time_to_first_meeting_days"}
QUOTES_SHOWN = 6


def _metric_result(
    key: str, figures: ProgramFigures, outcomes: OutcomeFigures, ties: TieFigures
) -> tuple[Any, str]:
    """(value, note) for a success metric, the value None when it cannot be measured yet."""
    if key == "match_rate":
        return figures.match_rate, ""
    if key == "time_to_match_days":
        return figures.median_days("enrollment_to_match"), "median"
    if key == "time_to_first_meeting_days":
        return figures.median_days("match_to_first_meeting"), "median"
    if key == "meetings_per_connection":
        return figures.meetings_per_connection, "average"
    if key == "goal_completion":
        return figures.milestone_completion, "plan milestones done"
    if key == "satisfaction":
        return figures.average_pulse, "average check-in pulse"
    if key == "likelihood_to_recommend":
        survey = figures.survey_summary
        if survey is None:
            return None, "no survey data yet"
        if survey["nps_hidden"]:
            return SUPPRESSED, "too few answers to show"
        return (
            percent(survey["promoters"], survey["nps_people"]),
            "would recommend (9 or 10 out of 10)",
        )
    if key == "cross_team_ties":
        return ties.summary["cross_either"], "new ties across departments or sites"
    if key == "retention":
        retention = outcomes.retention
        if not retention["participants"]:
            return None, ""
        if not outcomes.is_retention_shown:
            return SUPPRESSED, "too few people to show"
        return retention["participant_rate"], (
            f"similar colleagues: {retention['comparison_rate']} %"
        )
    if key == "internal_moves":
        moves = outcomes.internal_moves
        if not moves["participants"]:
            return None, ""
        if not outcomes.is_internal_moves_shown:
            return SUPPRESSED, "too few people to show"
        return moves["participant_rate"], f"similar colleagues: {moves['comparison_rate']} %"
    return None, "not measured yet"


def _met(key: str, value: Any, target: Any) -> str:
    if target is None or value is None or value is SUPPRESSED:
        return "—"
    hit = value <= target if key in LOWER_IS_BETTER else value >= target
    return "Yes" if hit else "Not yet"


def goals_table(figures: ProgramFigures, outcomes: OutcomeFigures, ties: TieFigures) -> Table:
    rows = []
    for metric in figures.scope.program.success_metrics or []:
        key = metric.get("key")
        known = METRICS.get(key)
        if known is None:
            continue
        value, note = _metric_result(key, figures, outcomes, ties)
        target = metric.get("target", known.target)
        unit = metric.get("unit", known.unit)
        rows.append([known.label, target, value, unit, _met(key, value, target), note])
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
            *figures.cards()[:2],
            {"label": "Meetings per connection", "value": figures.meetings_per_connection},
            {"label": "New cross-team ties", "value": ties.summary["cross_either"]},
        ],
        success=goals_table(figures, outcomes, ties),
        tables=tables,
        quotes=quotable_reflections(viewer=viewer, program=scope.program, limit=QUOTES_SHOWN),
        retention=tables["retention"].extra,
        internal_moves=tables["internal_moves"].extra,
        ties=ties.summary,
    )
