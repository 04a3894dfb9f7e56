"""Every read of the insights app. Import from here."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.http import Http404

from peermentor.accounts.models import User
from peermentor.insights.selectors.organisation import organisation_table, visible_programs
from peermentor.insights.selectors.outcomes import OUTCOME_TABLES, OutcomeFigures
from peermentor.insights.selectors.program import DASHBOARD_TABLES, ProgramFigures
from peermentor.insights.selectors.report import ProgramReport, goals_table, program_report
from peermentor.insights.selectors.scope import Scope, scope_for
from peermentor.insights.selectors.ties import TIE_TABLES, TieFigures
from peermentor.insights.tables import Table

# Every table a program's pages show, by the name its export URL uses.
EXPORTABLE = (*DASHBOARD_TABLES, *OUTCOME_TABLES, *TIE_TABLES, "goals")


@dataclass
class Dashboard:
    scope: Scope
    cards: list[dict[str, Any]]
    tables: dict[str, Table]


def program_dashboard(*, viewer: User, scope: Scope) -> Dashboard:
    figures = ProgramFigures(scope, viewer=viewer)
    tables = {key: build(figures) for key, build in DASHBOARD_TABLES.items()}
    return Dashboard(scope=scope, cards=figures.cards(), tables=tables)


def program_outcomes(*, viewer: User, scope: Scope) -> dict[str, Table]:
    figures = OutcomeFigures(scope, viewer=viewer)
    return {key: build(figures) for key, build in OUTCOME_TABLES.items()}


def program_ties(*, scope: Scope) -> dict[str, Table]:
    figures = TieFigures(scope)
    return {key: build(figures) for key, build in TIE_TABLES.items()}


def program_table(*, viewer: User, scope: Scope, key: str) -> Table:
    """One table by its export name, computing only what it needs (Http404 for another name)."""
    if key in DASHBOARD_TABLES:
        return DASHBOARD_TABLES[key](ProgramFigures(scope, viewer=viewer))
    if key in OUTCOME_TABLES:
        return OUTCOME_TABLES[key](OutcomeFigures(scope, viewer=viewer))
    if key in TIE_TABLES:
        return TIE_TABLES[key](TieFigures(scope))
    if key == "goals":
        return goals_table(
            ProgramFigures(scope, viewer=viewer),
            OutcomeFigures(scope, viewer=viewer),
            TieFigures(scope),
        )
    raise Http404("No such table.")


__all__ = [
    "EXPORTABLE",
    "Dashboard",
    "ProgramReport",
    "Scope",
    "organisation_table",
    "program_dashboard",
    "program_outcomes",
    "program_report",
    "program_table",
    "program_ties",
    "scope_for",
    "visible_programs",
]
