"""Outcomes: pre/post change (from the surveys app) and participants against similar
colleagues who did not take part: retention and internal moves.

Comparison group: people in the directory, employed when the program started, who never took
part in this program. "Similar" means the same department, level and tenure band at the start
(under 1 year, 1-3, 3-5, 5 or more, unknown). Each participant is compared with the
non-participants of their own cell, and the comparison rate is the average of the cells' rates
weighted by how many participants each cell holds (direct standardisation), so a program full of
new joiners is not flattered by a comparison group full of veterans. Participants in a cell
with no similar colleague are left out and counted.

Retention: still employed today. Internal moves: at least one job change (a new department,
job title or level in the directory's job history, `people.JobChange`) dated from the program's
start to today. Both figures come from the same two grouped queries, one per side.

Department and level are the directory's current ones: someone who moved is compared in the
cell they moved to, on both sides alike.

This is association, not cause: people who choose to join a program may differ from those who
do not.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cached_property
from typing import Any

from django.db.models import Case, CharField, Count, Q, QuerySet, Value, When

from peermentor.accounts.models import User
from peermentor.connections.models import ConnectionMember
from peermentor.enrollment.models import Participant
from peermentor.insights.selectors import surveys
from peermentor.insights.selectors.scope import Scope
from peermentor.insights.tables import SUPPRESSED, ChartSpec, Table, percent
from peermentor.people.models import JobChange, Person

TENURE_BANDS = (("5 years or more", 5), ("3 to 5 years", 3), ("1 to 3 years", 1))
ASSOCIATION_NOTE = (
    "This shows an association, not a cause: people who join a program may differ from those "
    "who do not in ways the directory does not record."
)
MOVES_NOTE = (
    "A move is a new department, job title or level in the directory's job history, which "
    "starts with the first HR import that changes someone's job."
)
# Positions of the counts in a cell: (people, retained, moved).
RETAINED, MOVED = 1, 2


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


def moved_internally(since: date, until: date) -> Q:
    """At least one job change dated from `since` to `until` (both included)."""
    # IN (subquery): the job changes of the window are read once, not once per person.
    return Q(
        pk__in=JobChange.objects.filter(changed_on__gte=since, changed_on__lte=until).values(
            "person_id"
        )
    )


@dataclass(frozen=True)
class Comparison:
    """One outcome, participants against similar colleagues, standardised by cell."""

    participants: int
    participants_with_outcome: int
    left_out: int
    comparison_people: int
    participant_rate: float | None
    comparison_rate: float | None


class OutcomeFigures:
    def __init__(self, scope: Scope, *, viewer: User) -> None:
        self.scope = scope
        self.viewer = viewer
        self.threshold = scope.program.anonymity_threshold
        program = scope.program
        self.reference = program.starts_on or program.created_at.date()

    @property
    def has_not_started(self) -> bool:
        """Outcomes are measured from the program's start: before it there is no period."""
        return self.reference > self.scope.today

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

    def _cells(self, people: QuerySet[Person]) -> dict[tuple[Any, ...], tuple[int, int, int]]:
        """(people, retained, moved) per (department, level, tenure band): one query."""
        today = self.scope.today
        rows = (
            people.annotate(insights_band=tenure_band(self.reference))
            .order_by()
            .values_list("department_id", "level", "insights_band")
            .annotate(
                n=Count("pk"),
                kept=Count("pk", filter=retained(today)),
                moved=Count("pk", filter=moved_internally(self.reference, today)),
            )
        )
        return {
            (department, level, band): (n, kept, moved)
            for department, level, band, n, kept, moved in rows
        }

    @cached_property
    def _both_sides(
        self,
    ) -> tuple[dict[Any, tuple[int, int, int]], dict[Any, tuple[int, int, int]]]:
        return self._cells(self._participants()), self._cells(self._comparison())

    def _compare(self, position: int) -> Comparison:
        participants, comparison = self._both_sides
        counted = hits = left_out = comparison_people = 0
        expected = 0.0
        for cell, counts in participants.items():
            similar = comparison.get(cell, (0, 0, 0))
            if not similar[0]:
                left_out += counts[0]
                continue
            counted += counts[0]
            hits += counts[position]
            comparison_people += similar[0]
            expected += counts[0] * similar[position] / similar[0]
        return Comparison(
            participants=counted,
            participants_with_outcome=hits,
            left_out=left_out,
            comparison_people=comparison_people,
            participant_rate=percent(hits, counted),
            comparison_rate=round(100.0 * expected / counted, 1) if counted else None,
        )

    @staticmethod
    def _as_dict(comparison: Comparison, outcome_key: str) -> dict[str, Any]:
        return {
            "participants": comparison.participants,
            outcome_key: comparison.participants_with_outcome,
            "left_out": comparison.left_out,
            "comparison_people": comparison.comparison_people,
            "participant_rate": comparison.participant_rate,
            "comparison_rate": comparison.comparison_rate,
        }

    @cached_property
    def retention(self) -> dict[str, Any]:
        return self._as_dict(self._compare(RETAINED), "participants_retained")

    @cached_property
    def internal_moves(self) -> dict[str, Any]:
        return self._as_dict(self._compare(MOVED), "participants_moved")

    def _is_shown(self, figures: dict[str, Any]) -> bool:
        return (
            figures["participants"] >= self.threshold
            and figures["comparison_people"] >= self.threshold
        )

    @property
    def is_retention_shown(self) -> bool:
        return self._is_shown(self.retention)

    @property
    def is_internal_moves_shown(self) -> bool:
        return self._is_shown(self.internal_moves)

    def _comparison_table(
        self,
        figures: dict[str, Any],
        *,
        key: str,
        title: str,
        description: str,
        value_column: str,
        extra_note: str = "",
    ) -> Table:
        """Participants against similar colleagues: the shape retention and moves share."""
        if self.has_not_started:
            return Table(
                key=key,
                title=title,
                description=description,
                columns=["Group", "People", value_column],
                rows=[],
                empty_message=(
                    f"The program starts on {self.reference.day} {self.reference:%b %Y}: this "
                    "is measured from then."
                ),
                extra={**figures, "difference": None, "shown": False},
            )
        shown = self._is_shown(figures)
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
        if extra_note:
            note += " " + extra_note
        return Table(
            key=key,
            title=title,
            description=description,
            columns=["Group", "People", value_column],
            rows=rows if figures["participants"] else [],
            chart=ChartSpec(kind="bar", value_columns=(2,), max_value=100.0, unit="%"),
            note=note,
            empty_message=(
                f"No participant has a similar colleague to compare with "
                f"({figures['left_out']} left out)."
                if figures["left_out"]
                else "Nobody has been matched yet."
            ),
            extra={**figures, "difference": difference, "shown": shown},
        )

    def retention_table(self) -> Table:
        return self._comparison_table(
            self.retention,
            key="retention",
            title="Still in the organisation: participants and similar colleagues",
            description=(
                "Share still employed today, participants against non-participants of the "
                "same department, level and tenure band when the program started."
            ),
            value_column="Still employed (%)",
        )

    def internal_moves_table(self) -> Table:
        return self._comparison_table(
            self.internal_moves,
            key="internal_moves",
            title="Internal moves: participants and similar colleagues",
            description=(
                "Share with a new department, job title or level between the program's start "
                f"({self.reference.day} {self.reference:%b %Y}) and today, participants "
                "against non-participants of the same department, level and tenure band."
            ),
            value_column="Moved internally (%)",
            extra_note=MOVES_NOTE,
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
    "internal_moves": OutcomeFigures.internal_moves_table,
    "pre_post": OutcomeFigures.pre_post_table,
}
