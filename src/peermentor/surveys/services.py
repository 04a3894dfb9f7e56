"""Every write of the surveys app: build a survey, open and close it, answer it.

The scheduled sending of invitations and reminders lives in schedules.py; it writes only
invitations and notifications, never answers.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import date, timedelta
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.text import slugify

from peermentor.core.errors import ApplicationError, full_clean
from peermentor.core.permissions import require
from peermentor.core.services import audit_record
from peermentor.programs.models import Program
from peermentor.surveys import keys
from peermentor.surveys.defaults import SurveyTemplate, template_for
from peermentor.surveys.models import (
    CHOICE_KINDS,
    CHOICE_MAX_LENGTH,
    CONNECTION_SCHEDULES,
    DEFAULT_OPEN_DAYS,
    DEFAULT_REMINDER_AFTER_DAYS,
    NUMBER_RANGE,
    TEXT_ANSWER_MAX_LENGTH,
    QuestionKind,
    Survey,
    SurveyAnswer,
    SurveyAudience,
    SurveyInvitation,
    SurveyPurpose,
    SurveyQuestion,
    SurveyResponse,
    SurveySchedule,
    SurveyStatus,
)
from peermentor.surveys.permissions import can_answer, can_manage_surveys, is_invitee

MANAGERS_ONLY = "Only the program's managers may change its surveys."

MAX_CHOICES = 20
MAX_QUESTIONS = 50
KEY_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,59}$")
# Fields that decide who is asked and what their answers mean: fixed once anyone was asked.
FIXED_ONCE_SENT = {
    "is_anonymous": "Anonymous",
    "audience": "Who is asked",
    "schedule": "When it is sent",
    "purpose": "What it is for",
}


# --- helpers ----------------------------------------------------------------------------------
def _lock_survey(survey: Survey) -> Survey:
    return (
        Survey.objects.select_for_update(of=("self",)).select_related("program").get(pk=survey.pk)
    )


def _text(value: Any, *, field: str, label: str, max_length: int, required: bool) -> str:
    if value is not None and not isinstance(value, str):
        raise ApplicationError(f"{label} must be text.", field=field)
    text = (value or "").strip()
    if required and not text:
        raise ApplicationError(f"{label} cannot be empty.", field=field)
    if len(text) > max_length:
        raise ApplicationError(
            f"{label} is too long: keep it under {max_length} characters.", field=field
        )
    return text


def _has_answers(survey: Survey) -> bool:
    return SurveyResponse.objects.filter(survey_id=survey.pk).exists()


def _check_schedule(
    *,
    purpose: str,
    audience: str,
    schedule: str,
    send_on: date | None,
    days_after_start: int | None,
) -> tuple[date | None, int | None]:
    """The schedule's own date or day count (the other cleared), or a field error."""
    if purpose not in SurveyPurpose.values:
        raise ApplicationError("Choose what the survey is for.", field="purpose")
    if audience not in SurveyAudience.values:
        raise ApplicationError("Choose who is asked.", field="audience")
    if schedule not in SurveySchedule.values:
        raise ApplicationError("Choose when the survey is sent.", field="schedule")
    if schedule in CONNECTION_SCHEDULES and audience != SurveyAudience.CONNECTION_MEMBERS:
        raise ApplicationError(
            "A survey timed from a connection's start or end goes to the members of each "
            "connection: choose that audience.",
            field="audience",
        )
    if schedule == SurveySchedule.AT_ENROLLMENT and audience != SurveyAudience.PARTICIPANTS:
        raise ApplicationError(
            "A survey sent at enrollment goes to each participant: choose that audience.",
            field="audience",
        )
    if schedule == SurveySchedule.ON_DATE:
        if send_on is None:
            raise ApplicationError("Choose the date to send it on.", field="send_on")
    else:
        send_on = None
    if schedule == SurveySchedule.AFTER_START:
        if days_after_start is None:
            raise ApplicationError(
                "Say how many days after the start to send it.", field="days_after_start"
            )
    else:
        days_after_start = None
    return send_on, days_after_start


