"""A survey's questions: add, change, remove and reorder them while nobody has answered."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils.text import slugify

from peermentor.accounts.models import User
from peermentor.core.errors import ApplicationError, full_clean
from peermentor.core.permissions import require
from peermentor.core.services import audit_record
from peermentor.surveys.models import (
    CHOICE_KINDS,
    CHOICE_MAX_LENGTH,
    QuestionKind,
    Survey,
    SurveyAnswer,
    SurveyQuestion,
    SurveyStatus,
)
from peermentor.surveys.permissions import can_manage_surveys
from peermentor.surveys.services._common import MANAGERS_ONLY, _lock_survey, _text

MAX_CHOICES = 20
MAX_QUESTIONS = 50
KEY_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,59}$")


def _clean_choices(kind: str, choices: Iterable[Any] | None) -> list[str]:
    if kind not in CHOICE_KINDS:
        return []
    cleaned: list[str] = []
    for raw in choices or []:
        if not isinstance(raw, str):
            raise ApplicationError("Each option must be text.", field="choices")
        option = " ".join(raw.split())
        if not option:
            continue
        if len(option) > CHOICE_MAX_LENGTH:
            raise ApplicationError(
                f"Keep each option under {CHOICE_MAX_LENGTH} characters.", field="choices"
            )
        if option.casefold() in {c.casefold() for c in cleaned}:
            raise ApplicationError(f"“{option}” is listed twice.", field="choices")
        cleaned.append(option)
    if len(cleaned) < 2:
        raise ApplicationError("Give at least two options, one per line.", field="choices")
    if len(cleaned) > MAX_CHOICES:
        raise ApplicationError(f"Give at most {MAX_CHOICES} options.", field="choices")
    return cleaned


def _clean_key(survey: Survey, key: str, text: str, exclude_pk: int | None = None) -> str:
    questions = SurveyQuestion.objects.filter(survey_id=survey.pk)
    if exclude_pk is not None:
        questions = questions.exclude(pk=exclude_pk)
    taken = set(questions.values_list("key", flat=True))
    if key:
        key = key.strip().lower()
        if not KEY_PATTERN.match(key):
            raise ApplicationError(
                "Use lower-case letters, digits and underscores, starting with a letter.",
                field="key",
            )
        if key in taken:
            raise ApplicationError("Another question of this survey has this key.", field="key")
        return key
    base = (slugify(text).replace("-", "_")[:50].strip("_") or "question").lstrip("0123456789_")
    base = base or "question"
    candidate, number = base, 2
    while candidate in taken:
        candidate, number = f"{base}_{number}", number + 1
    return candidate


@transaction.atomic
def survey_question_add(
    *,
    actor: User,
    survey: Survey,
    kind: str,
    text: str,
    key: str = "",
    help_text: str = "",
    choices: Iterable[Any] | None = None,
    is_required: bool = True,
) -> SurveyQuestion:
    """Afterwards the survey ends with this question. Questions can be added while the survey
    is not closed; answers given before simply do not include it."""
    survey = _lock_survey(survey)
    require(can_manage_surveys(actor, survey.program), MANAGERS_ONLY)
    if survey.status == SurveyStatus.CLOSED:
        raise ApplicationError("This survey is closed: reopen it to add questions.")
    if kind not in QuestionKind.values:
        raise ApplicationError("Choose a kind of question.", field="kind")
    text = _text(text, field="text", label="The question", max_length=300, required=True)
    if survey.questions.count() >= MAX_QUESTIONS:
        raise ApplicationError(f"A survey has at most {MAX_QUESTIONS} questions.")
    last = survey.questions.aggregate(last=Max("position"))["last"]
    question = SurveyQuestion(
        survey=survey,
        key=_clean_key(survey, key, text),
        text=text,
        help_text=_text(
            help_text, field="help_text", label="The hint", max_length=300, required=False
        ),
        kind=kind,
        choices=_clean_choices(kind, choices),
        is_required=bool(is_required),
        position=0 if last is None else last + 1,
    )
    full_clean(question, exclude=["survey"], validate_constraints=False)
    question.save()
    audit_record(
        actor=actor,
        action="survey.question_added",
        target=question,
        program_id=survey.program_id,
        data={"survey": survey.pk, "key": question.key, "kind": kind},
    )
    return question


@transaction.atomic
def survey_question_update(
    *,
    actor: User,
    question: SurveyQuestion,
    text: str,
    help_text: str = "",
    is_required: bool = True,
    kind: str | None = None,
    choices: Iterable[Any] | None = None,
    key: str | None = None,
) -> SurveyQuestion:
    """Afterwards the question reads as given. Once it has answers only its wording, hint and
    whether it is required may change: a new kind, key or set of options would make the
    answers already given mean something else."""
    survey = _lock_survey(question.survey)
    require(can_manage_surveys(actor, survey.program), MANAGERS_ONLY)
    question = SurveyQuestion.objects.get(pk=question.pk)
    if survey.status == SurveyStatus.CLOSED:
        raise ApplicationError("This survey is closed: reopen it to change questions.")
    kind = question.kind if kind is None else kind
    if kind not in QuestionKind.values:
        raise ApplicationError("Choose a kind of question.", field="kind")
    new_choices = _clean_choices(kind, question.choices if choices is None else choices)
    text = _text(text, field="text", label="The question", max_length=300, required=True)
    new_key = question.key if key is None or not key.strip() else key.strip().lower()
    answered = question.answers.exists()
    if answered:
        if kind != question.kind:
            raise ApplicationError(
                "People have answered this question, so its kind can no longer change.",
                field="kind",
            )
        if new_choices != question.choices:
            raise ApplicationError(
                "People have answered this question, so its options can no longer change.",
                field="choices",
            )
        if new_key != question.key:
            raise ApplicationError(
                "People have answered this question, so its key can no longer change.",
                field="key",
            )
    if new_key != question.key:
        new_key = _clean_key(survey, new_key, text, exclude_pk=question.pk)
    question.text = text
    question.help_text = _text(
        help_text, field="help_text", label="The hint", max_length=300, required=False
    )
    question.is_required = bool(is_required)
    question.kind = kind
    question.choices = new_choices
    question.key = new_key
    full_clean(question, exclude=["survey"], validate_constraints=False)
    question.save()
    audit_record(
        actor=actor,
        action="survey.question_updated",
        target=question,
        program_id=survey.program_id,
        data={"survey": survey.pk, "key": question.key},
    )
    return question


@transaction.atomic
def survey_question_delete(*, actor: User, question: SurveyQuestion) -> None:
    """Afterwards the question is gone. A question with answers stays (its answers are part of
    the results); close the survey and create a new one instead."""
    survey = _lock_survey(question.survey)
    require(can_manage_surveys(actor, survey.program), MANAGERS_ONLY)
    if survey.status == SurveyStatus.CLOSED:
        raise ApplicationError("This survey is closed: reopen it to change questions.")
    if SurveyAnswer.objects.filter(question_id=question.pk).exists():
        raise ApplicationError("People have answered this question, so it cannot be removed.")
    audit_record(
        actor=actor,
        action="survey.question_removed",
        target=question,
        program_id=survey.program_id,
        data={"survey": survey.pk, "key": question.key},
    )
    question.delete()
    _renumber(survey, list(survey.questions.order_by("position", "id")))


def _renumber(survey: Survey, ordered: list[SurveyQuestion]) -> None:
    for position, item in enumerate(ordered):
        item.position = position
    SurveyQuestion.objects.bulk_update(ordered, ["position"])


@transaction.atomic
def survey_question_move(*, actor: User, question: SurveyQuestion, direction: str) -> None:
    """Afterwards the question sits one place earlier ("up") or later ("down"); positions are
    0..n-1 in order. Moving the first up or the last down changes nothing."""
    survey = _lock_survey(question.survey)
    require(can_manage_surveys(actor, survey.program), MANAGERS_ONLY)
    if direction not in ("up", "down"):
        raise ApplicationError("Move a question up or down.", field="direction")
    ordered = list(survey.questions.order_by("position", "id"))
    index = next((i for i, item in enumerate(ordered) if item.pk == question.pk), None)
    if index is None:
        raise ApplicationError("That question is not part of this survey.")
    other = index - 1 if direction == "up" else index + 1
    if 0 <= other < len(ordered):
        ordered[index], ordered[other] = ordered[other], ordered[index]
    _renumber(survey, ordered)
    audit_record(
        actor=actor,
        action="survey.question_moved",
        target=question,
        program_id=survey.program_id,
        data={"survey": survey.pk, "direction": direction},
    )
