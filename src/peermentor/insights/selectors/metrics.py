"""One definition per figure: every success measure a program can set (programs.defaults.METRICS)
computed here, once, and read by every surface that shows it: the dashboard's cards and tables,
the report (page and PDF), the goals export and the API. A page never recomputes or relabels a
figure; it shows `Metric.value` in `Metric.unit`. tests/insights/test_metric_surfaces.py renders
each one on every surface and compares.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from peermentor.insights.selectors.outcomes import OutcomeFigures
from peermentor.insights.selectors.program.queries import ProgramQueries
from peermentor.insights.selectors.ties import TieFigures
from peermentor.insights.tables import SUPPRESSED
from peermentor.programs.defaults import METRICS

NOT_YET = "not measured yet"
TOO_FEW = "too few answers to show"


@dataclass(frozen=True)
class Metric:
    """A figure as every surface shows it: `value` is a number, None (nothing to measure
    yet) or SUPPRESSED (too few people to show)."""

    key: str
    label: str
    value: Any
    unit: str
    note: str = ""
    people: int | None = None

    @property
    def is_hidden(self) -> bool:
        return self.value is SUPPRESSED


def _figure(key: str, value: Any, note: str = "", people: int | None = None) -> Metric:
    known = METRICS[key]
    return Metric(
        key=key, label=known.label, value=value, unit=known.unit, note=note, people=people
    )


def _one_decimal(value: Any) -> Any:
    """Figures are shown, exported and compared to targets with one decimal."""
    return round(value, 1) if isinstance(value, float) else value


def _satisfaction(figures: ProgramQueries) -> Metric:
    survey = figures.survey_summary
    if survey is None or (not survey["satisfaction_hidden"] and not survey["satisfaction_people"]):
        return _figure("satisfaction", None, "no survey answers yet")
    if survey["satisfaction_hidden"]:
        return _figure("satisfaction", SUPPRESSED, TOO_FEW)
    return _figure(
        "satisfaction",
        _one_decimal(survey["average_rating"]),
        "average survey rating",
        people=survey["satisfaction_people"],
    )


def _recommend(figures: ProgramQueries) -> Metric:
    survey = figures.survey_summary
    if survey is None or (not survey["nps_hidden"] and not survey["nps_people"]):
        return _figure("likelihood_to_recommend", None, "no survey answers yet")
    if survey["nps_hidden"]:
        return _figure("likelihood_to_recommend", SUPPRESSED, TOO_FEW)
    return _figure(
        "likelihood_to_recommend",
        _one_decimal(survey["nps"]),
        "net promoter score: % promoters (9-10) minus % detractors (0-6)",
        people=survey["nps_people"],
    )


def _comparison(key: str, figures: dict[str, Any], shown: bool, not_started: bool) -> Metric:
    if not_started:
        return _figure(key, None, "the program has not started")
    if not figures["participants"]:
        return _figure(key, None, NOT_YET)
    if not shown:
        return _figure(key, SUPPRESSED, "too few people to show", people=figures["participants"])
    return _figure(
        key,
        figures["participant_rate"],
        f"similar colleagues: {figures['comparison_rate']} %",
        people=figures["participants"],
    )


def _ties(ties: TieFigures) -> Metric:
    return _figure(
        "cross_team_ties", ties.summary["cross_either"], "new ties across departments or sites"
    )


class Sources:
    """What the figures are computed from, for one scope and viewer; each query runs on first
    use, once. Outcomes and ties are made when first needed unless the caller has them."""

    def __init__(
        self,
        figures: ProgramQueries,
        outcomes: OutcomeFigures | None = None,
        ties: TieFigures | None = None,
    ) -> None:
        self.figures = figures
        self._outcomes = outcomes
        self._ties = ties

    @property
    def outcomes(self) -> OutcomeFigures:
        if self._outcomes is None:
            self._outcomes = OutcomeFigures(self.figures.scope, viewer=self.figures.viewer)
        return self._outcomes

    @property
    def ties(self) -> TieFigures:
        if self._ties is None:
            self._ties = TieFigures(self.figures.scope)
        return self._ties


def metric_card(metric: Metric, **extra: Any) -> dict[str, Any]:
    """A key-figure card of the dashboard or the report."""
    return {"label": metric.label, "value": metric.value, "unit": metric.unit, **extra}


BUILDERS: dict[str, Callable[[Sources], Metric]] = {
    "match_rate": lambda s: _figure(
        "match_rate", s.figures.match_rate, people=s.figures.participant_counts["enrolled"]
    ),
    "time_to_match_days": lambda s: _figure(
        "time_to_match_days", s.figures.median_days("enrollment_to_match"), "median"
    ),
    "time_to_first_meeting_days": lambda s: _figure(
        "time_to_first_meeting_days", s.figures.median_days("match_to_first_meeting"), "median"
    ),
    "meetings_per_connection": lambda s: _figure(
        "meetings_per_connection", s.figures.meetings_per_connection, "average"
    ),
    "goal_completion": lambda s: _figure(
        "goal_completion", s.figures.milestone_completion, "plan milestones done"
    ),
    "satisfaction": lambda s: _satisfaction(s.figures),
    "likelihood_to_recommend": lambda s: _recommend(s.figures),
    "cross_team_ties": lambda s: _ties(s.ties),
    "retention": lambda s: _comparison(
        "retention", s.outcomes.retention, s.outcomes.is_retention_shown, s.outcomes.has_not_started
    ),
    "internal_moves": lambda s: _comparison(
        "internal_moves",
        s.outcomes.internal_moves,
        s.outcomes.is_internal_moves_shown,
        s.outcomes.has_not_started,
    ),
}


def program_metric(key: str, sources: Sources) -> Metric:
    """One figure by its key; a measure nothing computes yet is "not measured yet"."""
    build = BUILDERS.get(key)
    if build is None:
        return _figure(key, None, NOT_YET)
    return build(sources)
