"""New cross-team ties: pairs of people that a program's connections brought together for the
first time, across departments or sites (DOMAIN.md: reaching peers outside the immediate team
is an explicit goal for hybrid and remote staff).

A tie is two people in the same connection that really happened (a pair has one, a circle of n
has n(n-1)/2). It is new when those two people were never together in an earlier connection of
any program. "Outside their own team" means another department (and, separately, another site).
Everything is counted in the database: the pair rows never come into Python.
"""

from __future__ import annotations

from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any, TypedDict

from django.db import connections
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet
from django.db.models.functions import Coalesce

from peermentor.connections.models import MET_STATUSES, ConnectionMember
from peermentor.insights.selectors.scope import Scope
from peermentor.insights.tables import ChartSpec, Table, percent
from peermentor.people.models import Department

if TYPE_CHECKING:  # django-stubs-ext is a development dependency
    from django_stubs_ext import WithAnnotations


class TieEnd(TypedDict):
    """What new_tie_ends annotates on each member (ids; 0 for no department or site)."""

    own_person: int
    own_department: int
    own_site: int
    partner_person: int
    partner_department: int
    partner_site: int
    started: datetime | None


PARTNER = "connection__members__participant__person"
# The program's success measure "New cross-team ties" (programs.defaults.METRICS) is this row.
CROSS_TEAM_TIES_LABEL = "New cross-team ties (across departments or sites)"
OWN = "participant__person"


def new_tie_ends(scope: Scope) -> QuerySet[WithAnnotations[ConnectionMember, TieEnd]]:
    """One row per end of each new tie: a member joined once to each other member of the same
    connection (so every tie appears twice, once from each side) where the two people had never
    been in an earlier connection together.

    Each side's person, department and site are annotations (`own_*`, `partner_*`; a missing
    department or site is 0), and everything below refers to them by name so that Django joins
    the partner's row once instead of once per reference.
    """
    ends = (
        ConnectionMember.objects.filter(connection__in=scope.met_connections().values("pk"))
        .annotate(
            own_person=F(f"{OWN}_id"),
            own_department=Coalesce(F(f"{OWN}__department_id"), 0),
            own_site=Coalesce(F(f"{OWN}__site_id"), 0),
            partner_person=F(f"{PARTNER}_id"),
            partner_department=Coalesce(F(f"{PARTNER}__department_id"), 0),
            partner_site=Coalesce(F(f"{PARTNER}__site_id"), 0),
            started=F("connection__started_at"),
        )
        .exclude(partner_person=F("own_person"))
    )
    earlier = ConnectionMember.objects.filter(
        Q(connection__started_at__lt=OuterRef("started"))
        | Q(
            connection__started_at=OuterRef("started"), connection_id__lt=OuterRef("connection_id")
        ),
        participant__person_id=OuterRef("own_person"),
        connection__status__in=MET_STATUSES,
        connection__members__participant__person_id=OuterRef("partner_person"),
    )
    return ends.filter(~Exists(earlier))


