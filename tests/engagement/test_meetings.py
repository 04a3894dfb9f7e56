"""Meetings: propose, accept, reschedule, cancel, outcome; invitations by e-mail and download."""

import zoneinfo
from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.db import connection as db_connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from icalendar import Calendar

from peermentor.core.errors import ApplicationError
from peermentor.core.models import AuditEvent
from peermentor.engagement.models import CircleSession, Meeting, MeetingNotice, MeetingStatus
from peermentor.engagement.services import (
    connection_close_early,
    connection_complete,
    meeting_accept,
    meeting_cancel,
    meeting_decline,
    meeting_invitation_send,
    meeting_log_outcome,
    meeting_propose,
    meeting_reschedule,
    meetings_cancel_for_ended,
    participant_connections_end,
)

pytestmark = pytest.mark.django_db

LONDON = zoneinfo.ZoneInfo("Europe/London")


def next_week(hour=10):
    """A naive wall-clock time a week from now, at `hour`."""
    day = (timezone.now() + timedelta(days=7)).date()
    return datetime(day.year, day.month, day.day, hour, 0)


def invitation_of(message):
    """The parsed text/calendar attachment of an e-mail, and its METHOD parameter."""
    for part in message.message().walk():
        if part.get_content_type() == "text/calendar":
            return Calendar.from_ical(part.get_payload(decode=True)), part.get_param("method")
    raise AssertionError("no text/calendar part")


@pytest.fixture
def proposed(personas, pair):
    return meeting_propose(
        actor=personas.participant,
        connection=pair,
        options=[next_week(10), next_week(14)],
        time_zone="Europe/London",
        location="https://video.example.com/room",
    )


@pytest.fixture
def scheduled(proposed, partner):
    option = proposed.options.order_by("starts_at").first()
    return meeting_accept(actor=partner.person.user, meeting=proposed, option_id=option.pk)


# --- propose ----------------------------------------------------------------------------------
def test_propose_stores_candidate_times_in_utc(personas, proposed):
    assert proposed.status == MeetingStatus.PROPOSED
    assert proposed.proposed_by == personas.participant
    starts = [o.starts_at for o in proposed.options.order_by("starts_at")]
    expected = [next_week(10).replace(tzinfo=LONDON), next_week(14).replace(tzinfo=LONDON)]
    assert starts == [e.astimezone(UTC) for e in expected]
    assert proposed.title == "Peer meeting"
    assert AuditEvent.objects.filter(action="meeting.proposed", target_id=proposed.pk).exists()


def test_propose_uses_the_proposers_own_zone_by_default(personas, pair):
    personas.participant.time_zone = "America/New_York"
    personas.participant.save()
    meeting = meeting_propose(actor=personas.participant, connection=pair, options=[next_week(9)])
    expected = next_week(9).replace(tzinfo=zoneinfo.ZoneInfo("America/New_York"))
    assert meeting.options.get().starts_at == expected
    assert meeting.time_zone == "America/New_York"


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ([], "options"),
        ([datetime(2020, 1, 6, 10, 0)], "option_1"),
        (["tomorrow"], "option_1"),
        ([next_week(10), next_week(10)], "options"),
        ([next_week(h) for h in range(8, 14)], "options"),
    ],
)
def test_propose_refuses_bad_times(personas, pair, options, field):
    with pytest.raises(ApplicationError) as error:
        meeting_propose(actor=personas.participant, connection=pair, options=options)
    assert error.value.field == field
    assert not Meeting.objects.exists()


def test_propose_refuses_bad_length_and_unknown_zone(personas, pair):
    with pytest.raises(ApplicationError) as error:
        meeting_propose(
            actor=personas.participant, connection=pair, options=[next_week()], duration_minutes=0
        )
    assert error.value.field == "duration_minutes"
    with pytest.raises(ApplicationError) as error:
        meeting_propose(
            actor=personas.participant,
            connection=pair,
            options=[next_week()],
            time_zone="Mars/Olympus",
        )
    assert error.value.field == "time_zone"


@pytest.mark.parametrize("role", ["other_participant", "manager", "admin", "outsider"])
def test_only_members_propose(personas, pair, role):
    with pytest.raises(PermissionDenied):
        meeting_propose(actor=personas.user(role), connection=pair, options=[next_week()])


def test_an_ended_connection_takes_no_new_meeting(personas, pair):
    connection_close_early(actor=personas.manager, connection=pair, reason_code="no_time")
    with pytest.raises(ApplicationError, match="closed early"):
        meeting_propose(actor=personas.participant, connection=pair, options=[next_week()])


