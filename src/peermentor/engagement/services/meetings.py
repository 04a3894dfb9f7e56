"""Meetings: propose candidate times, accept one, reschedule, cancel, log whether it happened;
and the invitation e-mails (sent from a task once the change has committed)."""

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from peermentor.accounts.models import User
from peermentor.connections.models import Connection, ConnectionKind, ConnectionStatus
from peermentor.core.errors import ApplicationError, full_clean
from peermentor.core.models import AuditEvent
from peermentor.core.services import audit_event, audit_record
from peermentor.core.tasks import enqueue_on_commit
from peermentor.core.timezones import is_known_zone, local_to_utc, zone_name_for
from peermentor.engagement.models import (
    MEETING_MINUTES_MAX,
    MEETING_MINUTES_MIN,
    CircleSession,
    InvitationMethod,
    Meeting,
    MeetingOption,
    MeetingStatus,
)
from peermentor.engagement.services._common import (
    clean_int,
    clean_text,
    lock_connection,
    require_reader,
    require_writer,
)
from peermentor.engagement.tasks import send_meeting_cancellations, send_meeting_invitation

MAX_OPTIONS = 5
# Ids per IN (...) list, and cancellations per e-mail task.
CHUNK_SIZE = 500
EMAIL_BATCH_SIZE = 100
# How far ahead a meeting may be planned, and how soon: people need a moment to see it.
MAX_DAYS_AHEAD = 366
MIN_MINUTES_AHEAD = 5

MEETING_TITLES: dict[str, str] = {
    ConnectionKind.PAIR: "Peer meeting",
    ConnectionKind.SHADOWING: "Job shadowing session",
    ConnectionKind.BUDDY: "Buddy catch-up",
    ConnectionKind.FLASH: "Flash meeting",
}


def _zone_for(actor: User, time_zone: str | None, *, field: str = "time_zone") -> str:
    if time_zone:
        if not is_known_zone(time_zone):
            raise ApplicationError(f"“{time_zone}” is not a known time zone.", field=field)
        return time_zone
    return zone_name_for(user=actor, person=getattr(actor, "person", None))


def _future_instant(value: Any, zone_name: str, *, now: datetime, field: str) -> datetime:
    if not isinstance(value, datetime):
        raise ApplicationError("Give a date and a time.", field=field)
    instant = local_to_utc(value, zone_name, field=field)
    if instant < now + timedelta(minutes=MIN_MINUTES_AHEAD):
        raise ApplicationError("Choose a time in the future.", field=field)
    if instant > now + timedelta(days=MAX_DAYS_AHEAD):
        raise ApplicationError("Choose a time within the next year.", field=field)
    return instant


def _lock_meeting(meeting: Meeting | int) -> Meeting:
    pk = meeting if isinstance(meeting, int) else meeting.pk
    connection_id = Meeting.objects.filter(pk=pk).values_list("connection_id", flat=True).first()
    if connection_id is None:
        raise ApplicationError("This meeting no longer exists.")
    # The connection is locked too, and first: nobody ends it while its meeting changes, and
    # ending it (which cancels its meetings) takes the locks in the same order, so the two
    # never deadlock.
    connection = lock_connection(connection_id)
    locked = Meeting.objects.select_for_update(of=("self",)).get(pk=pk)
    locked.connection = connection
    return locked


def _enqueue_notice(meeting: Meeting, method: str) -> None:
    enqueue_on_commit(
        send_meeting_invitation,
        meeting_id=meeting.pk,
        sequence=meeting.sequence,
        method=str(method),
    )


