"""Answering a survey: checking each answer, finding the person's own response (named, or
anonymous by keyed hash) and storing the answers."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone

from peermentor.accounts.models import User
from peermentor.core.errors import ApplicationError
from peermentor.core.services import audit_record
from peermentor.surveys import keys
from peermentor.surveys.models import (
    NUMBER_RANGE,
    TEXT_ANSWER_MAX_LENGTH,
    QuestionKind,
    Survey,
    SurveyAnswer,
    SurveyInvitation,
    SurveyQuestion,
    SurveyResponse,
    SurveyStatus,
)
from peermentor.surveys.permissions import can_answer, is_invitee
from peermentor.surveys.services._common import _text


def _is_blank(value: Any) -> bool:
    return value is None or value == "" or (isinstance(value, list | tuple) and not value)


def clean_answer(question: SurveyQuestion, value: Any) -> list[SurveyAnswer]:
    """The answer rows for `value` (unsaved, without a response), or an ApplicationError on
    the question's field. Blank means unanswered: an error if the question is required."""
    field = f"q_{question.key}"
    if _is_blank(value):
        if question.is_required:
            raise ApplicationError("Please answer this question.", field=field)
        return []
    kind = question.kind
    if kind in NUMBER_RANGE:
        low, high = NUMBER_RANGE[kind]
        try:
            number = int(str(value).strip())
        except (TypeError, ValueError):
            number = None
        if number is None or isinstance(value, bool) or not low <= number <= high:
            raise ApplicationError(f"Choose a number from {low} to {high}.", field=field)
        return [SurveyAnswer(question=question, number=number)]
    if kind == QuestionKind.SINGLE_CHOICE:
        if not isinstance(value, str) or value not in question.choices:
            raise ApplicationError("Choose one of the options.", field=field)
        return [SurveyAnswer(question=question, choice=value)]
    if kind == QuestionKind.MULTIPLE_CHOICE:
        values = [value] if isinstance(value, str) else value
        if not isinstance(values, list | tuple) or any(
            not isinstance(item, str) or item not in question.choices for item in values
        ):
            raise ApplicationError("Choose among the options shown.", field=field)
        # Kept in the question's order, once each.
        return [
            SurveyAnswer(question=question, choice=option)
            for option in question.choices
            if option in values
        ]
    text = _text(
        value,
        field=field,
        label="The answer",
        max_length=TEXT_ANSWER_MAX_LENGTH,
        required=question.is_required,
    )
    return [SurveyAnswer(question=question, text=text)] if text else []


def own_response(invitation: SurveyInvitation) -> SurveyResponse | None:
    """The response given to `invitation`, found the way only the server can: by foreign key
    for a named survey, by the keyed hash of the invitation for an anonymous one."""
    if invitation.survey.is_anonymous:
        candidates = keys.respondent_keys(invitation.pk)
        found = {
            response.respondent_key: response
            for response in SurveyResponse.objects.filter(
                survey_id=invitation.survey_id, respondent_key__in=candidates
            )
        }
        return next((found[key] for key in candidates if key in found), None)
    return SurveyResponse.objects.filter(invitation_id=invitation.pk).first()


def new_response(invitation: SurveyInvitation, *, now: Any) -> SurveyResponse:
    """The (unsaved) response row for a first answer to `invitation`: named, or anonymous with
    only its keyed hashes and the breakdown fields (see models.py)."""
    survey = invitation.survey
    participant = invitation.participant
    response = SurveyResponse(
        survey=survey,
        is_anonymous=survey.is_anonymous,
        person_number=keys.person_number(survey.program_id, participant.pk),
        department_id=participant.person.department_id,
        site_id=participant.person.site_id,
        track_id=participant.track_id,
        month=invitation.due_on.replace(day=1),
    )
    if survey.is_anonymous:
        response.respondent_key = keys.respondent_key(invitation.pk)
    else:
        response.invitation = invitation
        response.participant = participant
        response.submitted_at = now
    return response


