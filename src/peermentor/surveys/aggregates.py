"""Survey totals that respect anonymity: the only way survey answers leave this app.

The rules (docs/surveys.md explains them for people):

1. Every figure counts PEOPLE, not responses (one person answering three closing surveys is one
   person), through `person_number`. A figure based on fewer people than the
   program's `anonymity_threshold` is suppressed: no number, a note instead. That holds for a
   whole survey, for each question, and for each group of a breakdown.
2. A breakdown (by department, site or track) never lets a hidden group be worked out by
   subtracting the shown groups from the total: when the hidden groups add up to fewer people
   than the threshold, the smallest shown groups are hidden with them until they do not.
3. Free-text answers are shown only when the question was answered by at least the threshold,
   sorted alphabetically (so their order says nothing), never with a name and never per group.
4. Nothing here returns a response or answer row, or anything that identifies its author.

Every selector checks that the viewer manages the program (PermissionDenied otherwise) and runs
a constant number of queries, whatever the number of responses.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Avg, Count, Q, QuerySet

from peermentor.accounts.models import User
from peermentor.people.models import Department, Site
from peermentor.programs.models import Program, ProgramManager, Track
from peermentor.surveys.defaults import ASSESSMENT_DIMENSIONS, SATISFACTION_KEY
from peermentor.surveys.models import (
    NUMBER_RANGE,
    QuestionKind,
    Survey,
    SurveyAnswer,
    SurveyInvitation,
    SurveyPurpose,
    SurveyQuestion,
    SurveyResponse,
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


# --- figures ----------------------------------------------------------------------------------
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


# --- the engine -------------------------------------------------------------------------------
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


# --- one survey -------------------------------------------------------------------------------
@dataclass(frozen=True)
class ResponseRate:
    invited: int
    answered: int

    @property
    def rate_percent(self) -> float | None:
        return round(100 * self.answered / self.invited, 1) if self.invited else None


@dataclass(frozen=True)
class QuestionResult:
    question: SurveyQuestion
    is_suppressed: bool
    note: str
    people: int | None
    stats: Any
    texts: list[str]
    groups: list[Group]


@dataclass(frozen=True)
class SurveyResults:
    survey: Survey
    threshold: int
    is_suppressed: bool
    note: str
    people: int | None
    breakdown: str | None
    breakdown_label: str
    questions: list[QuestionResult]
    response_rate: ResponseRate


def survey_results(*, viewer: User, survey: Survey, breakdown: str | None = None) -> SurveyResults:
    """The survey's results per question, as far as anonymity allows (see the module
    docstring); `breakdown` adds the groups of "department", "site" or "track"."""
    program = survey.program
    require_results_viewer(viewer, program)
    _check_breakdown(breakdown)
    threshold = program.anonymity_threshold
    note = suppression_note(threshold)
    questions = list(survey.questions.all())
    people = SurveyResponse.objects.filter(survey_id=survey.pk).aggregate(
        people=Count("person_number", distinct=True)
    )["people"]
    rate = _response_rate(SurveyInvitation.objects.filter(survey_id=survey.pk))
    breakdown_label = BREAKDOWNS[breakdown][3] if breakdown else ""
    if people < threshold:
        return SurveyResults(
            survey=survey,
            threshold=threshold,
            is_suppressed=True,
            note=note,
            people=None,
            breakdown=breakdown,
            breakdown_label=breakdown_label,
            questions=[QuestionResult(q, True, note, None, None, [], []) for q in questions],
            response_rate=rate,
        )
    answers = SurveyAnswer.objects.filter(survey_id=survey.pk)
    tallies, labels = _tally(answers, by="question_id", breakdown=breakdown)
    text_people = {key: tally.people for key, tally in tallies.items()}
    readable_text_ids = [
        q.pk
        for q in questions
        if q.kind == QuestionKind.TEXT and text_people.get(q.pk, 0) >= threshold
    ]
    texts: dict[int, list[str]] = defaultdict(list)
    if readable_text_ids:
        rows = (
            answers.filter(question_id__in=readable_text_ids)
            .exclude(text="")
            .order_by("question_id", "text")
            .values_list("question_id", "text")[:TEXT_ANSWERS_LIMIT]
        )
        for question_id, text in rows:
            texts[question_id].append(text)
    results = []
    for question in questions:
        if question.kind == QuestionKind.TEXT:
            count = text_people.get(question.pk, 0)
            shown = count >= threshold
            results.append(
                QuestionResult(
                    question,
                    not shown,
                    "" if shown else note,
                    count if shown else None,
                    None,
                    texts.get(question.pk, []),
                    [],
                )
            )
            continue
        tally = tallies.get(question.pk, _Tally())

        def make_stats(counts: dict[Any, int], question: SurveyQuestion = question) -> Any:
            return _stats(question.kind, counts, question.choices)

        shown = tally.people >= threshold
        results.append(
            QuestionResult(
                question=question,
                is_suppressed=not shown,
                note="" if shown else note,
                people=tally.people if shown else None,
                stats=make_stats(tally.values) if shown else None,
                texts=[],
                groups=_groups(tally, labels, threshold, make_stats) if breakdown and shown else [],
            )
        )
    return SurveyResults(
        survey=survey,
        threshold=threshold,
        is_suppressed=False,
        note="",
        people=people,
        breakdown=breakdown,
        breakdown_label=breakdown_label,
        questions=results,
        response_rate=rate,
    )


def _response_rate(invitations: QuerySet[SurveyInvitation]) -> ResponseRate:
    counts = invitations.aggregate(
        invited=Count("pk"), answered=Count("pk", filter=Q(answered_at__isnull=False))
    )
    return ResponseRate(invited=counts["invited"], answered=counts["answered"])


# --- program measures (what dashboards and the program report show) ---------------------------
@dataclass(frozen=True)
class RatingSummary:
    people: int | None
    is_suppressed: bool
    note: str
    stats: RatingStats | None
    groups: list[Group]

    @property
    def mean(self) -> float | None:
        return self.stats.mean if self.stats else None


@dataclass(frozen=True)
class NpsSummary:
    people: int | None
    is_suppressed: bool
    note: str
    stats: NpsStats | None
    groups: list[Group]

    @property
    def score(self) -> float | None:
        return self.stats.score if self.stats else None


def _program_answers(
    program: Program,
    *,
    track_id: int | None,
    since: date | None,
    until: date | None,
) -> QuerySet[SurveyAnswer]:
    answers = SurveyAnswer.objects.filter(survey__program_id=program.pk)
    if track_id is not None:
        answers = answers.filter(track_id=track_id)
    # Anonymous responses keep only the month they fell due: a period selects whole months.
    if since is not None:
        answers = answers.filter(month__gte=_as_date(since).replace(day=1))
    if until is not None:
        answers = answers.filter(month__lte=_as_date(until))
    return answers


def _as_date(value: date | datetime) -> date:
    return value.date() if isinstance(value, datetime) else value


def _summary(
    answers: QuerySet[SurveyAnswer],
    *,
    program: Program,
    kind: str,
    breakdown: str | None,
) -> tuple[int | None, bool, str, Any, list[Group]]:
    _check_breakdown(breakdown)
    threshold = program.anonymity_threshold
    tallies, labels = _tally(answers, by=None, breakdown=breakdown)
    tally = tallies.get(None, _Tally())

    def make_stats(counts: dict[Any, int]) -> Any:
        return _stats(kind, counts)

    if tally.people < threshold:
        return None, True, suppression_note(threshold), None, []
    groups = _groups(tally, labels, threshold, make_stats) if breakdown else []
    return tally.people, False, "", make_stats(tally.values), groups


def satisfaction_summary(
    *,
    viewer: User,
    program: Program,
    track_id: int | None = None,
    since: date | None = None,
    until: date | None = None,
    breakdown: str | None = None,
) -> RatingSummary:
    """Overall satisfaction (1-5): the rating questions keyed "satisfaction" in the program's
    surveys (the closing survey has one), suppressed below the anonymity threshold."""
    require_results_viewer(viewer, program)
    answers = _program_answers(program, track_id=track_id, since=since, until=until).filter(
        question__key=SATISFACTION_KEY, question__kind=QuestionKind.RATING, number__isnull=False
    )
    return RatingSummary(
        *_summary(answers, program=program, kind=QuestionKind.RATING, breakdown=breakdown)
    )


def nps_summary(
    *,
    viewer: User,
    program: Program,
    track_id: int | None = None,
    since: date | None = None,
    until: date | None = None,
    breakdown: str | None = None,
) -> NpsSummary:
    """Likelihood to recommend: every 0-10 question in the program's surveys, pooled."""
    require_results_viewer(viewer, program)
    answers = _program_answers(program, track_id=track_id, since=since, until=until).filter(
        question__kind=QuestionKind.NPS, number__isnull=False
    )
    return NpsSummary(
        *_summary(answers, program=program, kind=QuestionKind.NPS, breakdown=breakdown)
    )