@transaction.atomic
def meeting_propose(
    *,
    actor: User,
    connection: Connection,
    options: Sequence[datetime],
    time_zone: str | None = None,
    duration_minutes: int = 60,
    title: str = "",
    location: str = "",
    agenda: str = "",
    now: datetime | None = None,
) -> Meeting:
    """Afterwards a proposed meeting with 1 to 5 candidate times (stored in UTC) waits for
    another member to accept one. Naive `options` are wall-clock times in `time_zone`, by
    default the actor's own zone; a time skipped by a clock change is refused."""
    connection = lock_connection(connection)
    require_writer(actor, connection)
    if connection.kind == ConnectionKind.CIRCLE:
        raise ApplicationError("Circles meet in sessions: plan one on the circle page.")
    now = now or timezone.now()
    zone_name = _zone_for(actor, time_zone)
    if not options:
        raise ApplicationError("Give at least one time that suits you.", field="options")
    if len(options) > MAX_OPTIONS:
        raise ApplicationError(f"Give at most {MAX_OPTIONS} times.", field="options")
    instants = []
    for index, option in enumerate(options):
        instants.append(_future_instant(option, zone_name, now=now, field=f"option_{index + 1}"))
    if len(set(instants)) != len(instants):
        raise ApplicationError("The same time appears twice.", field="options")
    duration = clean_int(
        duration_minutes,
        field="duration_minutes",
        label="The length",
        low=MEETING_MINUTES_MIN,
        high=MEETING_MINUTES_MAX,
    )
    meeting = Meeting(
        connection=connection,
        proposed_by=actor,
        title=clean_text(title, field="title", label="The title", max_length=200, required=False)
        or MEETING_TITLES.get(connection.kind, "Meeting"),
        location=clean_text(
            location, field="location", label="The place", max_length=300, required=False
        ),
        agenda=clean_text(
            agenda, field="agenda", label="The agenda", max_length=2000, required=False
        ),
        duration_minutes=duration,
        time_zone=zone_name,
    )
    full_clean(meeting, exclude=["connection", "proposed_by"])
    meeting.save()
    MeetingOption.objects.bulk_create(
        [MeetingOption(meeting=meeting, starts_at=instant) for instant in sorted(instants)]
    )
    audit_record(
        actor=actor,
        action="meeting.proposed",
        target=meeting,
        program_id=connection.program_id,
        to_state=MeetingStatus.PROPOSED,
        data={"connection_id": connection.pk, "options": [i.isoformat() for i in instants]},
    )
    return meeting


@transaction.atomic
def meeting_accept(
    *, actor: User, meeting: Meeting, option_id: int, now: datetime | None = None
) -> Meeting:
    """Afterwards the meeting is scheduled at the chosen candidate time and every member is
    sent a calendar invitation (METHOD:REQUEST, SEQUENCE 0) once this commits."""
    meeting = _lock_meeting(meeting)
    connection = meeting.connection
    member = require_writer(actor, connection)
    if meeting.status != MeetingStatus.PROPOSED:
        raise ApplicationError(
            f"This meeting is {meeting.get_status_display().lower()}: there is nothing to accept."
        )
    if meeting.proposed_by_id == actor.pk and len(connection.members.all()) > 1:
        raise PermissionDenied("Another member accepts the times you proposed.")
    option = MeetingOption.objects.filter(meeting=meeting, pk=option_id).first()
    if option is None:
        raise ApplicationError("Choose one of the proposed times.", field="option")
    now = now or timezone.now()
    if option.starts_at <= now:
        raise ApplicationError("That time has passed. Propose new times instead.", field="option")
    meeting.status = MeetingStatus.SCHEDULED
    meeting.starts_at = option.starts_at
    meeting.scheduled_at = now
    full_clean(meeting, exclude=["connection", "proposed_by", "outcome_logged_by"])
    meeting.save(update_fields=["status", "starts_at", "scheduled_at", "updated_at"])
    audit_record(
        actor=actor,
        action="meeting.scheduled",
        target=meeting,
        program_id=connection.program_id,
        from_state=MeetingStatus.PROPOSED,
        to_state=MeetingStatus.SCHEDULED,
        data={"starts_at": option.starts_at.isoformat(), "member_id": member.pk},
    )
    _enqueue_notice(meeting, InvitationMethod.REQUEST)
    return meeting


