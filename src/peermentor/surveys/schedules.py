"""The schedule run: ask whoever a survey is due for, tell them, remind those who have not
answered.

`surveys_send_due` is what the `send_surveys` command and `send_surveys_task` call. It is safe to
run as often as you like and from several workers at once:

- an invitation is unique per survey, participant and occurrence ("program" or
  "connection:<id>"), so a re-run inserts nothing new (inserts ignore conflicts);
- telling people is claimed per invitation with a conditional UPDATE (`notified_at` null → now,
  and `reminded_at` likewise), and notifications are themselves unique per recipient and dedupe
  key (`survey:<invitation id>`, `survey-reminder:<invitation id>`).

When is an occurrence due (all dates in UTC):
- on a date: from `send_on` on, to each participant (or the members of each active connection);
- at enrollment: each enrolled participant, while the program enrolls or matches, and anyone who
  enrolled in the last `open_days` days after that;
- N days after start / halfway / at closure: from that day for `open_days` days. A connection
  whose day passed longer ago is not asked (a pulse added in month six does not ask every
  connection about its first month).
Each invitation can be answered for `open_days` from when it is sent. Flash meetings of the help
network are never surveyed one by one.

Queries: a constant number per open survey plus one batch per 500 invitations; never one per
person or connection.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, cast

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.urls import reverse
from django.utils import timezone

from peermentor.connections.models import (
    ENDED_STATUSES,
    Connection,
    ConnectionKind,
    ConnectionMember,
    ConnectionStatus,
)
from peermentor.enrollment.models import Participant, ParticipantStatus
from peermentor.notifications.models import NotificationKind
from peermentor.notifications.services import NotificationSpec, notifications_create
from peermentor.programs.models import ProgramStatus
from peermentor.surveys.models import (
    Survey,
    SurveyAudience,
    SurveyInvitation,
    SurveySchedule,
    SurveyStatus,
)

CHUNK_SIZE = 500
PROGRAM_OCCURRENCE = "program"
PRE_MATCH_STATUSES = (ProgramStatus.ENROLLING, ProgramStatus.MATCHING)


def connection_occurrence(connection_id: int) -> str:
    return f"connection:{connection_id}"


@dataclass(frozen=True)
class SendResult:
    invitations_created: int
    notified: int
    reminded: int


@dataclass(frozen=True)
class _Due:
    participant_id: int
    occurrence_key: str
    due_on: date
    connection_id: int | None = None


def _chunks(values: Sequence[Any], size: int = CHUNK_SIZE) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _day(moment: datetime) -> date:
    return moment.astimezone(UTC).date()


def _can_sign_in() -> dict[str, Any]:
    """Participants we can ask: enrolled, with an active account."""
    return {
        "status": ParticipantStatus.ENROLLED,
        "person__user__isnull": False,
        "person__user__is_active": True,
    }


# --- who is due -------------------------------------------------------------------------------
def _due_participants(survey: Survey, today: date, now: datetime) -> list[_Due]:
    not_asked = ~Exists(
        SurveyInvitation.objects.filter(
            survey_id=survey.pk, participant_id=OuterRef("pk"), occurrence_key=PROGRAM_OCCURRENCE
        )
    )
    people = Participant.objects.filter(program_id=survey.program_id, **_can_sign_in()).filter(
        not_asked
    )
    if survey.schedule == SurveySchedule.ON_DATE:
        if survey.send_on is None or survey.send_on > today:
            return []
        return [
            _Due(pk, PROGRAM_OCCURRENCE, survey.send_on)
            for pk in people.values_list("pk", flat=True)
        ]
    # At enrollment.
    if survey.program.status not in PRE_MATCH_STATUSES:
        people = people.filter(enrolled_at__gte=now - timedelta(days=survey.open_days))
    return [
        _Due(pk, PROGRAM_OCCURRENCE, _day(enrolled_at))
        for pk, enrolled_at in people.values_list("pk", "enrolled_at")
    ]


def _due_connections(survey: Survey, today: date, now: datetime) -> dict[int, date]:
    """Connection id → the day its occurrence fell due, for connections due now."""
    connections = Connection.objects.filter(program_id=survey.program_id).exclude(
        kind=ConnectionKind.FLASH
    )
    window = timedelta(days=survey.open_days)
    if survey.schedule == SurveySchedule.ON_DATE:
        if survey.send_on is None or survey.send_on > today:
            return {}
        active = connections.filter(status=ConnectionStatus.ACTIVE)
        return dict.fromkeys(active.values_list("pk", flat=True), survey.send_on)
    if survey.schedule == SurveySchedule.AFTER_START:
        days = timedelta(days=survey.days_after_start or 0)
        started = connections.filter(
            status=ConnectionStatus.ACTIVE,
            started_at__lte=now - days,
            started_at__gte=now - days - window,
        ).values_list("pk", "started_at")
        return {pk: _day(cast(datetime, started_at)) + days for pk, started_at in started}
    if survey.schedule == SurveySchedule.MID_POINT:
        running = connections.filter(
            status=ConnectionStatus.ACTIVE,
            planned_end_on__isnull=False,
            planned_end_on__gte=today - window,
            started_at__lte=now,
        ).values_list("pk", "started_at", "planned_end_on")
        due: dict[int, date] = {}
        for pk, started_at, planned_end_on in running:
            # The filter leaves neither date empty.
            start = _day(cast(datetime, started_at))
            middle = start + (cast(date, planned_end_on) - start) / 2
            if middle <= today <= middle + window:
                due[pk] = middle
        return due
    if survey.schedule == SurveySchedule.AT_CLOSURE:
        ended = connections.filter(
            status__in=ENDED_STATUSES, ended_at__gte=now - window
        ).values_list("pk", "ended_at")
        return {pk: _day(cast(datetime, ended_at)) for pk, ended_at in ended}
    return {}


def _due_members(survey: Survey, today: date, now: datetime) -> list[_Due]:
    due_on = _due_connections(survey, today, now)
    result: list[_Due] = []
    ids = sorted(due_on)
    ended = survey.schedule == SurveySchedule.AT_CLOSURE
    for chunk in _chunks(ids):
        keys = [connection_occurrence(pk) for pk in chunk]
        asked = set(
            SurveyInvitation.objects.filter(
                survey_id=survey.pk, occurrence_key__in=keys
            ).values_list("participant_id", "occurrence_key")
        )
        members = ConnectionMember.objects.filter(connection_id__in=chunk).filter(
            **{f"participant__{name}": value for name, value in _can_sign_in().items()}
        )
        if not ended:
            # Members who left a circle are not asked about it; at closure everyone is.
            members = members.filter(is_current=True)
        for connection_id, participant_id in members.values_list("connection_id", "participant_id"):
            key = connection_occurrence(connection_id)
            if (participant_id, key) not in asked:
                result.append(_Due(participant_id, key, due_on[connection_id], connection_id))
    return result


def _invite(survey: Survey, today: date, now: datetime) -> int:
    if survey.audience == SurveyAudience.CONNECTION_MEMBERS:
        due = _due_members(survey, today, now)
    else:
        due = _due_participants(survey, today, now)
    created = 0
    for chunk in _chunks(due):
        # ignore_conflicts: another run may insert the same occurrence between our read and here.
        SurveyInvitation.objects.bulk_create(
            [
                SurveyInvitation(
                    survey_id=survey.pk,
                    participant_id=item.participant_id,
                    connection_id=item.connection_id,
                    occurrence_key=item.occurrence_key,
                    due_on=item.due_on,
                    closes_on=max(item.due_on, today) + timedelta(days=survey.open_days),
                    created_at=now,
                )
                for item in chunk
            ],
            ignore_conflicts=True,
        )
        created += len(chunk)
    return created


# --- telling people ---------------------------------------------------------------------------
def _tell(rows: list[tuple[Any, ...]], *, reminder: bool) -> int:
    kind = NotificationKind.SURVEY_DUE
    notes = []
    for invitation_id, user_id, title, program_name, closes_on in rows:
        prefix = "survey-reminder" if reminder else "survey"
        notes.append(
            NotificationSpec(
                recipient_id=user_id,
                kind=kind,
                title=f"Reminder: {title}" if reminder else f"A survey for you: {title}",
                body=(
                    f"{program_name} asks a few questions. You can answer, and change your "
                    f"answers, until {closes_on:%d %B %Y}."
                ),
                url=reverse("survey_answer", args=[invitation_id]),
                dedupe_key=f"{prefix}:{invitation_id}",
            )
        )
    return notifications_create(notes=notes)


TELL_FIELDS = (
    "pk",
    "participant__person__user_id",
    "survey__title",
    "survey__program__name",
    "closes_on",
)


def _notify_new(now: datetime) -> int:
    """Tell the people of every invitation not yet told, a batch at a time."""
    told = 0
    last_id = 0
    while True:
        with transaction.atomic():
            rows = list(
                SurveyInvitation.objects.filter(
                    notified_at__isnull=True, survey__status=SurveyStatus.OPEN, id__gt=last_id
                )
                .order_by("id")
                .values_list(*TELL_FIELDS)[:CHUNK_SIZE]
            )
            if not rows:
                return told
            last_id = rows[-1][0]
            ids = [row[0] for row in rows]
            SurveyInvitation.objects.filter(id__in=ids, notified_at__isnull=True).update(
                notified_at=now
            )
            told += _tell([row for row in rows if row[1] is not None], reminder=False)


def _remind(survey: Survey, today: date, now: datetime) -> int:
    if survey.reminder_after_days <= 0:
        return 0
    waiting = SurveyInvitation.objects.filter(
        survey_id=survey.pk,
        answered_at__isnull=True,
        reminded_at__isnull=True,
        notified_at__lte=now - timedelta(days=survey.reminder_after_days),
        closes_on__gte=today,
    )
    reminded = 0
    last_id = 0
    while True:
        with transaction.atomic():
            rows = list(
                waiting.filter(id__gt=last_id).order_by("id").values_list(*TELL_FIELDS)[:CHUNK_SIZE]
            )
            if not rows:
                return reminded
            last_id = rows[-1][0]
            ids = [row[0] for row in rows]
            SurveyInvitation.objects.filter(id__in=ids, reminded_at__isnull=True).update(
                reminded_at=now
            )
            reminded += _tell([row for row in rows if row[1] is not None], reminder=True)


def surveys_send_due(*, now: datetime | None = None, program_id: int | None = None) -> SendResult:
    """Afterwards everyone an open survey is due for has one invitation per occurrence and a
    notification about it, and everyone who has not answered after the survey's reminder delay
    has had one reminder. Running it again at once changes nothing. With `program_id`, only
    that program's surveys (a program that has just closed asks its closing survey at once)."""
    now = now or timezone.now()
    today = _day(now)
    open_surveys = Survey.objects.filter(status=SurveyStatus.OPEN)
    if program_id is not None:
        open_surveys = open_surveys.filter(program_id=program_id)
    surveys = list(
        open_surveys.exclude(program__status=ProgramStatus.DRAFT)
        .select_related("program")
        .order_by("id")
    )
    created = 0
    for survey in surveys:
        with transaction.atomic():
            created += _invite(survey, today, now)
    notified = _notify_new(now)
    reminded = sum(_remind(survey, today, now) for survey in surveys)
    return SendResult(invitations_created=created, notified=notified, reminded=reminded)
