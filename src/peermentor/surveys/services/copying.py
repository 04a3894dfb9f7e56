"""Copying a program's surveys to its next cohort."""

from __future__ import annotations

from datetime import timedelta

from django.core.exceptions import PermissionDenied
from django.db import transaction

from peermentor.accounts.models import User
from peermentor.programs.models import Program
from peermentor.surveys.models import Survey, SurveyQuestion
from peermentor.surveys.permissions import can_manage_surveys
from peermentor.surveys.services.lifecycle import survey_create


@transaction.atomic
def surveys_copy(*, actor: User, source: Program, target: Program) -> int:
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
