"""The demo organisation's engagement: living connections, deterministic, added once."""

import random
from datetime import timedelta

import pytest
from django.utils import timezone

from peermentor.connections.models import Connection
from peermentor.engagement.demo import populate
from peermentor.engagement.models import (
    CheckIn,
    Circle,
    CirclePost,
    CircleSession,
    Meeting,
    MeetingStatus,
    Note,
    PlanItem,
)
from peermentor.engagement.selectors import connection_health
from tests.factories import ProgramFactory

pytestmark = pytest.mark.django_db


def aged(connection, days):
    Connection.objects.filter(pk=connection.pk).update(
        started_at=timezone.now() - timedelta(days=days)
    )
    connection.refresh_from_db()
    return connection


@pytest.fixture
def pairs(personas, connect, make_participant):
    return [
        aged(connect([(make_participant(), "peer"), (make_participant(), "peer")]), days)
        for days in (100, 70, 45, 10)
    ]


def test_populate_makes_a_living_program(personas, pairs):
    now = timezone.now()
    counts = populate(personas.program, pairs, random.Random(7), now)
    # Their plans were made when they started; populate moves them back with the start.
    assert counts["plans"] == 0 and counts["meetings"] > 4 and counts["notes"] >= 4
    for connection in pairs:
        meetings = Meeting.objects.filter(connection=connection)
        assert meetings.exists()
        assert Note.objects.filter(connection=connection, visibility="shared").exists()
        assert PlanItem.objects.filter(plan__connection=connection).exists()
    held = Meeting.objects.filter(status=MeetingStatus.HELD)
    assert held.exists() and all(m.starts_at < now for m in held)
    upcoming = Meeting.objects.filter(status=MeetingStatus.SCHEDULED, starts_at__gt=now)
    assert upcoming.exists()
    assert PlanItem.objects.filter(is_done=True).exists()
    assert PlanItem.objects.filter(is_done=False).exists()
    assert CheckIn.objects.filter(connection=pairs[0]).exists()
    assert not CheckIn.objects.filter(connection=pairs[3]).exists()
    assert {connection_health(c).status for c in pairs} - {
        "on_track",
        "needs_attention",
        "too_early",
    } == set()


def test_populate_is_deterministic_and_adds_nothing_twice(personas, pairs):
    now = timezone.now()
    first = populate(personas.program, pairs, random.Random(7), now)
    snapshot = list(Meeting.objects.order_by("uid").values_list("uid", "status", "starts_at"))
    assert populate(personas.program, pairs, random.Random(7), now) == dict.fromkeys(first, 0)
    assert list(Meeting.objects.order_by("uid").values_list("uid", "status", "starts_at")) == (
        snapshot
    )


def test_populate_gives_circles_sessions_posts_and_links(connect, make_participant):
    program = ProgramFactory(format="circles", group_size_min=2, group_size_max=5)
    members = [make_participant(program=program, role="member") for _ in range(3)]
    circle = aged(connect([(m, "member") for m in members], kind="circle", program=program), 40)
    counts = populate(program, [circle], random.Random(1), timezone.now())
    assert counts["sessions"] == 3 and counts["posts"] >= 1
    assert Circle.objects.get(connection=circle).member_count == 3
    sessions = CircleSession.objects.filter(connection=circle)
    assert sessions.filter(starts_at__lt=timezone.now()).count() == 1
    for session in sessions:
        assert session.attending_count == session.rsvps.filter(is_attending=True).count()
    assert CirclePost.objects.filter(connection=circle).exists()
    assert not Meeting.objects.filter(connection=circle).exists()


def test_populate_pages_render(client, personas, pairs):
    populate(personas.program, pairs, random.Random(3), timezone.now())
    member = pairs[0].members.first().participant.person.user
    client.force_login(member)
    assert client.get(f"/engagement/connections/{pairs[0].pk}/").status_code == 200
