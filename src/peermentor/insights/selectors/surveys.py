"""Survey figures come from the surveys app's own aggregate selectors (surveys/aggregates/),
which count people, apply the program's anonymity threshold and hide small groups where the
answers live (issue 7: admins never see anonymous individual answers). Insights never reads a
survey answer itself.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from peermentor.accounts.models import User
from peermentor.insights.selectors.scope import Scope
from peermentor.surveys import selectors as survey_selectors


def _period(scope: Scope) -> dict[str, Any]:
    since: date | None = scope.start_on
    until: date | None = scope.end_on
    return {"track_id": scope.track.pk if scope.track else None, "since": since, "until": until}


def satisfaction_summary(*, viewer: User, scope: Scope) -> dict[str, Any] | None:
    """Satisfaction (1-5) and likelihood to recommend for the scope, as
    {satisfaction_people, average_rating, satisfaction_hidden, nps_people, nps, promoters,
    passives, detractors, nps_hidden}; people and figures are None when hidden."""
    rating_summary = survey_selectors.satisfaction_summary
    nps_summary = survey_selectors.nps_summary
    period = _period(scope)
    rating = rating_summary(viewer=viewer, program=scope.program, **period)
    recommend = nps_summary(viewer=viewer, program=scope.program, **period)
    stats = recommend.stats
    return {
        "satisfaction_people": rating.people,
        "average_rating": rating.mean,
        "satisfaction_hidden": rating.is_suppressed,
        "nps_people": recommend.people,
        "nps": recommend.score,
        "promoters": stats.promoters if stats else None,
        "passives": stats.passives if stats else None,
        "detractors": stats.detractors if stats else None,
        "nps_hidden": recommend.is_suppressed,
    }


def satisfaction_by_group(*, viewer: User, scope: Scope, group_by: str) -> list[dict] | None:
    """Per track, department or site: people, average satisfaction and NPS, each hidden by
    the surveys app's own small-group rule. None without the surveys app."""
    rating_summary = survey_selectors.satisfaction_summary
    nps_summary = survey_selectors.nps_summary
    period = _period(scope)
    rating = rating_summary(viewer=viewer, program=scope.program, breakdown=group_by, **period)
    recommend = nps_summary(viewer=viewer, program=scope.program, breakdown=group_by, **period)
    rows: dict[Any, dict[str, Any]] = {}
    for group in rating.groups:
        rows[group.key] = {
            "name": group.label,
            "satisfaction_people": group.people,
            "average_rating": group.stats.mean if group.stats else None,
            "satisfaction_hidden": group.is_suppressed,
            "nps_people": None,
            "nps": None,
            "nps_hidden": True,
        }
    for group in recommend.groups:
        row = rows.setdefault(
            group.key,
            {
                "name": group.label,
                "satisfaction_people": None,
                "average_rating": None,
                "satisfaction_hidden": True,
            },
        )
        row.update(
            nps_people=group.people,
            nps=group.stats.score if group.stats else None,
            nps_hidden=group.is_suppressed,
        )
    return sorted(rows.values(), key=lambda row: row["name"])


def pre_post_change(*, viewer: User, scope: Scope) -> list[dict] | None:
    """Paired before/after change per goal dimension; None without the surveys app, [] when
    the program has no self-assessment surveys."""
    function = survey_selectors.assessment_change
    change = function(
        viewer=viewer, program=scope.program, track_id=scope.track.pk if scope.track else None
    )
    if not change.has_surveys:
        return []
    return [
        {
            "measure": dimension.label,
            "pairs": dimension.pairs,
            "before_mean": dimension.mean_before,
            "after_mean": dimension.mean_after,
            "mean_change": dimension.mean_change,
            "improved_percent": dimension.improved_percent,
            "is_suppressed": dimension.is_suppressed,
        }
        for dimension in change.dimensions
    ]