def response_rate(
    *,
    viewer: User,
    program: Program,
    survey: Survey | None = None,
    track_id: int | None = None,
    since: date | None = None,
    until: date | None = None,
) -> ResponseRate:
    """How many invitations were sent and answered (workflow counts: who answered is not
    secret, what they answered is). Dates compare with the day each invitation fell due."""
    require_results_viewer(viewer, program)
    invitations = SurveyInvitation.objects.filter(survey__program_id=program.pk)
    if survey is not None:
        invitations = invitations.filter(survey_id=survey.pk)
    if track_id is not None:
        invitations = invitations.filter(participant__track_id=track_id)
    if since is not None:
        invitations = invitations.filter(due_on__gte=since)
    if until is not None:
        invitations = invitations.filter(due_on__lte=until)
    return _response_rate(invitations)


@dataclass(frozen=True)
class DimensionChange:
    """Paired change on one goal dimension: the same people before and after, 1-5."""

    key: str
    label: str
    is_suppressed: bool
    note: str
    pairs: int | None
    mean_before: float | None
    mean_after: float | None
    mean_change: float | None
    improved_percent: float | None


@dataclass(frozen=True)
class AssessmentChange:
    is_suppressed: bool
    note: str
    pairs: int | None
    dimensions: list[DimensionChange]
    has_surveys: bool


