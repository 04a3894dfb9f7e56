"""Outcomes: pre/post change (from the surveys app) and participants against similar
colleagues who did not take part.

Comparison group: people in the directory, employed when the program started, who never took
part in this program. "Similar" means the same department, level and tenure band at the start
(under 1 year, 1-3, 3-5, 5 or more, unknown). Each participant is compared with the
non-participants of their own cell, and the comparison rate is the average of the cells' rates
weighted by how many participants each cell holds (direct standardisation), so a program full of
new joiners is not flattered by a comparison group full of veterans. Participants in a cell
with no similar colleague are left out and counted.

This is association, not cause: people who choose to join a program may differ from those who
do not. Internal moves need the directory's change history, which it does not keep yet.
"""

from __future__ import annotations

from datetime import date
from functools import cached_property
from typing import Any

from django.db.models import Case, CharField, Count, Q, QuerySet, Value, When

from peermentor.connections.models import ConnectionMember
from peermentor.enrollment.models import Participant
from peermentor.insights.selectors import surveys
from peermentor.insights.selectors.scope import Scope
from peermentor.insights.tables import SUPPRESSED, ChartSpec, Table, percent
from peermentor.people.models import Person

TENURE_BANDS = (("5 years or more", 5), ("3 to 5 years", 3), ("1 to 3 years", 1))
ASSOCIATION_NOTE = (
    "This shows an association, not a cause: people who join a program may differ from those "
    "who do not in ways the directory does not record."
)
MOVES_NOTE = (
    "Internal moves (a new role or department) are not shown yet: the directory keeps only "
    "people's current job, not its history."
)


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def tenure_band(reference: date) -> Case:
    """A person's tenure band on `reference`, from hire_date."""
    return Case(
        *[
            When(hire_date__lte=_years_before(reference, years), then=Value(label))
            for label, years in TENURE_BANDS
        ],
        When(hire_date__isnull=False, then=Value("Under 1 year")),
        default=Value("Unknown"),
        output_field=CharField(),
    )


def retained(today: date) -> Q:
    """Still in the organisation today."""
    return Q(is_active=True) & (Q(leaving_date__isnull=True) | Q(leaving_date__gt=today))


class OutcomeFigures:
    def __init__(self, scope: Scope, *, viewer: Any) -> None:
        self.scope = scope
        self.viewer = viewer
        self.threshold = scope.program.anonymity_threshold
        program = scope.program
        self.reference = program.starts_on or program.created_at.date()

    def _participants(self) -> QuerySet[Person]:
        """People matched in this program (in the scope)."""
        # IN (subquery), not a correlated EXISTS: the database reads the connections once
        # instead of once for each of the directory's people.
        return Person.objects.filter(
            pk__in=ConnectionMember.objects.filter(
                connection__in=self.scope.met_connections().values("pk")
            ).values("participant__person_id")
        )

    def _comparison(self) -> QuerySet[Person]:
        employed = (Q(hire_date__isnull=True) | Q(hire_date__lte=self.reference)) & (
            Q(leaving_date__isnull=True) | Q(leaving_date__gte=self.reference)
        )
        # NOT IN (subquery): the program's people are read once, not once per person.
        return Person.objects.filter(employed).exclude(
            pk__in=Participant.objects.filter(program=self.scope.program).values("person_id")
        )

    def _cells(self, people: QuerySet[Person]) -> dict[tuple[Any, ...], tuple[int, int]]:
        rows = (
            people.annotate(insights_band=tenure_band(self.reference))
            .order_by()
            .values_list("department_id", "level", "insights_band")
            .annotate(n=Count("pk"), kept=Count("pk", filter=retained(self.scope.today)))
        )
        return {(department, level, band): (n, kept) for department, level, band, n, kept in rows}

    @cached_property
    def retention(self) -> dict[str, Any]:
        participants = self._cells(self._participants())
        comparison = self._cells(self._comparison())
        counted = kept = left_out = comparison_people = 0
        expected = 0.0
        for cell, (n, cell_kept) in participants.items():
            similar, similar_kept = comparison.get(cell, (0, 0))
            if not similar:
                left_out += n
                continue
            counted += n
            kept += cell_kept
            comparison_people += similar
            expected += n * similar_kept / similar
        return {
            "participants": counted,
            "participants_retained": kept,
            "left_out": left_out,
            "comparison_people": comparison_people,
            "participant_rate": percent(kept, counted),
            "comparison_rate": round(100.0 * expected / counted, 1) if counted else None,
        }

    @property
    def is_retention_shown(self) -> bool:
        figures = self.retention
        return (
            figures["participants"] >= self.threshold
            and figures["comparison_people"] >= self.threshold
        )

    def retention_table(self) -> Table:
        figures = self.retention
        shown = self.is_retention_shown
        difference = None
        if shown and figures["participant_rate"] is not None:
            difference = round(figures["participant_rate"] - figures["comparison_rate"], 1)
        rows = [
            [
                "Participants",
                figures["participants"],
                figures["participant_rate"] if shown else SUPPRESSED,
            ],
            [
                "Similar colleagues who did not take part",
                figures["comparison_people"],
                figures["comparison_rate"] if shown else SUPPRESSED,
            ],
        ]
        note = ASSOCIATION_NOTE
        if not shown and figures["participants"]:
            note += f" Hidden: fewer than {self.threshold} people on one side of the comparison."
        if figures["left_out"]:
            note += (
                f" {figures['left_out']} participants had no similar colleague and are left out."
            )
        return Table(
            key="retention",
            title="Still in the organisation: participants and similar colleagues",
            description=(
                "Share still employed today, participants against non-participants of the "
                "same department, level and tenure band when the program started."
            ),
            columns=["Group", "People", "Still employed (%)"],
            rows=rows if figures["participants"] else [],
            chart=ChartSpec(kind="bar", value_columns=(2,), max_value=100.0, unit="%"),
            note=note + " " + MOVES_NOTE,
            empty_message="Nobody has been matched yet.",
            extra={**figures, "difference": difference, "shown": shown},
        )

    def pre_post_table(self) -> Table:
        rows = surveys.pre_post_change(viewer=self.viewer, scope=self.scope)
        return Table(
            key="pre_post",
            title="Before and after: self-assessment",
            description=(
                "Participants who answered the self-assessment both at enrollment and at "
                "closure: average before, after, and the change."
            ),
            columns=["Measure", "People", "Before", "After", "Change", "Improved (%)"],
            rows=[
                [
                    row["measure"],
                    row["pairs"],
                    *(
                        [SUPPRESSED] * 4
                        if row["is_suppressed"]
                        else [
                            row["before_mean"],
                            row["after_mean"],
                            row["mean_change"],
                            row["improved_percent"],
                        ]
                    ),
                ]
                for row in rows or []
            ],
            chart=ChartSpec(kind="bar", value_columns=(4,)),
            note=ASSOCIATION_NOTE,
            empty_message="No survey data yet."
            if rows is None
            else "Nobody has answered both self-assessments yet.",
        )


OUTCOME_TABLES = {
    "retention": OutcomeFigures.retention_table,
    "pre_post": OutcomeFigures.pre_post_table,
}