@transaction.atomic
def meeting_decline(*, actor: User, meeting: Meeting, reason: str = "") -> Meeting:
    """Afterwards none of the proposed times is taken; the proposer may propose others."""
    meeting = _lock_meeting(meeting)
    require_writer(actor, meeting.connection)
    if meeting.status != MeetingStatus.PROPOSED:
        raise ApplicationError(
            f"This meeting is {meeting.get_status_display().lower()}: it cannot be declined."
        )
    if meeting.proposed_by_id == actor.pk:
        raise PermissionDenied("Withdraw your own proposal with Cancel.")
    meeting.status = MeetingStatus.DECLINED
    meeting.cancel_reason = clean_text(
        reason, field="reason", label="The reason", max_length=1000, required=False
    )
    meeting.save(update_fields=["status", "cancel_reason", "updated_at"])
    audit_record(
        actor=actor,
        action="meeting.declined",
        target=meeting,
        program_id=meeting.connection.program_id,
        from_state=MeetingStatus.PROPOSED,
        to_state=MeetingStatus.DECLINED,
    )
    return meeting


@transaction.atomic
def meeting_reschedule(
    *,
    actor: User,
    meeting: Meeting,
    starts_at: datetime,
    time_zone: str | None = None,
    duration_minutes: int | None = None,
    location: str | None = None,
    now: datetime | None = None,
) -> Meeting:
    """Afterwards the scheduled meeting is at the new time (a naive `starts_at` is wall-clock
    time in the actor's zone), its SEQUENCE is one higher, and every member is sent the
    updated invitation (same UID) once this commits."""
    meeting = _lock_meeting(meeting)
    require_writer(actor, meeting.connection)
    if meeting.status != MeetingStatus.SCHEDULED:
        raise ApplicationError(
            f"This meeting is {meeting.get_status_display().lower()}: it cannot be moved."
        )
    now = now or timezone.now()
    instant = _future_instant(starts_at, _zone_for(actor, time_zone), now=now, field="starts_at")
    changes = {"from": meeting.starts_at.isoformat() if meeting.starts_at else None}
    if duration_minutes is not None:
        meeting.duration_minutes = clean_int(
            duration_minutes,
            field="duration_minutes",
            label="The length",
            low=MEETING_MINUTES_MIN,
            high=MEETING_MINUTES_MAX,
        )
    if location is not None:
        meeting.location = clean_text(
            location, field="location", label="The place", max_length=300, required=False
        )
    if instant == meeting.starts_at and duration_minutes is None and location is None:
        raise ApplicationError("Choose a different time.", field="starts_at")
    meeting.starts_at = instant
    meeting.sequence += 1
    full_clean(meeting, exclude=["connection", "proposed_by", "outcome_logged_by"])
    meeting.save(
        update_fields=["starts_at", "sequence", "duration_minutes", "location", "updated_at"]
    )
    audit_record(
        actor=actor,
        action="meeting.rescheduled",
        target=meeting,
        program_id=meeting.connection.program_id,
        from_state=MeetingStatus.SCHEDULED,
        to_state=MeetingStatus.SCHEDULED,
        data={**changes, "to": instant.isoformat(), "sequence": meeting.sequence},
    )
    _enqueue_notice(meeting, InvitationMethod.REQUEST)
    return meeting