def assessment_change(
    *, viewer: User, program: Program, track_id: int | None = None
) -> AssessmentChange:
    """Pre/post self-assessment as paired change per goal dimension (confidence, skills,
    belonging, network). Only people who answered both count; a person's several "after"
    answers (several connections) are averaged. A dimension with fewer pairs than the
    threshold is suppressed; so is everything when fewer people than that were paired."""
    require_results_viewer(viewer, program)
    threshold = program.anonymity_threshold
    note = suppression_note(threshold)
    before_after = (SurveyPurpose.PRE_ASSESSMENT, SurveyPurpose.POST_ASSESSMENT)
    answers = SurveyAnswer.objects.filter(
        survey__program_id=program.pk,
        survey__purpose__in=before_after,
        question__key__in=list(ASSESSMENT_DIMENSIONS),
        number__isnull=False,
    )
    if track_id is not None:
        answers = answers.filter(track_id=track_id)
    rows = (
        answers.values_list(PERSON, "question__key", "survey__purpose")
        .annotate(value=Avg("number"))
        .order_by()
    )
    values: dict[tuple[str, str], dict[str, float]] = defaultdict(dict)
    for person, key, purpose, value in rows:
        values[(person, key)][purpose] = float(value)
    paired_people: set[str] = set()
    dimensions = []
    for key, label in ASSESSMENT_DIMENSIONS.items():
        pairs = [
            (found[SurveyPurpose.PRE_ASSESSMENT], found[SurveyPurpose.POST_ASSESSMENT])
            for (person, dimension), found in values.items()
            if dimension == key and len(found) == 2
        ]
        paired_people.update(
            person
            for (person, dimension), found in values.items()
            if dimension == key and len(found) == 2
        )
        if len(pairs) < threshold:
            dimensions.append(DimensionChange(key, label, True, note, None, None, None, None, None))
            continue
        count = len(pairs)
        before = sum(pair[0] for pair in pairs) / count
        after = sum(pair[1] for pair in pairs) / count
        improved = sum(1 for pair in pairs if pair[1] > pair[0])
        dimensions.append(
            DimensionChange(
                key=key,
                label=label,
                is_suppressed=False,
                note="",
                pairs=count,
                mean_before=round(before, 2),
                mean_after=round(after, 2),
                mean_change=round(after - before, 2),
                improved_percent=round(100 * improved / count, 1),
            )
        )
    has_surveys = Survey.objects.filter(program_id=program.pk, purpose__in=before_after).exists()
    paired = len(paired_people)
    if paired < threshold:
        return AssessmentChange(
            True,
            note,
            None,
            [
                DimensionChange(k, v, True, note, None, None, None, None, None)
                for k, v in ASSESSMENT_DIMENSIONS.items()
            ],
            has_surveys,
        )
    return AssessmentChange(False, "", paired, dimensions, has_surveys)


