"""Reads for the survey pages, and (re-exported from the aggregates package) the
anonymity-respecting totals that dashboards and the program report use.

Managers reach surveys through `get_survey_for`; participants reach their invitations through
`get_invitation_for`, which answers 404 to everyone but the invited person (managers and admins
included: an invitation and its answers are the participant's own).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.paginator import Page, Paginator
from django.db.models import (
    BooleanField,
    Count,
    ExpressionWrapper,
    OuterRef,
    Prefetch,
    Q,
    Subquery,
)
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import timezone

from peermentor.accounts.models import User
from peermentor.programs.models import Program
from peermentor.programs.permissions import can_view_program
from peermentor.surveys.aggregates import (
    BREAKDOWNS,
    AssessmentChange,
    ChoiceStats,
    DimensionChange,
    Group,
    NpsStats,
    NpsSummary,
    ProgramSurveyOverview,
    QuestionResult,
    RatingStats,
    RatingSummary,
    ResponseRate,
    SurveyResults,
    assessment_change,
    hidden_groups,
    nps_summary,
    programs_survey_overview,
    response_rate,
    satisfaction_summary,
    suppression_note,
    survey_results,
)
from peermentor.surveys.defaults import SurveyTemplate, templates_for
from peermentor.surveys.models import (
    Survey,
    SurveyAnswer,
    SurveyInvitation,
    SurveyQuestion,
    SurveyResponse,
    SurveyStatus,
)
from peermentor.surveys.permissions import can_answer, can_manage_surveys, is_invitee
from peermentor.surveys.services import own_response

__all__ = [
    "BREAKDOWNS",
    "AssessmentChange",
    "ChoiceStats",
    "DimensionChange",
    "Group",
    "NpsStats",
    "NpsSummary",
    "ProgramSurveyOverview",
    "QuestionResult",
    "RatingStats",
    "RatingSummary",
    "ResponseRate",
    "SurveyResults",
    "assessment_change",
    "get_invitation_for",
    "get_survey_for",
    "hidden_groups",
    "my_surveys",
    "named_responses",
    "nps_summary",
    "programs_survey_overview",
    "response_rate",
    "satisfaction_summary",
    "suppression_note",
    "survey_builder",
    "survey_list",
    "survey_results",
    "surveys_to_answer",
]

PAGE_SIZE = 25


def get_survey_for(*, viewer: User, pk: Any) -> Survey:
    """The survey `pk` for its program's managers. Raises Http404 when it does not exist or
    the viewer cannot see its program, PermissionDenied when they see the program but do not
    manage it."""
    try:
        survey = Survey.objects.select_related("program").get(pk=pk)
    except (Survey.DoesNotExist, ValueError, TypeError):
        raise Http404("No such survey.") from None
    if can_manage_surveys(viewer, survey.program):
        return survey
    if can_view_program(viewer, survey.program):
        raise PermissionDenied("Only the program's managers may see its surveys.")
    raise Http404("No such survey.")


def get_question_for(*, survey: Survey, pk: Any) -> SurveyQuestion:
    try:
        return SurveyQuestion.objects.select_related("survey__program").get(
            pk=pk, survey_id=survey.pk
        )
    except (SurveyQuestion.DoesNotExist, ValueError, TypeError):
        raise Http404("No such question.") from None


@dataclass(frozen=True)
class SurveyRow:
    survey: Survey
    question_count: int
    invited: int
    answered: int


def survey_list(*, viewer: User, program: Program) -> list[SurveyRow]:
    """The program's surveys, newest first, with their question and invitation counts (one
    query: counts come from subqueries, so they do not multiply each other)."""
    if not can_manage_surveys(viewer, program):
        raise PermissionDenied("Only the program's managers may see its surveys.")

    def count(queryset: Any) -> Any:
        return Coalesce(
            Subquery(
                queryset.filter(survey_id=OuterRef("pk"))
                .order_by()
                .values("survey_id")
                .annotate(n=Count("pk"))
                .values("n")[:1]
            ),
            0,
        )

    surveys = (
        Survey.objects.filter(program_id=program.pk)
        .annotate(
            question_count=count(SurveyQuestion.objects.all()),
            invited=count(SurveyInvitation.objects.all()),
            answered=count(SurveyInvitation.objects.filter(answered_at__isnull=False)),
        )
        .order_by("-created_at", "-id")
    )
    return [
        SurveyRow(survey, survey.question_count, survey.invited, survey.answered)
        for survey in surveys
    ]


def available_templates(*, program: Program) -> list[SurveyTemplate]:
    """The format's templates, without the self-assessments the program already has (there
    is one of each)."""
    taken = set(Survey.objects.filter(program_id=program.pk).values_list("purpose", flat=True))
    return [
        template
        for template in templates_for(program.format, list(program.goals or []))
        if not (
            template.purpose in ("pre_assessment", "post_assessment") and template.purpose in taken
        )
    ]


@dataclass(frozen=True)
class Builder:
    survey: Survey
    questions: list[SurveyQuestion]
    answered_question_ids: set[int]
    has_invitations: bool

    @property
    def has_answers(self) -> bool:
        return bool(self.answered_question_ids)


def survey_builder(*, viewer: User, survey: Survey) -> Builder:
    if not can_manage_surveys(viewer, survey.program):
        raise PermissionDenied("Only the program's managers may change its surveys.")
    questions = list(survey.questions.all())
    answered = set(
        SurveyAnswer.objects.filter(question__survey_id=survey.pk)
        .values_list("question_id", flat=True)
        .distinct()
    )
    has_invitations = SurveyInvitation.objects.filter(survey_id=survey.pk).exists()
    return Builder(survey, questions, answered, has_invitations)


@dataclass(frozen=True)
class NamedResponse:
    response: SurveyResponse
    cells: list[str]


@dataclass(frozen=True)
class NamedResponses:
    questions: list[SurveyQuestion]
    page: Page


def _cell(answers: list[SurveyAnswer]) -> str:
    return "; ".join(
        str(answer.number) if answer.number is not None else answer.choice or answer.text
        for answer in answers
    )


def named_responses(*, viewer: User, survey: Survey, page_number: Any = None) -> NamedResponses:
    """Who answered what, for a survey that is NOT anonymous (the participants were told their
    name goes with their answers), one row per response with one cell per question. Raises
    Http404 for an anonymous survey: its individual answers exist for their authors only."""
    if not can_manage_surveys(viewer, survey.program):
        raise PermissionDenied("Only the program's managers may read its survey responses.")
    if survey.is_anonymous:
        raise Http404("Anonymous surveys have no individual responses to show.")
    questions = list(survey.questions.all())
    responses = (
        SurveyResponse.objects.filter(survey_id=survey.pk, is_anonymous=False)
        .select_related("participant__person")
        .prefetch_related(Prefetch("answers", queryset=SurveyAnswer.objects.order_by("choice")))
        .order_by("-submitted_at", "pk")
    )
    # The page's responses are replaced by their rows.
    page: Page[Any] = Paginator(responses, PAGE_SIZE).get_page(page_number)
    rows = []
    for response in page.object_list:
        by_question: dict[int, list[SurveyAnswer]] = {}
        for answer in response.answers.all():
            by_question.setdefault(answer.question_id, []).append(answer)
        rows.append(NamedResponse(response, [_cell(by_question.get(q.pk, [])) for q in questions]))
    page.object_list = rows
    return NamedResponses(questions, page)


# --- participants -----------------------------------------------------------------------------
def my_surveys(*, viewer: User, page_number: Any = None, today: date | None = None) -> Page:
    """The viewer's own invitations: the ones they can still answer or change first, then the
    rest, newest first."""
    today = today or timezone.localdate()
    invitations = (
        SurveyInvitation.objects.filter(participant__person__user_id=viewer.pk)
        .select_related("survey__program", "connection")
        .annotate(
            is_open_now=ExpressionWrapper(
                Q(survey__status=SurveyStatus.OPEN, closes_on__gte=today),
                output_field=BooleanField(),
            )
        )
        .order_by("-is_open_now", "-due_on", "-id")
    )
    return Paginator(invitations, PAGE_SIZE).get_page(page_number)


def surveys_to_answer(*, viewer: User, limit: int = 5, today: date | None = None) -> list[Any]:
    """The viewer's invitations still waiting for an answer (open survey, window not passed),
    soonest closing first, at most `limit` — for a home page's "what needs you now". One
    query."""
    if not getattr(viewer, "is_authenticated", False):
        return []
    today = today or timezone.localdate()
    return list(
        SurveyInvitation.objects.filter(
            participant__person__user_id=viewer.pk,
            answered_at__isnull=True,
            survey__status=SurveyStatus.OPEN,
            closes_on__gte=today,
        )
        .select_related("survey__program")
        .order_by("closes_on", "id")[:limit]
    )


@dataclass(frozen=True)
class OwnAnswers:
    invitation: SurveyInvitation
    questions: list[SurveyQuestion]
    values: dict[str, Any]
    has_answered: bool
    may_change: bool

    @property
    def survey(self) -> Survey:
        return self.invitation.survey

    @property
    def rows(self) -> list[tuple[SurveyQuestion, str]]:
        """Each question with the viewer's answer as text ("" when they left it blank)."""
        shown = []
        for question in self.questions:
            value = self.values.get(question.key, "")
            if isinstance(value, list):
                value = ", ".join(value)
            shown.append((question, str(value)))
        return shown