# --- accept and decline -----------------------------------------------------------------------
def test_accept_schedules_and_mails_an_invitation_to_every_member(
    personas, partner, proposed, django_capture_on_commit_callbacks
):
    option = proposed.options.order_by("-starts_at").first()
    with django_capture_on_commit_callbacks(execute=True):
        meeting = meeting_accept(actor=partner.person.user, meeting=proposed, option_id=option.pk)
    assert meeting.status == MeetingStatus.SCHEDULED
    assert meeting.starts_at == option.starts_at
    assert sorted(m.to[0] for m in mail.outbox) == sorted(
        [personas.participant_record.person.email, partner.person.email]
    )
    calendar, method = invitation_of(mail.outbox[0])
    assert method == "REQUEST"
    assert calendar["METHOD"] == "REQUEST"
    event = calendar.events[0]
    assert event["SEQUENCE"] == 0
    assert str(event["UID"]) == f"meeting-{meeting.uid}@peermentor"
    assert event.start == option.starts_at
    assert "Invitation: Peer meeting" in mail.outbox[0].subject


def test_the_proposer_does_not_accept_their_own_times(personas, proposed):
    option = proposed.options.first()
    with pytest.raises(PermissionDenied):
        meeting_accept(actor=personas.participant, meeting=proposed, option_id=option.pk)


def test_accept_refuses_a_foreign_option_and_a_past_time(partner, proposed, pair, personas):
    other = meeting_propose(actor=personas.participant, connection=pair, options=[next_week(16)])
    with pytest.raises(ApplicationError) as error:
        meeting_accept(
            actor=partner.person.user, meeting=proposed, option_id=other.options.get().pk
        )
    assert error.value.field == "option"
    option = proposed.options.first()
    with pytest.raises(ApplicationError, match="passed"):
        meeting_accept(
            actor=partner.person.user,
            meeting=proposed,
            option_id=option.pk,
            now=option.starts_at + timedelta(minutes=1),
        )


def test_accept_twice_is_refused(partner, scheduled):
    with pytest.raises(ApplicationError, match="nothing to accept"):
        meeting_accept(
            actor=partner.person.user, meeting=scheduled, option_id=scheduled.options.first().pk
        )


def test_outsiders_cannot_accept(personas, proposed):
    for role in ("other_participant", "manager", "admin"):
        with pytest.raises(PermissionDenied):
            meeting_accept(
                actor=personas.user(role), meeting=proposed, option_id=proposed.options.first().pk
            )


def test_decline_frees_the_proposal(partner, proposed, personas):
    meeting = meeting_decline(actor=partner.person.user, meeting=proposed, reason="Travelling")
    assert meeting.status == MeetingStatus.DECLINED
    with pytest.raises(PermissionDenied):
        meeting_decline(
            actor=personas.participant,
            meeting=meeting_propose(
                actor=personas.participant, connection=proposed.connection, options=[next_week()]
            ),
        )


# --- reschedule and cancel --------------------------------------------------------------------
def test_reschedule_increments_sequence_and_keeps_the_uid(
    personas, scheduled, django_capture_on_commit_callbacks
):
    uid = scheduled.uid
    with django_capture_on_commit_callbacks(execute=True):
        moved = meeting_reschedule(
            actor=personas.participant,
            meeting=scheduled,
            starts_at=next_week(17),
            time_zone="Europe/London",
        )
    assert moved.sequence == 1
    assert moved.uid == uid
    assert moved.starts_at == next_week(17).replace(tzinfo=LONDON)
    calendar, method = invitation_of(mail.outbox[-1])
    event = calendar.events[0]
    assert method == "REQUEST"
    assert event["SEQUENCE"] == 1
    assert str(event["UID"]) == f"meeting-{uid}@peermentor"
    assert event.start.hour == 17
    assert mail.outbox[-1].subject.startswith("Moved:")


def test_reschedule_refuses_a_past_time_and_an_unscheduled_meeting(personas, scheduled, pair):
    with pytest.raises(ApplicationError) as error:
        meeting_reschedule(
            actor=personas.participant, meeting=scheduled, starts_at=datetime(2020, 1, 1, 9)
        )
    assert error.value.field == "starts_at"
    waiting = meeting_propose(actor=personas.participant, connection=pair, options=[next_week()])
    with pytest.raises(ApplicationError, match="cannot be moved"):
        meeting_reschedule(actor=personas.participant, meeting=waiting, starts_at=next_week(11))


