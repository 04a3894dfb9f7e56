"""The dashboard's SQL health count must agree with engagement's rule (engagement/health.py),
connection by connection, on every branch of the rule and its day boundaries."""

from datetime import timedelta

import pytest
from django.utils import timezone

from peermentor.connections.models import Connection
from peermentor.engagement.health import HealthStatus
from peermentor.engagement.models import CheckIn, CircleSession, Meeting, Plan, PlanItem
from peermentor.engagement.selectors import health_for_connections
from peermentor.insights.selectors.health import health_counts, with_health
from tests.factories import ParticipantFactory, ProgramFactory

pytestmark = pytest.mark.django_db


def _connection(program, started_days_ago, now, kind="pair"):
    return Connection.objects.create(
        program=program,
        kind=kind,
        source="manual",
        status="active",
        started_at=now - timedelta(days=started_days_ago),
    )


def _meeting(connection, status, days_ago, now):
    starts = now - timedelta(days=days_ago)
    return Meeting.objects.create(
        connection=connection,
        title="m",
        time_zone="UTC",
        status=status,
        starts_at=starts,
        outcome_logged_at=starts if status in ("held", "missed") else None,
    )


def _pulse(connection, participant, rating, period, now, minutes_ago=0):
    pulse = CheckIn.objects.create(
        connection=connection,
        participant=participant,
        period=period,
        due_on=None if period == 0 else (now - timedelta(days=1)).date(),
        rating=rating,
    )
    CheckIn.objects.filter(pk=pulse.pk).update(created_at=now - timedelta(minutes=minutes_ago))


def _items(connection, due_done, due_open, today):
    plan = Plan.objects.create(connection=connection)
    for index in range(due_done + due_open):
        PlanItem.objects.create(
            plan=plan,
            kind="task",
            title="t",
            due_on=today - timedelta(days=1),
            is_done=index < due_done,
            done_at=timezone.now() if index < due_done else None,
        )


def test_sql_health_matches_the_engagement_rule_on_every_branch():
    now = timezone.now()
    today = now.date()
    program = ProgramFactory()
    member, other = ParticipantFactory(program=program), ParticipantFactory(program=program)
    expected = {}

    def add(name, days, status):
        connection = _connection(program, days, now)
        expected[connection.pk] = (name, status)
        return connection

    add("new, nothing yet", 5, HealthStatus.TOO_EARLY)
    add("day 29 boundary", 29, HealthStatus.TOO_EARLY)
    add("day 30 without a meeting", 30, HealthStatus.NEEDS_ATTENTION)
    _meeting(add("new with a meeting held", 5, HealthStatus.ON_TRACK), "held", 1, now)
    _pulse(add("new with a good pulse", 5, HealthStatus.ON_TRACK), member, 4, 0, now)
    _pulse(add("new with a low pulse", 5, HealthStatus.NEEDS_ATTENTION), member, 2, 0, now)
    recovered = add("low pulse then a better one", 40, HealthStatus.ON_TRACK)
    _pulse(recovered, member, 1, 0, now, minutes_ago=90)
    _pulse(recovered, member, 4, 1, now)
    _meeting(recovered, "held", 10, now)
    one_low = add("one member's latest is low", 40, HealthStatus.NEEDS_ATTENTION)
    _pulse(one_low, member, 5, 0, now)
    _pulse(one_low, other, 2, 0, now)
    _meeting(one_low, "held", 10, now)
    _meeting(add("old, recent meeting", 60, HealthStatus.ON_TRACK), "held", 10, now)
    _meeting(
        add("old, last meeting 46 days ago", 90, HealthStatus.NEEDS_ATTENTION), "held", 46, now
    )
    _meeting(add("old, last meeting 45 days ago", 90, HealthStatus.ON_TRACK), "held", 45, now)
    stalled_but_booked = add("old, stalled but one is booked", 90, HealthStatus.ON_TRACK)
    _meeting(stalled_but_booked, "held", 60, now)
    _meeting(stalled_but_booked, "scheduled", -3, now)
    _meeting(add("old, only a missed meeting", 40, HealthStatus.NEEDS_ATTENTION), "missed", 3, now)
    _items(add("overdue plan: 1 of 3", 10, HealthStatus.NEEDS_ATTENTION), 1, 2, today)
    _items(add("overdue plan: 2 of 4", 10, HealthStatus.TOO_EARLY), 2, 2, today)
    _items(add("overdue plan: 0 of 1", 10, HealthStatus.TOO_EARLY), 0, 1, today)
    circle = _connection(program, 60, now, kind="circle")
    expected[circle.pk] = ("circle with a recent session", HealthStatus.ON_TRACK)
    CircleSession.objects.create(
        connection=circle,
        title="s",
        starts_at=now - timedelta(days=7),
        time_zone="UTC",
        location="Room 1",
    )
    cancelled = _connection(program, 60, now, kind="circle")
    expected[cancelled.pk] = (
        "circle whose only session was cancelled",
        HealthStatus.NEEDS_ATTENTION,
    )
    CircleSession.objects.create(
        connection=cancelled,
        title="s",
        starts_at=now - timedelta(days=7),
        time_zone="UTC",
        location="Room 1",
        is_cancelled=True,
    )

    rule = health_for_connections(list(expected), today=today, now=now)
    sql = dict(
        with_health(Connection.objects.filter(program=program), today=today, now=now).values_list(
            "pk", "health"
        )
    )
    for pk, (name, status) in expected.items():
        assert rule[pk].status == status, f"engagement rule, {name}"
        assert sql[pk] == status, f"SQL, {name}"

    counts = health_counts(Connection.objects.filter(program=program), today=today, now=now)[None]
    assert counts == {
        status: sum(1 for _, wanted in expected.values() if wanted == status)
        for status in HealthStatus.values
    }


def test_only_active_connections_have_a_health():
    now = timezone.now()
    program = ProgramFactory()
    Connection.objects.create(program=program, kind="pair", source="manual", status="proposed")
    Connection.objects.create(
        program=program,
        kind="pair",
        source="manual",
        status="completed",
        started_at=now - timedelta(days=50),
        ended_at=now,
    )
    counts = health_counts(Connection.objects.filter(program=program), today=now.date(), now=now)
    assert counts == {}
