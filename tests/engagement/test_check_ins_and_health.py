"""Check-ins, the health rule, the bulk health selector and the nudge hooks."""

from datetime import date, timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection as db
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from peermentor.connections.models import Connection
from peermentor.core.errors import ApplicationError
from peermentor.engagement.health import (
    HealthSignals,
    HealthStatus,
    assess,
    check_in_period,
    next_check_in_on,
)
from peermentor.engagement.models import CheckIn, Meeting, MeetingStatus, PlanItem
from peermentor.engagement.selectors import (
    check_ins_due,
    connection_health,
    meetings_awaiting_answer,
    meetings_awaiting_outcome,
    plans_behind,
    program_health,
    stalled_connections,
)
from peermentor.engagement.services import (
    check_in_submit,
    engagement_settings_update,
    plan_instantiate,
)

pytestmark = pytest.mark.django_db
START = date(2027, 1, 1)


def started(connection, days_ago):
    """Pretend the connection started `days_ago` days ago; its plan (made when it started)
    moves with it."""
    connection.refresh_from_db()
    moved = timezone.now() - timedelta(days=days_ago)
    shift = connection.started_at.date() - moved.date()
    Connection.objects.filter(pk=connection.pk).update(started_at=moved)
    PlanItem.objects.filter(plan__connection=connection, due_on__isnull=False).update(
        due_on=F("due_on") - shift
    )
    connection.refresh_from_db()
    return connection


def held_meeting(connection, days_ago, status=MeetingStatus.HELD):
    when = timezone.now() - timedelta(days=days_ago)
    return Meeting.objects.create(
        connection=connection,
        title="Peer meeting",
        time_zone="UTC",
        status=status,
        starts_at=when,
        outcome_logged_at=when if status in ("held", "missed") else None,
    )


# --- the rhythm -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("days", "period", "due_days"),
    [(0, 0, None), (29, 0, None), (30, 1, 30), (89, 1, 30), (90, 2, 90), (150, 3, 150)],
)
def test_check_in_periods(days, period, due_days):
    due = START + timedelta(days=due_days) if due_days is not None else None
    assert check_in_period(START, START + timedelta(days=days)) == (period, due)


def test_next_check_in():
    assert next_check_in_on(START, START) == START + timedelta(days=30)
    assert next_check_in_on(START, START + timedelta(days=31)) == START + timedelta(days=90)
    assert next_check_in_on(START, START, first=14, every=28) == START + timedelta(days=14)


def test_check_in_submit_answers_the_current_period_once(personas, pair):
    started(pair, 35)
    check_in = check_in_submit(actor=personas.participant, connection=pair, rating=4)
    assert (check_in.period, check_in.rating) == (1, 4)
    assert check_in.due_on == pair.started_at.date() + timedelta(days=30)
    with pytest.raises(ApplicationError, match="already checked in"):
        check_in_submit(actor=personas.participant, connection=pair, rating=5)


@pytest.mark.parametrize("rating", [0, 6, "4", None, True])
def test_check_in_refuses_a_bad_rating(personas, pair, rating):
    with pytest.raises(ApplicationError) as error:
        check_in_submit(actor=personas.participant, connection=pair, rating=rating)
    assert error.value.field == "rating"
    assert not CheckIn.objects.exists()


@pytest.mark.parametrize("role", ["other_participant", "manager", "admin", "outsider"])
def test_only_members_check_in(personas, pair, role):
    with pytest.raises(PermissionDenied):
        check_in_submit(actor=personas.user(role), connection=pair, rating=3)


def test_program_rhythm_moves_the_periods(personas, pair):
    engagement_settings_update(
        actor=personas.manager,
        program=personas.program,
        first_check_in_after_days=7,
        check_in_every_days=14,
    )
    started(pair, 10)
    assert check_in_submit(actor=personas.participant, connection=pair, rating=3).period == 1
    with pytest.raises(ApplicationError) as error:
        engagement_settings_update(
            actor=personas.manager,
            program=personas.program,
            first_check_in_after_days=0,
            check_in_every_days=14,
        )
    assert error.value.field == "first_check_in_after_days"
    with pytest.raises(PermissionDenied):
        engagement_settings_update(
            actor=personas.participant,
            program=personas.program,
            first_check_in_after_days=7,
            check_in_every_days=14,
        )