# --- across programs --------------------------------------------------------------------------
@dataclass(frozen=True)
class ProgramSurveyOverview:
    program_id: int
    satisfaction: RatingSummary
    nps: NpsSummary
    response_rate: ResponseRate


def _manageable_ids(viewer: User, programs: Iterable[Program]) -> dict[int, Program]:
    programs = list(programs)
    if not (getattr(viewer, "is_authenticated", False) and viewer.is_active):
        return {}
    if viewer.is_org_admin:
        return {program.pk: program for program in programs}
    managed = set(
        ProgramManager.objects.filter(
            user_id=viewer.pk, program_id__in=[p.pk for p in programs]
        ).values_list("program_id", flat=True)
    )
    return {program.pk: program for program in programs if program.pk in managed}


def programs_survey_overview(
    *, viewer: User, programs: Iterable[Program]
) -> dict[int, ProgramSurveyOverview]:
    """Satisfaction, likelihood to recommend and response rate for each of `programs` the
    viewer manages (the others are left out), each program against its own threshold. A
    constant number of queries, whatever the number of programs."""
    allowed = _manageable_ids(viewer, programs)
    if not allowed:
        return {}
    by_program = "survey__program_id"
    base = SurveyAnswer.objects.filter(survey__program_id__in=list(allowed), number__isnull=False)
    satisfaction, _ = _tally(
        base.filter(question__key=SATISFACTION_KEY, question__kind=QuestionKind.RATING),
        by=by_program,
        breakdown=None,
    )
    nps, _ = _tally(
        base.filter(question__kind=QuestionKind.NPS),
        by=by_program,
        breakdown=None,
    )
    rates = {
        row["survey__program_id"]: ResponseRate(row["invited"], row["answered"])
        for row in SurveyInvitation.objects.filter(survey__program_id__in=list(allowed))
        .values("survey__program_id")
        .annotate(invited=Count("pk"), answered=Count("pk", filter=Q(answered_at__isnull=False)))
        .order_by()
    }
    overview = {}
    for program_id, program in allowed.items():
        threshold = program.anonymity_threshold
        note = suppression_note(threshold)
        found = satisfaction.get(program_id, _Tally())
        rating = (
            RatingSummary(found.people, False, "", RatingStats.from_counts(found.values), [])
            if found.people >= threshold
            else RatingSummary(None, True, note, None, [])
        )
        found = nps.get(program_id, _Tally())
        recommend = (
            NpsSummary(found.people, False, "", NpsStats.from_counts(found.values), [])
            if found.people >= threshold
            else NpsSummary(None, True, note, None, [])
        )
        overview[program_id] = ProgramSurveyOverview(
            program_id=program_id,
            satisfaction=rating,
            nps=recommend,
            response_rate=rates.get(program_id, ResponseRate(0, 0)),
        )
    return overview
