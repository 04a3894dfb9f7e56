"""A program's survey measures, what dashboards and the program report show: satisfaction,
net promoter score, response rate and the before/after self-assessment."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.db.models import Avg, QuerySet

from peermentor.accounts.models import User
from peermentor.programs.models import Program
from peermentor.surveys.aggregates.counting import (
    PERSON,
    Group,
    NpsStats,
    RatingStats,
    _check_breakdown,
    _groups,
    _stats,
    _Tally,
    _tally,
    require_results_viewer,
    suppression_note,
)
from peermentor.surveys.aggregates.one_survey import ResponseRate, _response_rate
from peermentor.surveys.defaults import ASSESSMENT_DIMENSIONS, SATISFACTION_KEY
from peermentor.surveys.models import (
    QuestionKind,
    Survey,
    SurveyAnswer,
    SurveyInvitation,
    SurveyPurpose,
)


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
    answers = SurveyAnswer.objects.filter(survey__program_id=program.pk, response__is_released=True)
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
        response__is_released=True,
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