def responses_release_batch(*, survey: Survey) -> int:
    """Release the survey's waiting responses to its results once they come from at least the
    program's anonymity threshold of people (then all of them, together), so that the results
    move in steps no single answer can be told apart in. Returns how many were released."""
    waiting = SurveyResponse.objects.filter(survey_id=survey.pk, is_released=False)
    people = waiting.values("person_number").distinct().count()
    if people < survey.program.anonymity_threshold:
        return 0
    return waiting.update(is_released=True)


def answers_store(response: SurveyResponse, rows: list[SurveyAnswer]) -> None:
    """Insert `rows` (from clean_answer) as the answers of the saved `response`, each with the
    response's survey, person number and breakdown fields copied on."""
    for row in rows:
        row.response = response
        row.survey_id = response.survey_id
        row.person_number = response.person_number
        row.department_id = response.department_id
        row.site_id = response.site_id
        row.track_id = response.track_id
        row.month = response.month
    SurveyAnswer.objects.bulk_create(rows)


@transaction.atomic
def survey_answer(
    *,
    actor: User,
    invitation: SurveyInvitation,
    answers: Mapping[str, Any],
    today: date | None = None,
) -> SurveyResponse:
    """Afterwards the actor's answers to `invitation` are exactly `answers` (keyed by question
    key; a second call replaces the first), and the invitation counts as answered. Only the
    invited participant may answer, only while the survey is open and the invitation's window
    lasts. The audit trail records that they answered, never what; for an anonymous survey the
    stored response carries no link to them (see models.py)."""
    invitation = (
        SurveyInvitation.objects.select_for_update(of=("self",))
        .select_related("survey__program", "participant__person")
        .get(pk=invitation.pk)
    )
    if not is_invitee(actor, invitation):
        raise PermissionDenied("Only the person asked may answer this survey.")
    survey = invitation.survey
    today = today or timezone.localdate()
    if not can_answer(invitation, today):
        if survey.status != SurveyStatus.OPEN:
            raise ApplicationError("This survey is closed: answers can no longer change.")
        raise ApplicationError(
            f"This survey closed for you on {invitation.closes_on:%d %B %Y}: "
            "answers can no longer change."
        )
    rows: list[SurveyAnswer] = []
    questions = list(survey.questions.all())
    if not questions:
        raise ApplicationError("This survey has no questions yet.")
    for question in questions:
        rows.extend(clean_answer(question, answers.get(question.key)))
    if not rows:
        raise ApplicationError("Answer at least one question before sending.")
    response = own_response(invitation)
    now = timezone.now()
    is_change = response is not None
    if response is None:
        response = new_response(invitation, now=now)
        try:
            with transaction.atomic():
                response.save(force_insert=True)
        except IntegrityError:
            raise ApplicationError(
                "Your answers were just saved from another window: reload to see them."
            ) from None
    else:
        response.answers.all().delete()
        update_fields = []
        if survey.is_anonymous and response.respondent_key != keys.respondent_key(invitation.pk):
            # Found under a retired secret: store it under the current one.
            response.respondent_key = keys.respondent_key(invitation.pk)
            update_fields.append("respondent_key")
        if not survey.is_anonymous:
            response.updated_at = now
            update_fields.append("updated_at")
        if update_fields:
            response.save(update_fields=update_fields)
    answers_store(response, rows)
    responses_release_batch(survey=survey)
    if invitation.answered_at is None:
        invitation.answered_at = now
        invitation.save(update_fields=["answered_at"])
    # The invitation, not the response, is the target: an anonymous response's id must never
    # sit next to the actor's name in the audit trail.
    audit_record(
        actor=actor,
        action="survey.answers_changed" if is_change else "survey.answered",
        target=invitation,
        program_id=survey.program_id,
        data={"survey": survey.pk},
    )
    return response