# --- the rule ---------------------------------------------------------------------------------
def signals(**fields):
    return HealthSignals(started_on=START, today=START + timedelta(days=60), **fields)


@pytest.mark.parametrize(
    ("fields", "status"),
    [
        ({"today": START + timedelta(days=10)}, HealthStatus.TOO_EARLY),
        ({"today": START + timedelta(days=10), "latest_pulses": (4,)}, HealthStatus.ON_TRACK),
        ({"today": START + timedelta(days=10), "latest_pulses": (2,)}, "needs_attention"),
        ({}, HealthStatus.NEEDS_ATTENTION),
        ({"has_upcoming": True}, HealthStatus.ON_TRACK),
        (
            {"meetings_held": 2, "last_held_on": START + timedelta(days=40)},
            HealthStatus.ON_TRACK,
        ),
        (
            {"meetings_held": 2, "last_held_on": START + timedelta(days=10)},
            HealthStatus.NEEDS_ATTENTION,
        ),
        (
            {
                "meetings_held": 2,
                "last_held_on": START + timedelta(days=40),
                "items_due": 4,
                "items_due_done": 1,
            },
            HealthStatus.NEEDS_ATTENTION,
        ),
        (
            {
                "meetings_held": 2,
                "last_held_on": START + timedelta(days=40),
                "items_due": 4,
                "items_due_done": 2,
            },
            HealthStatus.ON_TRACK,
        ),
        (
            {
                "meetings_held": 3,
                "last_held_on": START + timedelta(days=55),
                "latest_pulses": (5, 1),
            },
            HealthStatus.NEEDS_ATTENTION,
        ),
    ],
)
def test_health_rule(fields, status):
    values = {"started_on": START, "today": START + timedelta(days=60), **fields}
    health = assess(HealthSignals(**values))
    assert health.status == status
    assert health.reasons


def test_a_low_pulse_reason_does_not_say_whose():
    health = assess(signals(meetings_held=1, last_held_on=START, latest_pulses=(1, 5)))
    assert any("2 out of 5 or lower" in reason for reason in health.reasons)


def test_connection_health_reads_meetings_plans_and_pulses(personas, partner, pair):
    started(pair, 10)
    assert connection_health(pair).status == HealthStatus.TOO_EARLY
    check_in_submit(actor=partner.person.user, connection=pair, rating=1)
    assert connection_health(pair).status == HealthStatus.NEEDS_ATTENTION
    CheckIn.objects.all().delete()
    started(pair, 60)
    assert connection_health(pair).status == HealthStatus.NEEDS_ATTENTION
    held_meeting(pair, 5)
    # The plan exists from the start: its items due in the first 60 days are still open.
    health = connection_health(pair)
    assert health.status == HealthStatus.NEEDS_ATTENTION
    assert any("plan items past their due date" in reason for reason in health.reasons)
    pair.engagement_plan.items.filter(due_on__lt=timezone.localdate()).update(
        is_done=True, done_at=timezone.now()
    )
    health = connection_health(pair)
    assert health.status == HealthStatus.ON_TRACK
    assert "1 meeting held." in health.reasons


def test_connection_health_is_none_unless_active(personas, partner, connect, make_participant):
    proposal = connect([(make_participant(), "peer"), (make_participant(), "peer")], active=False)
    assert connection_health(proposal) is None


