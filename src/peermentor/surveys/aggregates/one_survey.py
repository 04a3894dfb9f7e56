"""One survey's results, question by question, as far as anonymity allows."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q, QuerySet

from peermentor.accounts.models import User
from peermentor.surveys.aggregates.counting import (
    BREAKDOWNS,
    TEXT_ANSWERS_LIMIT,
    Group,
    _check_breakdown,
    _groups,
    _stats,
    _Tally,
    _tally,
    require_results_viewer,
    suppression_note,
)
from peermentor.surveys.models import (
    QuestionKind,
    Survey,
    SurveyAnswer,
    SurveyInvitation,
    SurveyQuestion,
    SurveyResponse,
)


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
    # People who answered since the results last moved; they count from the next batch on.
    waiting_people: int = 0


def survey_results(*, viewer: User, survey: Survey, breakdown: str | None = None) -> SurveyResults:
    """The survey's results per question, as far as anonymity allows (see the module
    docstring); `breakdown` adds the groups of "department", "site" or "track"."""
    program = survey.program
    require_results_viewer(viewer, program)
    _check_breakdown(breakdown)
    threshold = program.anonymity_threshold
    note = suppression_note(threshold)
    questions = list(survey.questions.all())
    counts = SurveyResponse.objects.filter(survey_id=survey.pk).aggregate(
        people=Count("person_number", distinct=True, filter=Q(is_released=True)),
        waiting=Count("person_number", distinct=True, filter=Q(is_released=False)),
    )
    people, waiting_people = counts["people"], counts["waiting"]
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
            waiting_people=waiting_people,
        )
    answers = SurveyAnswer.objects.filter(survey_id=survey.pk, response__is_released=True)
    tallies, labels = _tally(answers, by="question_id", breakdown=breakdown)
    texts = _readable_texts(answers, questions, tallies, threshold)
    results = [
        _text_result(question, tallies, texts, threshold, note)
        if question.kind == QuestionKind.TEXT
        else _tallied_result(question, tallies, labels, threshold, note, breakdown=breakdown)
        for question in questions
    ]
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
        waiting_people=waiting_people,
    )


def _readable_texts(
    answers: QuerySet[SurveyAnswer],
    questions: list[SurveyQuestion],
    tallies: dict[Any, _Tally],
    threshold: int,
) -> dict[int, list[str]]:
    """The text answers of each text question enough people answered (up to a limit)."""
    readable_text_ids = [
        q.pk
        for q in questions
        if q.kind == QuestionKind.TEXT and _people(tallies, q.pk) >= threshold
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
    return texts


def _people(tallies: dict[Any, _Tally], key: Any) -> int:
    tally = tallies.get(key)
    return tally.people if tally is not None else 0


def _text_result(
    question: SurveyQuestion,
    tallies: dict[Any, _Tally],
    texts: dict[int, list[str]],
    threshold: int,
    note: str,
) -> QuestionResult:
    count = _people(tallies, question.pk)
    shown = count >= threshold
    return QuestionResult(
        question,
        not shown,
        "" if shown else note,
        count if shown else None,
        None,
        texts.get(question.pk, []),
        [],
    )


def _tallied_result(
    question: SurveyQuestion,
    tallies: dict[Any, _Tally],
    labels: Any,
    threshold: int,
    note: str,
    *,
    breakdown: str | None,
) -> QuestionResult:
    """A choice or number question's statistics, overall and per group, when enough people
    answered (and, per group, enough people of the group)."""
    tally = tallies.get(question.pk, _Tally())

    def make_stats(counts: dict[Any, int]) -> Any:
        return _stats(question.kind, counts, question.choices)

    shown = tally.people >= threshold
    return QuestionResult(
        question=question,
        is_suppressed=not shown,
        note="" if shown else note,
        people=tally.people if shown else None,
        stats=make_stats(tally.values) if shown else None,
        texts=[],
        groups=_groups(tally, labels, threshold, make_stats) if breakdown and shown else [],
    )


def _response_rate(invitations: QuerySet[SurveyInvitation]) -> ResponseRate:
    counts = invitations.aggregate(
        invited=Count("pk"), answered=Count("pk", filter=Q(answered_at__isnull=False))
    )
    return ResponseRate(invited=counts["invited"], answered=counts["answered"])