def _check_days(open_days: Any, reminder_after_days: Any) -> None:
    """The reminder must come while the survey can still be answered (the database says so
    too; this says it beside the field)."""
    if (
        isinstance(open_days, int)
        and isinstance(reminder_after_days, int)
        and 1 <= open_days <= reminder_after_days
    ):
        raise ApplicationError(
            "Send the reminder before the answering window ends: fewer days than it lasts.",
            field="reminder_after_days",
        )


def _check_one_assessment(program: Program, purpose: str, exclude_pk: int | None = None) -> None:
    if purpose not in (SurveyPurpose.PRE_ASSESSMENT, SurveyPurpose.POST_ASSESSMENT):
        return
    others = Survey.objects.filter(program_id=program.pk, purpose=purpose)
    if exclude_pk is not None:
        others = others.exclude(pk=exclude_pk)
    if others.exists():
        raise ApplicationError(
            f"This program already has a survey for “{SurveyPurpose(purpose).label}”: "
            "before and after are compared one survey with the other.",
            field="purpose",
        )


# --- surveys ----------------------------------------------------------------------------------
@transaction.atomic
def survey_create(
    *,
    actor: Any,
    program: Program,
    title: str,
    description: str = "",
    purpose: str = SurveyPurpose.CUSTOM,
    is_anonymous: bool = True,
    audience: str = SurveyAudience.PARTICIPANTS,
    schedule: str = SurveySchedule.ON_DATE,
    send_on: date | None = None,
    days_after_start: int | None = None,
    open_days: int = DEFAULT_OPEN_DAYS,
    reminder_after_days: int = DEFAULT_REMINDER_AFTER_DAYS,
    template_key: str = "",
) -> Survey:
    """Afterwards a draft survey without questions exists in `program`; nobody is asked
    anything until a manager opens it."""
    require(can_manage_surveys(actor, program), MANAGERS_ONLY)
    send_on, days_after_start = _check_schedule(
        purpose=purpose,
        audience=audience,
        schedule=schedule,
        send_on=send_on,
        days_after_start=days_after_start,
    )
    _check_one_assessment(program, purpose)
    _check_days(open_days, reminder_after_days)
    survey = Survey(
        program=program,
        title=_text(title, field="title", label="The title", max_length=200, required=True),
        description=_text(
            description,
            field="description",
            label="The introduction",
            max_length=2000,
            required=False,
        ),
        purpose=purpose,
        is_anonymous=bool(is_anonymous),
        audience=audience,
        schedule=schedule,
        send_on=send_on,
        days_after_start=days_after_start,
        open_days=open_days,
        reminder_after_days=reminder_after_days,
        template_key=template_key,
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    full_clean(survey, exclude=["program", "created_by"])
    survey.save()
    audit_record(
        actor=actor,
        action="survey.created",
        target=survey,
        program_id=program.pk,
        to_state=SurveyStatus.DRAFT,
        data={"title": survey.title, "is_anonymous": survey.is_anonymous},
    )
    return survey


@transaction.atomic
def survey_update(
    *,
    actor: Any,
    survey: Survey,
    title: str,
    description: str = "",
    purpose: str,
    is_anonymous: bool,
    audience: str,
    schedule: str,
    send_on: date | None = None,
    days_after_start: int | None = None,
    open_days: int = DEFAULT_OPEN_DAYS,
    reminder_after_days: int = DEFAULT_REMINDER_AFTER_DAYS,
) -> Survey:
    """Afterwards the survey has the given settings. Once anyone was asked, whether it is
    anonymous, who is asked, when, and what it is for stay as they were (changing them would
    change the meaning of answers already given, or the promise made to those who gave them)."""
    survey = _lock_survey(survey)
    require(can_manage_surveys(actor, survey.program), MANAGERS_ONLY)
    if survey.status == SurveyStatus.CLOSED:
        raise ApplicationError("This survey is closed: reopen it to change it.")
    send_on, days_after_start = _check_schedule(
        purpose=purpose,
        audience=audience,
        schedule=schedule,
        send_on=send_on,
        days_after_start=days_after_start,
    )
    wanted = {
        "is_anonymous": bool(is_anonymous),
        "audience": audience,
        "schedule": schedule,
        "purpose": purpose,
    }
    if SurveyInvitation.objects.filter(survey_id=survey.pk).exists():
        for name in FIXED_ONCE_SENT:
            if getattr(survey, name) != wanted[name]:
                label = FIXED_ONCE_SENT[name]
                raise ApplicationError(
                    f"People have been asked already, so “{label}” can no longer change. "
                    "Create a new survey instead.",
                    field=name,
                )
    _check_one_assessment(survey.program, purpose, exclude_pk=survey.pk)
    _check_days(open_days, reminder_after_days)
    before = {name: getattr(survey, name) for name in FIXED_ONCE_SENT}
    survey.title = _text(title, field="title", label="The title", max_length=200, required=True)
    survey.description = _text(
        description,
        field="description",
        label="The introduction",
        max_length=2000,
        required=False,
    )
    for name, value in wanted.items():
        setattr(survey, name, value)
    survey.send_on = send_on
    survey.days_after_start = days_after_start
    survey.open_days = open_days
    survey.reminder_after_days = reminder_after_days
    full_clean(survey, exclude=["program", "created_by"])
    survey.save()
    audit_record(
        actor=actor,
        action="survey.updated",
        target=survey,
        program_id=survey.program_id,
        data={
            name: getattr(survey, name)
            for name in FIXED_ONCE_SENT
            if before[name] != getattr(survey, name)
        },
    )
    return survey


@transaction.atomic
def survey_open(*, actor: Any, survey: Survey) -> Survey:
    """Afterwards the survey is open: the next schedule run asks whoever it is due for, and
    invitations already sent can be answered again."""
    survey = _lock_survey(survey)
    require(can_manage_surveys(actor, survey.program), MANAGERS_ONLY)
    if survey.status == SurveyStatus.OPEN:
        raise ApplicationError("This survey is already open.")
    if not survey.questions.exists():
        raise ApplicationError("Add at least one question before opening the survey.")
    before = survey.status
    survey.status = SurveyStatus.OPEN
    survey.opened_at = timezone.now()
    survey.closed_at = None
    survey.save(update_fields=["status", "opened_at", "closed_at", "updated_at"])
    audit_record(
        actor=actor,
        action="survey.opened",
        target=survey,
        program_id=survey.program_id,
        from_state=before,
        to_state=SurveyStatus.OPEN,
    )
    return survey


@transaction.atomic
def survey_close(*, actor: Any, survey: Survey, reason: str = "") -> Survey:
    """Afterwards the survey is closed: nobody is asked any more, and answers can no longer be
    given or changed. Results stay."""
    survey = _lock_survey(survey)
    require(can_manage_surveys(actor, survey.program), MANAGERS_ONLY)
    if survey.status != SurveyStatus.OPEN:
        raise ApplicationError("Only an open survey can be closed.")
    survey.status = SurveyStatus.CLOSED
    survey.closed_at = timezone.now()
    survey.save(update_fields=["status", "closed_at", "updated_at"])
    audit_record(
        actor=actor,
        action="survey.closed",
        target=survey,
        program_id=survey.program_id,
        from_state=SurveyStatus.OPEN,
        to_state=SurveyStatus.CLOSED,
        reason=_text(reason, field="reason", label="The reason", max_length=2000, required=False),
    )
    return survey


@transaction.atomic
def survey_delete(*, actor: Any, survey: Survey) -> None:
    """Afterwards the draft survey and its questions are gone. A survey anyone was asked keeps
    its history: close it instead."""
    survey = _lock_survey(survey)
    require(can_manage_surveys(actor, survey.program), MANAGERS_ONLY)
    if SurveyInvitation.objects.filter(survey_id=survey.pk).exists():
        raise ApplicationError("People have been asked this survey: close it instead.")
    audit_record(
        actor=actor,
        action="survey.deleted",
        target=survey,
        program_id=survey.program_id,
        from_state=survey.status,
        data={"title": survey.title},
    )
    survey.delete()


@transaction.atomic
def survey_add_from_template(
    *,
    actor: Any,
    program: Program,
    template_key: str,
    send_on: date | None = None,
    today: date | None = None,
) -> Survey:
    """Afterwards `program` has a draft survey copied from the template (questions included),
    ready to edit and open. A template sent on a date uses `send_on`, else the program's planned
    end, else 30 days from today."""
    require(can_manage_surveys(actor, program), MANAGERS_ONLY)
    template = template_for(program.format, list(program.goals or []), template_key)
    if template is None:
        raise ApplicationError(
            "There is no such survey template for this program's format.", field="template_key"
        )
    if template.schedule == SurveySchedule.ON_DATE and send_on is None:
        send_on = program.planned_end_on or (today or timezone.now().date()) + timedelta(days=30)
    survey = survey_create(
        actor=actor,
        program=program,
        title=template.title,
        description=template.description,
        purpose=template.purpose,
        is_anonymous=template.is_anonymous,
        audience=template.audience,
        schedule=template.schedule,
        send_on=send_on,
        days_after_start=template.days_after_start,
        template_key=template.key,
    )
    _questions_from_template(survey, template)
    return survey


def _questions_from_template(survey: Survey, template: SurveyTemplate) -> None:
    SurveyQuestion.objects.bulk_create(
        [
            SurveyQuestion(
                survey=survey,
                key=question.key,
                text=question.text,
                help_text=question.help_text,
                kind=question.kind,
                choices=list(question.choices),
                is_required=question.is_required,
                position=position,
            )
            for position, question in enumerate(template.questions)
        ]
    )


# --- questions --------------------------------------------------------------------------------
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
    taken = set(
        SurveyQuestion.objects.filter(survey_id=survey.pk)
        .exclude(pk=exclude_pk)
        .values_list("key", flat=True)
    )
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
    actor: Any,
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
    actor: Any,
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
def survey_question_delete(*, actor: Any, question: SurveyQuestion) -> None:
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
def survey_question_move(*, actor: Any, question: SurveyQuestion, direction: str) -> None:
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


# --- answering --------------------------------------------------------------------------------
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
    actor: Any,
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


# --- copying a program ------------------------------------------------------------------------
@transaction.atomic
def surveys_copy(*, actor: Any, source: Program, target: Program) -> int:
    """Afterwards `target` has a draft copy of every survey of `source` (settings, questions,
    schedule), never its invitations or answers. Dates sent on a date move with the program's
    start when both programs have one. A self-assessment `target` already has is not copied
    twice. Returns how many surveys were copied."""
    if not (can_manage_surveys(actor, source) and can_manage_surveys(actor, target)):
        raise PermissionDenied("Only managers of both programs may copy their surveys.")
    shift = (
        target.starts_on - source.starts_on
        if target.starts_on is not None and source.starts_on is not None
        else timedelta(0)
    )
    taken = set(Survey.objects.filter(program_id=target.pk).values_list("purpose", flat=True))
    copied = 0
    for survey in Survey.objects.filter(program_id=source.pk).prefetch_related("questions"):
        if survey.is_assessment and survey.purpose in taken:
            continue
        copy = survey_create(
            actor=actor,
            program=target,
            title=survey.title,
            description=survey.description,
            purpose=survey.purpose,
            is_anonymous=survey.is_anonymous,
            audience=survey.audience,
            schedule=survey.schedule,
            send_on=survey.send_on + shift if survey.send_on else None,
            days_after_start=survey.days_after_start,
            open_days=survey.open_days,
            reminder_after_days=survey.reminder_after_days,
            template_key=survey.template_key,
        )
        SurveyQuestion.objects.bulk_create(
            [
                SurveyQuestion(
                    survey=copy,
                    key=question.key,
                    text=question.text,
                    help_text=question.help_text,
                    kind=question.kind,
                    choices=list(question.choices),
                    is_required=question.is_required,
                    position=question.position,
                )
                for question in survey.questions.all()
            ]
        )
        copied += 1
    return copied