def get_invitation_for(*, viewer: User, pk: Any, today: date | None = None) -> OwnAnswers:
    """The viewer's invitation `pk` with the questions and their own answers (keyed by question
    key: a number, a choice, a list of choices or a text). Http404 for anyone else."""
    try:
        invitation = SurveyInvitation.objects.select_related(
            "survey__program", "participant__person", "connection"
        ).get(pk=pk)
    except (SurveyInvitation.DoesNotExist, ValueError, TypeError):
        raise Http404("No such survey.") from None
    if not is_invitee(viewer, invitation):
        raise Http404("No such survey.")
    questions = list(invitation.survey.questions.all())
    response = own_response(invitation)
    values: dict[str, Any] = {}
    if response is not None:
        keys = {question.pk: question for question in questions}
        for answer in response.answers.all():
            question = keys.get(answer.question_id)
            if question is None:
                continue
            if question.kind == "multiple_choice":
                values.setdefault(question.key, []).append(answer.choice)
            elif answer.number is not None:
                values[question.key] = answer.number
            else:
                values[question.key] = answer.choice or answer.text
    today = today or timezone.localdate()
    return OwnAnswers(
        invitation=invitation,
        questions=questions,
        values=values,
        has_answered=response is not None,
        may_change=can_answer(invitation, today),
    )
