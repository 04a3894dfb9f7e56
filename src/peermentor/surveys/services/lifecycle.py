"""A survey's life as a whole: create and edit its settings, start one from a template, open,
close and delete it."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from peermentor.accounts.models import User
from peermentor.core.errors import ApplicationError, full_clean
from peermentor.core.permissions import require
from peermentor.core.services import audit_record
from peermentor.programs.models import Program
from peermentor.surveys.defaults import SurveyTemplate, template_for
from peermentor.surveys.models import (
    CONNECTION_SCHEDULES,
    DEFAULT_OPEN_DAYS,
    DEFAULT_REMINDER_AFTER_DAYS,
    Survey,
    SurveyAudience,
    SurveyInvitation,
    SurveyPurpose,
    SurveyQuestion,
    SurveyResponse,
    SurveySchedule,
    SurveyStatus,
)
from peermentor.surveys.permissions import can_manage_surveys
from peermentor.surveys.services._common import MANAGERS_ONLY, _lock_survey, _text

# Fields that decide who is asked and what their answers mean: fixed once anyone was asked.
FIXED_ONCE_SENT = {
    "is_anonymous": "Anonymous",
    "audience": "Who is asked",
    "schedule": "When it is sent",
    "purpose": "What it is for",
}


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


@transaction.atomic
def survey_create(
    *,
    actor: User,
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
    actor: User,
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
def survey_open(*, actor: User, survey: Survey) -> Survey:
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
def survey_close(*, actor: User, survey: Survey, reason: str = "") -> Survey:
    """Afterwards the survey is closed: nobody is asked any more, and answers can no longer be
    given or changed. Results stay."""
    survey = _lock_survey(survey)
    require(can_manage_surveys(actor, survey.program), MANAGERS_ONLY)
    if survey.status != SurveyStatus.OPEN:
        raise ApplicationError("Only an open survey can be closed.")
    survey.status = SurveyStatus.CLOSED
    survey.closed_at = timezone.now()
    survey.save(update_fields=["status", "closed_at", "updated_at"])
    # Closing releases the last batch, however small: no answer can follow it to tell apart.
    SurveyResponse.objects.filter(survey_id=survey.pk, is_released=False).update(is_released=True)
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
def survey_delete(*, actor: User, survey: Survey) -> None:
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
    actor: User,
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
