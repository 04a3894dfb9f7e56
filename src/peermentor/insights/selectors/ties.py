"""New cross-team ties: pairs of people that a program's connections brought together for the
first time, across departments or sites (DOMAIN.md: reaching peers outside the immediate team
is an explicit goal for hybrid and remote staff).

A tie is two people in the same connection that really happened (a pair has one, a circle of n
has n(n-1)/2). It is new when those two people were never together in an earlier connection of
any program. "Outside their own team" means another department (and, separately, another site).
Everything is counted in the database: the pair rows never come into Python.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet
from django.db.models.functions import Coalesce

from peermentor.connections.models import MET_STATUSES, ConnectionMember
from peermentor.enrollment.models import ParticipantStatus
from peermentor.insights.selectors.scope import Scope
from peermentor.insights.tables import ChartSpec, Table, percent
from peermentor.people.models import Department

PARTNER = "connection__members__participant__person"
OWN = "participant__person"


def new_ties(scope: Scope) -> QuerySet[ConnectionMember]:
    """One row per new tie: the member with the smaller person id, joined once to the partner.

    Each side's person, department and site are annotations (`own_*`, `partner_*`; a missing
    department or site is 0), and everything below refers to them by name so that Django joins
    the partner's row once instead of once per reference.
    """
    ties = (
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
        .filter(partner_person__gt=F("own_person"))
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
    return ties.filter(~Exists(earlier))


class TieFigures:
    def __init__(self, scope: Scope) -> None:
        self.scope = scope
        self.threshold = scope.program.anonymity_threshold

    @cached_property
    def summary(self) -> dict[str, Any]:
        ties = new_ties(self.scope)
        other_department = ~Q(own_department=F("partner_department"))
        other_site = ~Q(own_site=F("partner_site"))
        counts = ties.aggregate(
            ties=Count("pk"),
            cross_department=Count("pk", filter=other_department),
            cross_site=Count("pk", filter=other_site),
            cross_either=Count("pk", filter=other_department | other_site),
            connections=Count("connection_id", distinct=True, filter=other_department | other_site),
        )
        counts.update(self._people_with_ties())
        return counts

    def _people_with_ties(self) -> dict[str, int]:
        """How many matched participants gained a new tie to another department / site."""
        ties = new_ties(self.scope)

        def reached(differs: str) -> Exists:
            # The participant is either end of a new tie whose ends differ in `differs`.
            mine = ties.filter(~Q(**{f"own_{differs}": F(f"partner_{differs}")}))
            return Exists(
                mine.filter(
                    Q(own_person=OuterRef("person_id")) | Q(partner_person=OuterRef("person_id"))
                )
            )

        participants = self.scope.participants().filter(
            Exists(
                ConnectionMember.objects.filter(
                    participant_id=OuterRef("pk"),
                    connection__in=self.scope.met_connections().values("pk"),
                )
            )
        )
        return participants.exclude(status=ParticipantStatus.DECLINED).aggregate(
            matched_people=Count("pk"),
            people_other_department=Count("pk", filter=Q(reached("department"))),
            people_other_site=Count("pk", filter=Q(reached("site"))),
        )

    def summary_table(self) -> Table:
        figures = self.summary
        people = figures["matched_people"]
        rows = [
            ["New ties (pairs of people who had never been connected)", figures["ties"], None],
            ["New ties across departments", figures["cross_department"], None],
            ["New ties across sites", figures["cross_site"], None],
            [
                "Connections with a new tie across departments or sites",
                figures["connections"],
                None,
            ],
            [
                "Matched participants who gained a tie in another department",
                figures["people_other_department"],
                percent(figures["people_other_department"], people),
            ],
            [
                "Matched participants who gained a tie at another site",
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
                "matched participants who gained one."
            ),
            columns=["Measure", "Count", f"Share of {people} matched participants (%)"],
            rows=rows if figures["ties"] or people else [],
            chart=ChartSpec(kind="bar", value_columns=(2,), max_value=100.0, unit="%"),
            empty_message="No connection has started yet.",
            extra=figures,
        )

    def matrix_table(self) -> Table:
        """Department-by-department counts of new ties (each tie counted once, in the cell of
        its two departments; the matrix is symmetric)."""
        pairs = (
            new_ties(self.scope)
            .order_by()
            .values_list("own_department", "partner_department")
            .annotate(n=Count("pk"))
        )
        cells: dict[tuple[Any, Any], int] = {}
        for first, second, count in pairs:
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
