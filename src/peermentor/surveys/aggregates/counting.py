"""How every survey figure is counted: people (never responses) per value and per group,
the statistics of a question's kind, and the rule that hides groups too small to show."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Count, QuerySet

from peermentor.accounts.models import User
from peermentor.people.models import Department, Site
from peermentor.programs.models import Program, Track
from peermentor.surveys.models import (
    NUMBER_RANGE,
    QuestionKind,
    SurveyAnswer,
)
from peermentor.surveys.permissions import can_manage_surveys

# breakdown → (id field, model holding the names, label of the group without one, label of
# the dimension)
BREAKDOWNS: dict[str, tuple[str, type[Department | Site | Track], str, str]] = {
    "department": ("department_id", Department, "No department", "Department"),
    "site": ("site_id", Site, "No site", "Site"),
    "track": ("track_id", Track, "No track", "Track"),
}
TEXT_ANSWERS_LIMIT = 500
PERSON = "person_number"


def suppression_note(threshold: int) -> str:
    return f"Fewer than {threshold} responses: hidden to protect anonymity."


def require_results_viewer(viewer: User, program: Program) -> None:
    if not can_manage_surveys(viewer, program):
        raise PermissionDenied("Only the program's managers may read survey results.")


def _check_breakdown(breakdown: str | None) -> None:
    if breakdown is not None and breakdown not in BREAKDOWNS:
        raise ValueError(f"Unknown breakdown {breakdown!r}; use one of {sorted(BREAKDOWNS)}.")


@dataclass(frozen=True)
class RatingStats:
    """Answers on a 1-5 scale: how many, their mean, and how many gave each value."""

    count: int
    mean: float | None
    distribution: list[tuple[int, int]]

    @classmethod
    def from_counts(cls, counts: dict[int, int], low: int = 1, high: int = 5) -> RatingStats:
        total = sum(counts.values())
        mean = sum(value * n for value, n in counts.items()) / total if total else None
        return cls(
            count=total,
            mean=None if mean is None else round(mean, 2),
            distribution=[(value, counts.get(value, 0)) for value in range(low, high + 1)],
        )


@dataclass(frozen=True)
class NpsStats:
    """Likelihood to recommend (0-10): promoters 9-10, passives 7-8, detractors 0-6; the score
    is the share of promoters minus the share of detractors, from -100 to 100."""

    count: int
    score: float | None
    promoters: int
    passives: int
    detractors: int
    distribution: list[tuple[int, int]]

    @classmethod
    def from_counts(cls, counts: dict[int, int]) -> NpsStats:
        total = sum(counts.values())
        promoters = sum(n for value, n in counts.items() if value >= 9)
        detractors = sum(n for value, n in counts.items() if value <= 6)
        return cls(
            count=total,
            score=round(100 * (promoters - detractors) / total, 1) if total else None,
            promoters=promoters,
            passives=total - promoters - detractors,
            detractors=detractors,
            distribution=[(value, counts.get(value, 0)) for value in range(0, 11)],
        )


@dataclass(frozen=True)
class ChoiceStats:
    """How often each option was chosen, in the question's order (options no longer offered
    are listed after them)."""

    count: int
    options: list[tuple[str, int]]

    @classmethod
    def from_counts(cls, counts: dict[str, int], choices: Iterable[str]) -> ChoiceStats:
        ordered = list(choices)
        ordered += sorted(option for option in counts if option not in ordered)
        return cls(
            count=sum(counts.values()),
            options=[(option, counts.get(option, 0)) for option in ordered],
        )


def _stats(kind: str, counts: dict[Any, int], choices: Iterable[str] = ()) -> Any:
    if kind == QuestionKind.NPS:
        return NpsStats.from_counts(counts)
    if kind == QuestionKind.RATING:
        low, high = NUMBER_RANGE[kind]
        return RatingStats.from_counts(counts, low, high)
    if kind in (QuestionKind.SINGLE_CHOICE, QuestionKind.MULTIPLE_CHOICE):
        return ChoiceStats.from_counts(counts, choices)
    return None


@dataclass(frozen=True)
class Group:
    """One group of a breakdown. `people` and `stats` are None when it is suppressed."""

    key: int | None
    label: str
    is_suppressed: bool
    people: int | None
    stats: Any


@dataclass
class _Tally:
    """Counts for one figure (a question, or a pooled measure such as satisfaction)."""

    values: dict[Any, int] = field(default_factory=lambda: defaultdict(int))
    group_values: dict[Any, dict[Any, int]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(int))
    )
    people: int = 0
    group_people: dict[Any, int] = field(default_factory=dict)


def hidden_groups(group_people: dict[Any, int], total_people: int, threshold: int) -> set[Any]:
    """The groups to suppress: those below the threshold, and then the smallest of the others
    until the suppressed ones add up to at least the threshold (or all are suppressed), so that
    the total minus the shown groups never reveals a group below it."""
    if total_people < threshold:
        return set(group_people)
    hidden = {key for key, people in group_people.items() if people < threshold}
    if not hidden:
        return hidden
    shown = sorted(
        (key for key in group_people if key not in hidden),
        key=lambda key: (group_people[key], str(key)),
    )
    while sum(group_people[key] for key in hidden) < threshold and shown:
        hidden.add(shown.pop(0))
    return hidden


def _tally(
    answers: QuerySet[SurveyAnswer], *, by: str | None, breakdown: str | None
) -> tuple[dict[Any, _Tally], dict[Any, str]]:
    """Tallies keyed by `by` (a field such as "question_id", or None for one pooled figure), in
    two or three grouped scans of the answers: the values (a number or a chosen option; texts
    are not tallied), the people per figure (texts included), and the people per figure and
    group."""
    tallies: dict[Any, _Tally] = defaultdict(_Tally)
    labels: dict[Any, str] = {}
    head = [by] if by else []
    dimension: list[str] = []
    if breakdown:
        id_field, names_model, empty_label, _ = BREAKDOWNS[breakdown]
        dimension = [id_field]
    counted = answers.filter(text="")
    rows = counted.values(*head, *dimension, "number", "choice").annotate(n=Count("pk")).order_by()
    for row in rows:
        tally = tallies[row[by] if by else None]
        value = row["number"] if row["number"] is not None else row["choice"]
        tally.values[value] += row["n"]
        if breakdown:
            group = row[dimension[0]]
            labels[group] = empty_label
            tally.group_values[group][value] += row["n"]
    if breakdown and labels:
        # Names in one small query rather than a join and a GROUP BY on text over every answer.
        names = names_model.objects.filter(pk__in=[key for key in labels if key is not None])
        labels.update(names.values_list("pk", "name"))
    if by:
        for row in answers.values(by).annotate(people=Count(PERSON, distinct=True)).order_by():
            tallies[row[by]].people = row["people"]
    else:
        tallies[None].people = answers.aggregate(people=Count(PERSON, distinct=True))["people"]
    if breakdown:
        grouped = counted.values(*head, dimension[0]).annotate(people=Count(PERSON, distinct=True))
        for row in grouped.order_by():
            tallies[row[by] if by else None].group_people[row[dimension[0]]] = row["people"]
    return tallies, labels


def _groups(tally: _Tally, labels: dict[Any, str], threshold: int, make_stats: Any) -> list[Group]:
    hidden = hidden_groups(tally.group_people, tally.people, threshold)
    groups = [
        Group(
            key=key,
            label=labels.get(key, ""),
            is_suppressed=key in hidden,
            people=None if key in hidden else people,
            stats=None if key in hidden else make_stats(tally.group_values.get(key, {})),
        )
        for key, people in tally.group_people.items()
    ]
    return sorted(groups, key=lambda group: (group.key is None, group.label.casefold()))