def test_program_health_in_bounded_queries(personas, connect, make_participant):
    def build(count):
        for index in range(count):
            connection = started(
                connect([(make_participant(), "peer"), (make_participant(), "peer")]), 40
            )
            plan_instantiate(connection=connection).items.update(
                is_done=True, done_at=timezone.now()
            )
            held_meeting(connection, 3 + index)
            member = connection.members.first()
            CheckIn.objects.create(
                connection=connection,
                participant=member.participant,
                period=1,
                due_on=timezone.localdate(),
                rating=3 + index % 3,
            )

    build(2)
    with CaptureQueriesContext(db) as small:
        program_health(viewer=personas.manager, program=personas.program)
    build(6)
    with CaptureQueriesContext(db) as large:
        result = program_health(viewer=personas.manager, program=personas.program)
    assert len(large) == len(small)
    assert len(result.by_connection) == 8
    assert result.counts[HealthStatus.ON_TRACK] == 8
    with pytest.raises(PermissionDenied):
        program_health(viewer=personas.participant, program=personas.program)


# --- nudge hooks ------------------------------------------------------------------------------
def test_stalled_connections(personas, connect, make_participant):
    quiet = started(connect([(make_participant(), "peer"), (make_participant(), "peer")]), 40)
    busy = started(connect([(make_participant(), "peer"), (make_participant(), "peer")]), 40)
    held_meeting(busy, 5)
    fresh = started(connect([(make_participant(), "peer"), (make_participant(), "peer")]), 3)
    old_meeting = started(connect([(make_participant(), "peer"), (make_participant(), "peer")]), 90)
    held_meeting(old_meeting, 60)
    stalled = list(stalled_connections(personas.program, 30))
    assert stalled == [old_meeting, quiet]
    assert stalled[0].last_met_at is not None and stalled[1].last_met_at is None
    assert fresh not in stalled and busy not in stalled


def test_plans_behind(personas, pair, connect, make_participant):
    started(pair, 100)
    plan = plan_instantiate(connection=pair)
    on_time = started(connect([(make_participant(), "peer"), (make_participant(), "peer")]), 1)
    plan_instantiate(connection=on_time)
    behind = list(plans_behind(personas.program))
    assert behind == [pair]
    overdue = plan.items.filter(due_on__lt=timezone.localdate()).count()
    assert behind[0].overdue_items == overdue
    plan.items.update(is_done=True, done_at=timezone.now())
    assert list(plans_behind(personas.program)) == []


def test_check_ins_due(personas, partner, pair):
    started(pair, 31)
    due = check_ins_due(personas.program)
    assert {d.participant_id for d in due} == {personas.participant_record.pk, partner.pk}
    check_in_submit(actor=personas.participant, connection=pair, rating=4)
    due = check_ins_due(personas.program)
    assert [(d.participant_id, d.user_id) for d in due] == [(partner.pk, partner.person.user_id)]
    assert due[0].due_on == pair.started_at.date() + timedelta(days=30)


def test_meetings_awaiting_answer_and_outcome(personas, pair):
    waiting = Meeting.objects.create(connection=pair, title="T", time_zone="UTC")
    Meeting.objects.filter(pk=waiting.pk).update(created_at=timezone.now() - timedelta(days=3))
    assert list(meetings_awaiting_answer(personas.program)) == [waiting]
    assert list(meetings_awaiting_answer(personas.program, older_than_hours=100)) == []
    past = held_meeting(pair, 1, status=MeetingStatus.SCHEDULED)
    assert list(meetings_awaiting_outcome(personas.program)) == [past]


def test_nudge_hooks_cover_several_programs_in_one_query(personas, connect, make_participant):
    from tests.factories import ProgramFactory

    other = ProgramFactory()
    here = started(connect([(make_participant(), "peer"), (make_participant(), "peer")]), 40)
    there = started(
        connect(
            [(make_participant(program=other), "peer"), (make_participant(program=other), "peer")],
            program=other,
        ),
        40,
    )
    plan_instantiate(connection=here)
    plan_instantiate(connection=there)
    programs = [personas.program, other]
    with CaptureQueriesContext(db) as queries:
        stalled = set(stalled_connections(programs, 30))
    assert stalled == {here, there} and len(queries) == 1
    assert set(plans_behind(programs)) == {here, there}
    from peermentor.programs.models import Program

    assert set(stalled_connections(Program.objects.filter(pk=other.pk), 30)) == {there}