@transaction.atomic
def meeting_cancel(*, actor: User, meeting: Meeting, reason: str = "") -> Meeting:
    """Afterwards the meeting is cancelled. A scheduled one gets SEQUENCE + 1 and every member
    is sent METHOD:CANCEL once this commits; a proposal is simply withdrawn. Members may
    cancel even after the connection ended, to clear their calendars."""
    meeting = _lock_meeting(meeting)
    require_reader(actor, meeting.connection)
    if meeting.status not in (MeetingStatus.PROPOSED, MeetingStatus.SCHEDULED):
        raise ApplicationError(
            f"This meeting is {meeting.get_status_display().lower()}: it cannot be cancelled."
        )
    from_state = meeting.status
    was_scheduled = from_state == MeetingStatus.SCHEDULED
    meeting.status = MeetingStatus.CANCELLED
    meeting.cancelled_at = timezone.now()
    meeting.cancel_reason = clean_text(
        reason, field="reason", label="The reason", max_length=1000, required=False
    )
    if was_scheduled:
        meeting.sequence += 1
    full_clean(meeting, exclude=["connection", "proposed_by", "outcome_logged_by"])
    meeting.save(
        update_fields=["status", "cancelled_at", "cancel_reason", "sequence", "updated_at"]
    )
    audit_record(
        actor=actor,
        action="meeting.cancelled",
        target=meeting,
        program_id=meeting.connection.program_id,
        from_state=from_state,
        to_state=MeetingStatus.CANCELLED,
        reason=meeting.cancel_reason,
    )
    if was_scheduled:
        _enqueue_notice(meeting, InvitationMethod.CANCEL)
    return meeting


_ENDED_AS: dict[str, str] = {
    ConnectionStatus.COMPLETED: "was completed",
    ConnectionStatus.CLOSED_EARLY: "was closed early",
    ConnectionStatus.CANCELLED: "was cancelled",
}


def _ended_reason(connection_status: str, reason: str) -> str:
    """The reason a meeting of an ended connection was cancelled, as members read it."""
    text = f"The connection {_ENDED_AS.get(connection_status, 'ended')}"
    text += f" ({reason})." if reason else "."
    return text[:1000]


@transaction.atomic
def meetings_cancel_for_ended(
    *,
    actor: User | None,
    connection_ids: Sequence[int],
    reason: str = "",
    now: datetime | None = None,
) -> int:
    """Afterwards none of the named (ended) connections has a meeting waiting for an answer or
    scheduled after `now`, nor an upcoming circle session: each is cancelled as meeting_cancel
    and circle_session_cancel do (a scheduled meeting gets SEQUENCE + 1 and every member is
    sent METHOD:CANCEL once this commits; a proposal is withdrawn), with `actor`, and the
    connection's end and `reason` as the reason. Meetings whose time has passed keep their
    status: members still record whether they happened.

    Called when connections end (connection_changes, in the same transaction), so
    it checks no permission: ending the connection was the permitted act. A constant number of
    queries per 500 connections. Returns how many meetings and sessions were cancelled.
    """
    now = now or timezone.now()
    wanted = sorted(set(connection_ids))
    events: list[AuditEvent] = []
    notices: list[list[int]] = []
    for start in range(0, len(wanted), CHUNK_SIZE):
        chunk = wanted[start : start + CHUNK_SIZE]
        chunk_events, chunk_notices = _cancel_upcoming_meetings(
            chunk, actor=actor, reason=reason, now=now
        )
        events.extend(chunk_events)
        notices.extend(chunk_notices)
        events.extend(_cancel_upcoming_sessions(chunk, actor=actor, reason=reason, now=now))
    AuditEvent.objects.bulk_create(events, batch_size=CHUNK_SIZE)
    if notices:
        for start in range(0, len(notices), EMAIL_BATCH_SIZE):
            enqueue_on_commit(
                send_meeting_cancellations, versions=notices[start : start + EMAIL_BATCH_SIZE]
            )
    return len(events)


