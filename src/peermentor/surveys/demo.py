"""Surveys for the demo organisation: a closed program whose report has something real to show.

`populate(program, rng, now)` is called by the demo loader for a (closed) program. It adds the
closing survey and the before/after self-assessments from the format's templates, invites the
participants as the schedule would have (at enrollment; at each connection's end), and answers
about four in five invitations with plausible, slightly positive figures. It writes rows
directly rather than through the services: those refuse answers after the window, which for a
closed program is the point. Everything it writes satisfies the same database constraints, and
anonymous answers are stored exactly as the service stores them (keyed hashes, no link).

Deterministic for a given `rng` and `now`; a program that already has a closing survey is left
alone, so a second call adds nothing.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, cast

from django.db import transaction

from peermentor.connections.models import ENDED_STATUSES, ConnectionKind, ConnectionMember
from peermentor.enrollment.models import Participant, ParticipantStatus
from peermentor.programs.models import Program
from peermentor.surveys.defaults import SurveyTemplate, template_for
from peermentor.surveys.models import (
    QuestionKind,
    Survey,
    SurveyInvitation,
    SurveyPurpose,
    SurveyQuestion,
    SurveySchedule,
    SurveyStatus,
)
from peermentor.surveys.schedules import PROGRAM_OCCURRENCE, connection_occurrence
from peermentor.surveys.services import answers_store, clean_answer, new_response

ANSWER_SHARE = 0.8
COMMENTS = [
    "Having someone outside my team to think out loud with made the biggest difference.",
    "We kept to a fortnightly slot, which is the only reason it worked.",
    "I learned how the finance team plans its year; it changed how I write my proposals.",
    "More structure in the first month would help: we took a while to find our rhythm.",
    "The plan template gave us something concrete to talk about each time.",
    "I now have two people I can ask about data questions, which I did not have before.",
    "Hard to find time in busy weeks, but worth it.",
    "I would like to stay in touch with the group after the program.",
]


@dataclass(frozen=True)
class DemoSurveys:
    closing: Survey
    before: Survey
    after: Survey
    invitations: int
    responses: int


def _survey(program: Program, template: SurveyTemplate, now: datetime) -> Survey:
    send_on = program.planned_end_on or now.date()
    survey = Survey(
        program=program,
        title=template.title,
        description=template.description,
        purpose=template.purpose,
        is_anonymous=template.is_anonymous,
        audience=template.audience,
        schedule=template.schedule,
        send_on=send_on if template.schedule == SurveySchedule.ON_DATE else None,
        days_after_start=template.days_after_start,
        template_key=template.key,
        status=SurveyStatus.CLOSED,
        opened_at=now - timedelta(days=200),
        closed_at=now,
    )
    survey.full_clean(exclude=["program", "created_by"])
    survey.save()
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
    return survey


def _invite(
    survey: Survey,
    participant: Participant,
    *,
    occurrence_key: str,
    due_on: date,
    now: datetime,
    connection_id: int | None = None,
) -> SurveyInvitation:
    return SurveyInvitation.objects.create(
        survey=survey,
        participant=participant,
        connection_id=connection_id,
        occurrence_key=occurrence_key,
        due_on=due_on,
        closes_on=due_on + timedelta(days=survey.open_days),
        created_at=min(now, datetime.combine(due_on, datetime.min.time(), tzinfo=now.tzinfo)),
        notified_at=now,
    )


def _answer(
    invitation: SurveyInvitation,
    questions: list[SurveyQuestion],
    values: dict[str, Any],
    now: datetime,
) -> None:
    rows = [
        row for question in questions for row in clean_answer(question, values.get(question.key))
    ]
    response = new_response(invitation, now=now)
    # The demo's surveys are closed: every response counts in their results.
    response.is_released = invitation.survey.status == SurveyStatus.CLOSED
    response.save(force_insert=True)
    answers_store(response, rows)
    invitation.answered_at = now
    invitation.save(update_fields=["answered_at"])


def _closing_values(questions: list[SurveyQuestion], rng: random.Random) -> dict[str, Any]:
    values: dict[str, Any] = {
        "satisfaction": rng.choices([2, 3, 4, 5], weights=[1, 3, 8, 6])[0],
        "recommend": rng.choices(range(4, 11), weights=[1, 1, 2, 4, 6, 6, 5])[0],
    }
    for question in questions:
        if question.kind == QuestionKind.MULTIPLE_CHOICE:
            values[question.key] = rng.sample(question.choices, k=rng.randint(1, 3))
        elif question.kind == QuestionKind.TEXT and rng.random() < 0.5:
            values[question.key] = rng.choice(COMMENTS)
    return values


def _before_values(rng: random.Random) -> dict[str, int]:
    return {
        "confidence": rng.choice([2, 3, 3, 4]),
        "skills": rng.choice([2, 2, 3, 3, 4]),
        "belonging": rng.choice([2, 3, 3, 4, 4]),
        "network": rng.choice([1, 2, 2, 3]),
    }


def _after_values(before: dict[str, int], rng: random.Random) -> dict[str, int]:
    # The network grows most: meeting people outside one's team is what the program is for.
    lift = {
        "confidence": [0, 0, 1, 1, 2],
        "skills": [0, 1, 1, 1],
        "belonging": [0, 0, 1],
        "network": [0, 1, 1, 2, 2],
    }
    return {key: min(5, value + rng.choice(lift[key])) for key, value in before.items()}


@transaction.atomic
def populate(program: Program, rng: random.Random, now: datetime) -> DemoSurveys | None:
    """Afterwards `program` has a closed closing survey and before/after self-assessments, each
    answered by about four in five of those asked. Returns None (and writes nothing) when the
    program already has a closing survey."""
    if Survey.objects.filter(program_id=program.pk, purpose=SurveyPurpose.CLOSING).exists():
        return None
    goals = list(program.goals or [])
    templates = {
        key: template_for(program.format, goals, key)
        for key in ("closing", "pre_assessment", "post_assessment")
    }
    closing, before, after = (
        _survey(program, template, now) for template in templates.values() if template
    )
    questions = {survey.pk: list(survey.questions.all()) for survey in (closing, before, after)}
    participants = list(
        Participant.objects.filter(program_id=program.pk)
        .exclude(status__in=[ParticipantStatus.PENDING_APPROVAL, ParticipantStatus.DECLINED])
        .filter(person__user__isnull=False)
        .select_related("person")
        .order_by("pk")
    )
    by_id = {participant.pk: participant for participant in participants}
    ended = list(
        ConnectionMember.objects.filter(
            connection__program_id=program.pk, connection__status__in=ENDED_STATUSES
        )
        .exclude(connection__kind=ConnectionKind.FLASH)
        .order_by("connection_id", "pk")
        .values_list("connection_id", "participant_id", "connection__ended_at")
    )
    end_day = program.planned_end_on or now.date()
    invitations = responses = 0
    befores: dict[int, dict[str, int]] = {}
    for participant in participants:
        due_on = min(participant.enrolled_at.date(), end_day)
        invitation = _invite(
            before, participant, occurrence_key=PROGRAM_OCCURRENCE, due_on=due_on, now=now
        )
        invitations += 1
        values = _before_values(rng)
        befores[participant.pk] = values
        if rng.random() < ANSWER_SHARE:
            _answer(invitation, questions[before.pk], values, now)
            responses += 1
    # At closure: per ended connection when there are any, else once per participant at the end.
    occasions: list[tuple[Participant, str, date, int | None]] = [
        (
            by_id[participant_id],
            connection_occurrence(connection_id),
            cast(datetime, ended_at).date(),  # ended connections have an end
            connection_id,
        )
        for connection_id, participant_id, ended_at in ended
        if participant_id in by_id
    ] or [(participant, PROGRAM_OCCURRENCE, end_day, None) for participant in participants]
    for participant, occurrence_key, due_on, connection_id in occasions:
        for survey in (closing, after):
            invitation = _invite(
                survey,
                participant,
                occurrence_key=occurrence_key,
                due_on=min(due_on, now.date()),
                now=now,
                connection_id=connection_id,
            )
            invitations += 1
            if rng.random() >= ANSWER_SHARE:
                continue
            answers: dict[str, Any] = (
                _closing_values(questions[closing.pk], rng)
                if survey is closing
                else _after_values(befores[participant.pk], rng)
            )
            _answer(invitation, questions[survey.pk], answers, now)
            responses += 1
    return DemoSurveys(closing, before, after, invitations, responses)