class TieFigures:
    def __init__(self, scope: Scope) -> None:
        self.scope = scope
        self.threshold = scope.program.anonymity_threshold

    @cached_property
    def _counted(self) -> tuple[dict[str, int], list[tuple[int, int, int]]]:
        """The summary counts and the (department, department, ties) cells, from ONE pass
        over the new tie ends: the ends (whose "never connected before" check is the costly
        part) are a common table expression that both parts read. Each tie is counted from
        its first end, and each person from their own end."""
        ends = new_tie_ends(self.scope).values(
            "connection_id",
            "own_person",
            "partner_person",
            "own_department",
            "partner_department",
            "own_site",
            "partner_site",
        )
        connection = connections[ends.db]
        sql, params = ends.order_by().query.sql_with_params()
        q = connection.ops.quote_name
        once = f"{q('partner_person')} > {q('own_person')}"
        department = f"{q('own_department')} <> {q('partner_department')}"
        site = f"{q('own_site')} <> {q('partner_site')}"
        statement = (
            f"WITH ends AS ({sql}) "
            "SELECT 0, NULL, NULL, "
            f"SUM(CASE WHEN {once} THEN 1 ELSE 0 END), "
            f"SUM(CASE WHEN {once} AND {department} THEN 1 ELSE 0 END), "
            f"SUM(CASE WHEN {once} AND {site} THEN 1 ELSE 0 END), "
            f"SUM(CASE WHEN {once} AND ({department} OR {site}) THEN 1 ELSE 0 END), "
            f"COUNT(DISTINCT CASE WHEN {department} OR {site} THEN {q('connection_id')} END), "
            f"COUNT(DISTINCT CASE WHEN {department} THEN {q('own_person')} END), "
            f"COUNT(DISTINCT CASE WHEN {site} THEN {q('own_person')} END) "
            "FROM ends "
            "UNION ALL "
            f"SELECT 1, {q('own_department')}, {q('partner_department')}, COUNT(*), "
            "0, 0, 0, 0, 0, 0 "
            f"FROM ends WHERE {once} "
            f"GROUP BY {q('own_department')}, {q('partner_department')}"
        )
        with connection.cursor() as cursor:
            cursor.execute(statement, params)
            rows = cursor.fetchall()
        names = (
            "ties",
            "cross_department",
            "cross_site",
            "cross_either",
            "connections",
            "people_other_department",
            "people_other_site",
        )
        summary = next(row for row in rows if row[0] == 0)
        counts = {name: int(value or 0) for name, value in zip(names, summary[3:], strict=True)}
        cells = [(int(first), int(second), int(n)) for part, first, second, n, *_ in rows if part]
        return counts, cells

    @cached_property
    def summary(self) -> dict[str, Any]:
        counts: dict[str, Any] = dict(self._counted[0])
        # Everyone in the scope's connections that happened: the share's denominator.
        counts["matched_people"] = ConnectionMember.objects.filter(
            connection__in=self.scope.met_connections().values("pk")
        ).aggregate(n=Count("participant__person_id", distinct=True))["n"]
        return counts

    def summary_table(self) -> Table:
        figures = self.summary
        people = figures["matched_people"]
        rows = [
            [CROSS_TEAM_TIES_LABEL, figures["cross_either"], None],
            ["New ties (pairs of people who had never been connected)", figures["ties"], None],
            ["New ties across departments", figures["cross_department"], None],
            ["New ties across sites", figures["cross_site"], None],
            [
                "Connections with a new tie across departments or sites",
                figures["connections"],
                None,
            ],
            [
                "People matched who gained a tie in another department",
                figures["people_other_department"],
                percent(figures["people_other_department"], people),
            ],
            [
                "People matched who gained a tie at another site",
                figures["people_other_site"],
                percent(figures["people_other_site"], people),
            ],
        ]
        return Table(
            key="ties",
            title="New cross-team ties",
            description=(
                "Pairs of people brought together for the first time (never in an earlier "
                "connection of any program), across departments and sites, and the share of "
                "the people in the program's connections who gained one."
            ),
            columns=["Measure", "Count", f"Share of the {people} people matched (%)"],
            rows=rows if figures["ties"] or people else [],
            # The counts: every row has one (the share only the rows about people).
            chart=ChartSpec(kind="bar", value_columns=(1,)),
            empty_message="No connection has started yet.",
            extra=figures,
        )

    def matrix_table(self) -> Table:
        """Department-by-department counts of new ties (each tie counted once, in the cell of
        its two departments; the matrix is symmetric)."""
        cells: dict[tuple[Any, Any], int] = {}
        for first, second, count in self._counted[1]:
            for key in {(first, second), (second, first)}:
                cells[key] = cells.get(key, 0) + count
        # 0 stands for "no department" and sorts last.
        ids = sorted({key for pair in cells for key in pair}, key=lambda pk: (pk == 0, pk))
        names = dict(
            Department.objects.filter(pk__in=[pk for pk in ids if pk]).values_list("pk", "name")
        )
        labels = [names.get(pk, "No department") for pk in ids]
        rows = [
            [labels[i], *[cells.get((row, column), 0) for column in ids]]
            for i, row in enumerate(ids)
        ]
        return Table(
            key="ties_matrix",
            title="New ties between departments",
            description=(
                "How many new ties link people of each pair of departments; the diagonal holds "
                "ties inside one department."
            ),
            columns=["Department", *labels],
            rows=rows,
            chart=ChartSpec(kind="heatmap", value_columns=tuple(range(1, len(ids) + 1))),
            empty_message="No new ties yet.",
        )


TIE_TABLES = {
    "ties": TieFigures.summary_table,
    "ties_matrix": TieFigures.matrix_table,
}