def test_cancel_sends_method_cancel_with_a_higher_sequence(
    personas, partner, scheduled, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        cancelled = meeting_cancel(actor=partner.person.user, meeting=scheduled, reason="Ill")
    assert cancelled.status == MeetingStatus.CANCELLED
    assert cancelled.sequence == 1
    cancellations = [m for m in mail.outbox if m.subject.startswith("Cancelled")]
    assert len(cancellations) == 2
    calendar, method = invitation_of(cancellations[0])
    assert method == "CANCEL"
    assert calendar["METHOD"] == "CANCEL"
    event = calendar.events[0]
    assert event["STATUS"] == "CANCELLED"
    assert event["SEQUENCE"] == 1
    assert str(event["UID"]) == f"meeting-{scheduled.uid}@peermentor"
    with pytest.raises(ApplicationError, match="cannot be cancelled"):
        meeting_cancel(actor=personas.participant, meeting=cancelled)


def test_cancelling_a_proposal_sends_nothing(
    personas, proposed, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        meeting_cancel(actor=personas.participant, meeting=proposed)
    assert mail.outbox == []


def test_members_still_cancel_a_past_meeting_after_the_connection_ended(personas, scheduled, pair):
    Meeting.objects.filter(pk=scheduled.pk).update(starts_at=timezone.now() - timedelta(days=1))
    connection_close_early(actor=personas.manager, connection=pair, reason_code="no_time")
    assert meeting_cancel(actor=personas.participant, meeting=scheduled).status == "cancelled"


def test_managers_cannot_cancel(personas, scheduled):
    with pytest.raises(PermissionDenied):
        meeting_cancel(actor=personas.manager, meeting=scheduled)


# --- when the connection ends -----------------------------------------------------------------
def _past_scheduled(personas, partner, pair):
    """A meeting that was scheduled and whose time has passed (its outcome not logged yet)."""
    meeting = meeting_propose(actor=personas.participant, connection=pair, options=[next_week(8)])
    meeting = meeting_accept(
        actor=partner.person.user, meeting=meeting, option_id=meeting.options.get().pk
    )
    Meeting.objects.filter(pk=meeting.pk).update(starts_at=timezone.now() - timedelta(days=2))
    return meeting


def _end_by_manager(personas, partner, pair):
    connection_close_early(actor=personas.manager, connection=pair, reason_code="no_time")
    return personas.manager, "The connection was closed early (No time)."


def _end_by_member(personas, partner, pair):
    connection_complete(actor=partner.person.user, connection=pair, reason_code="goals_met")
    return partner.person.user, "The connection was completed (Goals met)."


def _end_by_leaving(personas, partner, pair):
    participant_connections_end(
        actor=personas.participant,
        participant=personas.participant_record,
        reason_code="left_organisation",
    )
    return personas.participant, "The connection was closed early (Left the organisation)."


@pytest.mark.parametrize("end", [_end_by_manager, _end_by_member, _end_by_leaving])
def test_ending_a_connection_cancels_its_upcoming_meetings_and_emails_the_cancellation(
    personas, partner, pair, scheduled, end, django_capture_on_commit_callbacks
):
    waiting = meeting_propose(actor=partner.person.user, connection=pair, options=[next_week(16)])
    past = _past_scheduled(personas, partner, pair)
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        actor, reason = end(personas, partner, pair)

    scheduled.refresh_from_db()
    assert (scheduled.status, scheduled.sequence) == (MeetingStatus.CANCELLED, 1)
    assert scheduled.cancel_reason == reason and scheduled.cancelled_at is not None
    waiting.refresh_from_db()
    assert (waiting.status, waiting.sequence) == (MeetingStatus.CANCELLED, 0)
    past.refresh_from_db()
    assert (past.status, past.sequence) == (MeetingStatus.SCHEDULED, 0)
    events = AuditEvent.objects.filter(action="meeting.cancelled").order_by("target_id")
    assert [(e.target_id, e.actor, e.from_state, e.reason) for e in events] == [
        (scheduled.pk, actor, "scheduled", reason),
        (waiting.pk, actor, "proposed", reason),
    ]
    # Both members are told, the waiting proposal and the past meeting send nothing.
    assert len(mail.outbox) == 2
    assert {m.to[0] for m in mail.outbox} == {
        personas.participant_record.person.email,
        partner.person.email,
    }
    for message in mail.outbox:
        assert message.subject == "Cancelled: Peer meeting"
        assert reason in message.body
        calendar, method = invitation_of(message)
        assert method == "CANCEL" and calendar["METHOD"] == "CANCEL"
        event = calendar.events[0]
        assert event["STATUS"] == "CANCELLED" and event["SEQUENCE"] == 1
        assert str(event["UID"]) == f"meeting-{scheduled.uid}@peermentor"
    assert MeetingNotice.objects.filter(meeting=scheduled, sequence=1, method="CANCEL").exists()


def test_cancelling_meetings_of_ended_connections_takes_a_constant_number_of_queries(
    personas, connect, make_participant
):
    def ended_with_meetings(count):
        ids = []
        for _ in range(count):
            first, second = make_participant(), make_participant()
            connection = connect([(first, "peer"), (second, "peer")])
            meeting = meeting_propose(
                actor=first.person.user, connection=connection, options=[next_week(9)]
            )
            meeting_accept(
                actor=second.person.user, meeting=meeting, option_id=meeting.options.get().pk
            )
            meeting_propose(actor=second.person.user, connection=connection, options=[next_week()])
            ids.append(connection.pk)
        return ids

    def count(ids):
        with CaptureQueriesContext(db_connection) as queries:
            cancelled = meetings_cancel_for_ended(
                actor=personas.manager, connection_ids=ids, reason="Program over"
            )
        assert cancelled == 2 * len(ids)
        return len(queries)

    assert count(ended_with_meetings(2)) == count(ended_with_meetings(7))
    assert not Meeting.objects.exclude(status=MeetingStatus.CANCELLED).exists()


def test_ending_a_circle_cancels_its_upcoming_sessions(personas, connect, make_participant):
    from peermentor.engagement.services import circle_session_create
    from tests.factories import ProgramFactory

    program = ProgramFactory(format="circles", group_size_min=2, group_size_max=3)
    members = [make_participant(program=program, role="member") for _ in range(2)]
    circle = connect([(m, "member") for m in members], kind="circle", program=program)
    upcoming = circle_session_create(
        actor=members[0].person.user,
        connection=circle,
        title="Kick-off",
        starts_at=next_week(),
        location="Room 4",
    )
    connection_complete(actor=members[1].person.user, connection=circle)
    upcoming.refresh_from_db()
    assert upcoming.is_cancelled and upcoming.sequence == 1
    event = AuditEvent.objects.get(action="circle_session.cancelled", target_id=upcoming.pk)
    assert event.actor == members[1].person.user
    assert event.reason == "The connection was completed (Completed naturally)."
    assert CircleSession.objects.filter(is_cancelled=False).count() == 0


# --- outcome ----------------------------------------------------------------------------------
def test_members_log_whether_it_happened_after_the_time(personas, partner, scheduled):
    with pytest.raises(ApplicationError, match="once its time has come"):
        meeting_log_outcome(actor=personas.participant, meeting=scheduled, happened=True)
    later = scheduled.starts_at + timedelta(hours=2)
    held = meeting_log_outcome(
        actor=personas.participant, meeting=scheduled, happened=True, now=later
    )
    assert held.status == MeetingStatus.HELD
    assert held.outcome_logged_by == personas.participant
    corrected = meeting_log_outcome(
        actor=partner.person.user, meeting=scheduled, happened=False, now=later
    )
    assert corrected.status == MeetingStatus.MISSED


def test_outcome_needs_a_scheduled_meeting_and_a_yes_or_no(personas, pair, scheduled):
    waiting = meeting_propose(actor=personas.participant, connection=pair, options=[next_week()])
    with pytest.raises(ApplicationError, match="never scheduled"):
        meeting_log_outcome(actor=personas.participant, meeting=waiting, happened=True)
    with pytest.raises(ApplicationError):
        meeting_log_outcome(
            actor=personas.participant,
            meeting=scheduled,
            happened="maybe",
            now=scheduled.starts_at + timedelta(hours=1),
        )
    with pytest.raises(PermissionDenied):
        meeting_log_outcome(
            actor=personas.manager,
            meeting=scheduled,
            happened=True,
            now=scheduled.starts_at + timedelta(hours=1),
        )


# --- invitation e-mails -----------------------------------------------------------------------
def test_an_invitation_is_mailed_once_even_if_the_task_runs_twice(scheduled):
    assert meeting_invitation_send(meeting_id=scheduled.pk, sequence=0, method="REQUEST") == 2
    assert meeting_invitation_send(meeting_id=scheduled.pk, sequence=0, method="REQUEST") == 0
    assert MeetingNotice.objects.filter(meeting=scheduled).count() == 1
    assert len(mail.outbox) == 2


def test_an_overtaken_invitation_is_skipped(personas, scheduled):
    meeting_reschedule(actor=personas.participant, meeting=scheduled, starts_at=next_week(18))
    assert meeting_invitation_send(meeting_id=scheduled.pk, sequence=0, method="REQUEST") == 0
    assert meeting_invitation_send(meeting_id=scheduled.pk, sequence=1, method="REQUEST") == 2


def test_each_member_reads_the_time_in_their_own_zone(personas, partner, scheduled):
    partner.person.user.time_zone = "America/New_York"
    partner.person.user.save()
    personas.participant.time_zone = "Europe/London"
    personas.participant.save()
    meeting_invitation_send(meeting_id=scheduled.pk, sequence=0, method="REQUEST")
    by_address = {m.to[0]: m.body for m in mail.outbox}
    new_york = scheduled.starts_at.astimezone(zoneinfo.ZoneInfo("America/New_York"))
    assert f"{new_york:%H:%M} (America/New_York)" in by_address[partner.person.email]
    london = scheduled.starts_at.astimezone(LONDON)
    assert f"{london:%H:%M} (Europe/London)" in by_address[personas.participant_record.person.email]