def _cancel_upcoming_meetings(
    connection_ids: Sequence[int], *, actor: Any, reason: str, now: datetime
) -> tuple[list[AuditEvent], list[list[int]]]:
    """Cancel the connections' proposals and meetings scheduled after `now`, under lock. Returns
    their unsaved audit rows and the [meeting id, new sequence] of each that was scheduled
    (its members are sent a cancellation)."""
    upcoming = Q(status=MeetingStatus.PROPOSED) | Q(
        status=MeetingStatus.SCHEDULED, starts_at__gt=now
    )
    rows = list(
        Meeting.objects.select_for_update(of=("self",))
        .filter(upcoming, connection_id__in=connection_ids)
        .order_by("pk")
        .values_list(
            "pk",
            "status",
            "sequence",
            "connection_id",
            "connection__program_id",
            "connection__status",
        )
    )
    events: list[AuditEvent] = []
    notices: list[list[int]] = []
    # One UPDATE per (what it was, how the connection ended): at most six per chunk.
    groups: dict[tuple[str, str], list[int]] = {}
    for pk, status, sequence, connection_id, program_id, connection_status in rows:
        text = _ended_reason(connection_status, reason)
        groups.setdefault((status, text), []).append(pk)
        was_scheduled = status == MeetingStatus.SCHEDULED
        if was_scheduled:
            notices.append([pk, sequence + 1])
        events.append(
            audit_event(
                actor=actor,
                action="meeting.cancelled",
                target_type=Meeting,
                target_id=pk,
                program_id=program_id,
                from_state=status,
                to_state=MeetingStatus.CANCELLED,
                reason=text,
                data={"connection_id": connection_id, "connection_ended": True},
            )
        )
    for (status, text), pks in groups.items():
        changes: dict[str, Any] = {
            "status": MeetingStatus.CANCELLED,
            "cancelled_at": now,
            "cancel_reason": text,
            "updated_at": now,
        }
        if status == MeetingStatus.SCHEDULED:
            changes["sequence"] = F("sequence") + 1
        Meeting.objects.filter(pk__in=pks).update(**changes)
    return events, notices


def _cancel_upcoming_sessions(
    connection_ids: Sequence[int], *, actor: Any, reason: str, now: datetime
) -> list[AuditEvent]:
    """Cancel the connections' circle sessions after `now`, under lock; their unsaved audit
    rows."""
    sessions = list(
        CircleSession.objects.select_for_update(of=("self",))
        .filter(connection_id__in=connection_ids, is_cancelled=False, starts_at__gt=now)
        .order_by("pk")
        .values_list("pk", "connection_id", "connection__program_id", "connection__status")
    )
    if sessions:
        CircleSession.objects.filter(pk__in=[row[0] for row in sessions]).update(
            is_cancelled=True, sequence=F("sequence") + 1, updated_at=now
        )
    return [
        audit_event(
            actor=actor,
            action="circle_session.cancelled",
            target_type=CircleSession,
            target_id=pk,
            program_id=program_id,
            reason=_ended_reason(connection_status, reason),
            data={"connection_id": connection_id, "connection_ended": True},
        )
        for pk, connection_id, program_id, connection_status in sessions
    ]


@transaction.atomic
def meeting_log_outcome(
    *, actor: User, meeting: Meeting, happened: bool, now: datetime | None = None
) -> Meeting:
    """Afterwards the meeting whose time has come is recorded as held or missed (a member may
    correct an earlier answer). Works after the connection ended too."""
    meeting = _lock_meeting(meeting)
    require_reader(actor, meeting.connection)
    if meeting.status not in (MeetingStatus.SCHEDULED, MeetingStatus.HELD, MeetingStatus.MISSED):
        raise ApplicationError(
            f"This meeting is {meeting.get_status_display().lower()}: it was never scheduled."
        )
    if not isinstance(happened, bool):
        raise ApplicationError("Say whether the meeting happened.", field="happened")
    now = now or timezone.now()
    if meeting.starts_at is None or meeting.starts_at > now:
        raise ApplicationError("You can say whether it happened once its time has come.")
    from_state = meeting.status
    meeting.status = MeetingStatus.HELD if happened else MeetingStatus.MISSED
    meeting.outcome_logged_by = actor
    meeting.outcome_logged_at = now
    meeting.save(update_fields=["status", "outcome_logged_by", "outcome_logged_at", "updated_at"])
    audit_record(
        actor=actor,
        action="meeting.outcome_logged",
        target=meeting,
        program_id=meeting.connection.program_id,
        from_state=from_state,
        to_state=meeting.status,
    )
    return meeting
