"""Circles: opening, joining (room and eligibility enforced), leaving, sessions with RSVPs,
the discussion and shared links."""

from datetime import datetime, timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db import connection as default_connection
from django.utils import timezone

from peermentor.connections.models import ConnectionMember
from peermentor.core.errors import ApplicationError
from peermentor.engagement.models import Circle, CircleSession, SessionRsvp
from peermentor.engagement.services import (
    circle_join,
    circle_leave,
    circle_post_create,
    circle_resource_add,
    circle_resource_remove,
    circle_session_cancel,
    circle_session_create,
    circle_set_open,
    session_rsvp,
)
from tests.concurrency import race
from tests.factories import (
    BlockFactory,
    ParticipantFactory,
    ProgramFactory,
    ProgramManagerFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def next_week(hour=18):
    day = (timezone.now() + timedelta(days=7)).date()
    return datetime(day.year, day.month, day.day, hour, 0)


@pytest.fixture
def circles_program():
    return ProgramFactory(
        format="circles", group_size_min=2, group_size_max=3, has_facilitator=True, theme="Data"
    )


@pytest.fixture
def circle(circles_program, connect, make_participant):
    """An active circle of two members and a facilitator; room for one more member."""
    members = [make_participant(program=circles_program, role="member") for _ in range(2)]
    facilitator = make_participant(program=circles_program, role="facilitator", name="Fay")
    connection = connect(
        [(members[0], "member"), (members[1], "member"), (facilitator, "facilitator")],
        kind="circle",
        program=circles_program,
    )
    connection.member_users = [m.person.user for m in members]
    connection.facilitator_user = facilitator.person.user
    return connection


@pytest.fixture
def joiner(circles_program, make_participant):
    return make_participant(program=circles_program, role="member", name="Jo Joiner")


# --- opening and joining ----------------------------------------------------------------------
def test_the_facilitator_or_a_manager_opens_a_circle(personas, circle, circles_program):
    opened = circle_set_open(actor=circle.facilitator_user, connection=circle, is_open=True)
    assert opened.is_open and opened.capacity == 3 and opened.member_count == 2
    manager = ProgramManagerFactory(program=circles_program).user
    assert not circle_set_open(actor=manager, connection=circle, is_open=False).is_open
    for actor in (circle.member_users[0], personas.manager, personas.participant):
        with pytest.raises(PermissionDenied):
            circle_set_open(actor=actor, connection=circle, is_open=True)


def test_join_takes_a_free_seat(circle, joiner):
    circle_set_open(actor=circle.facilitator_user, connection=circle, is_open=True)
    member = circle_join(actor=joiner.person.user, connection=circle)
    assert (member.role, member.is_current, member.uses_capacity) == ("member", True, False)
    assert Circle.objects.get(connection=circle).member_count == 3


def test_join_is_refused_when_closed_or_full(circle, joiner, circles_program, make_participant):
    with pytest.raises(ApplicationError, match="not open"):
        circle_join(actor=joiner.person.user, connection=circle)
    circle_set_open(actor=circle.facilitator_user, connection=circle, is_open=True)
    circle_join(actor=joiner.person.user, connection=circle)
    late = make_participant(program=circles_program, role="member")
    with pytest.raises(ApplicationError, match="full"):
        circle_join(actor=late.person.user, connection=circle)
    assert not ConnectionMember.objects.filter(participant=late).exists()


def test_join_is_refused_for_the_ineligible(personas, circle, circles_program, make_participant):
    circle_set_open(actor=circle.facilitator_user, connection=circle, is_open=True)
    not_ready = ParticipantFactory(program=circles_program, role="member")
    with pytest.raises(ApplicationError, match="profile and training"):
        circle_join(actor=not_ready.person.user, connection=circle)
    facilitator = make_participant(program=circles_program, role="facilitator")
    with pytest.raises(ApplicationError, match="facilitator"):
        circle_join(actor=facilitator.person.user, connection=circle)
    with pytest.raises(PermissionDenied):
        circle_join(actor=personas.participant, connection=circle)
    with pytest.raises(ApplicationError, match="already in this circle"):
        circle_join(actor=circle.member_users[0], connection=circle)


def test_join_is_refused_with_a_current_connection_or_a_block(
    circle, circles_program, connect, make_participant, joiner
):
    circle_set_open(actor=circle.facilitator_user, connection=circle, is_open=True)
    others = [make_participant(program=circles_program, role="member") for _ in range(2)]
    connect([(p, "member") for p in others], kind="circle", program=circles_program)
    with pytest.raises(ApplicationError, match="current connection"):
        circle_join(actor=others[0].person.user, connection=circle)
    BlockFactory(blocker=circle.member_users[1].person, blocked=joiner.person)
    with pytest.raises(ApplicationError, match="cannot join"):
        circle_join(actor=joiner.person.user, connection=circle)


def test_leave_frees_the_seat_and_withdraws_rsvps(circle, joiner):
    circle_set_open(actor=circle.facilitator_user, connection=circle, is_open=True)
    circle_join(actor=joiner.person.user, connection=circle)
    session = circle_session_create(
        actor=circle.facilitator_user,
        connection=circle,
        title="Kick-off",
        starts_at=next_week(),
        location="Room 4",
        capacity=5,
    )
    session_rsvp(actor=joiner.person.user, session=session, is_attending=True)
    circle_leave(actor=joiner.person.user, connection=circle)
    session.refresh_from_db()
    assert session.attending_count == 0
    assert SessionRsvp.objects.get(session=session).is_attending is False
    assert Circle.objects.get(connection=circle).member_count == 2
    assert not ConnectionMember.objects.get(connection=circle, participant=joiner).is_current
    with pytest.raises(PermissionDenied):
        circle_leave(actor=joiner.person.user, connection=circle)
    # Room again, and the same person may come back.
    circle_join(actor=joiner.person.user, connection=circle)
    assert Circle.objects.get(connection=circle).member_count == 3


def test_withdrawing_from_the_program_frees_the_circle_seat_and_rsvps(circle, joiner):
    from peermentor.engagement.services import participant_connections_end

    circle_set_open(actor=circle.facilitator_user, connection=circle, is_open=True)
    circle_join(actor=joiner.person.user, connection=circle)
    session = circle_session_create(
        actor=circle.facilitator_user,
        connection=circle,
        title="Kick-off",
        starts_at=next_week(),
        location="Room 4",
        capacity=5,
    )
    session_rsvp(actor=joiner.person.user, session=session, is_attending=True)
    participant_connections_end(actor=joiner.person.user, participant=joiner, reason_code="no_time")
    session.refresh_from_db()
    assert session.attending_count == 0 and not session.is_cancelled
    assert SessionRsvp.objects.get(session=session).is_attending is False
    assert Circle.objects.get(connection=circle).member_count == 2
    circle.refresh_from_db()
    assert circle.status == "active"


def test_the_database_refuses_more_members_than_seats(circle):
    circle_set_open(actor=circle.facilitator_user, connection=circle, is_open=True)
    with pytest.raises(IntegrityError), transaction.atomic():
        Circle.objects.filter(connection=circle).update(member_count=4)


# --- sessions ---------------------------------------------------------------------------------
def test_a_session_is_planned_in_the_members_own_zone(circle):
    user = circle.member_users[0]
    user.time_zone = "Asia/Tokyo"
    user.save()
    session = circle_session_create(
        actor=user,
        connection=circle,
        title="Deep dive",
        starts_at=next_week(19),
        video_url="https://video.example.com/circle",
    )
    assert session.time_zone == "Asia/Tokyo"
    assert session.starts_at.astimezone(timezone.get_fixed_timezone(9 * 60)).hour == 19


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"location": "", "video_url": ""}, "location"),
        ({"video_url": "javascript:alert(1)", "location": ""}, "video_url"),
        ({"starts_at": datetime(2020, 5, 1, 10)}, "starts_at"),
        ({"title": ""}, "title"),
        ({"capacity": 0}, "capacity"),
        ({"duration_minutes": 1000}, "duration_minutes"),
    ],
)
def test_session_refuses_bad_input(circle, changes, field):
    arguments = {"title": "Session", "starts_at": next_week(), "location": "Room 1", **changes}
    with pytest.raises(ApplicationError) as error:
        circle_session_create(actor=circle.member_users[0], connection=circle, **arguments)
    assert error.value.field == field
    assert not CircleSession.objects.exists()


def test_rsvp_respects_the_seats(circle):
    session = circle_session_create(
        actor=circle.member_users[0],
        connection=circle,
        title="Small room",
        starts_at=next_week(),
        location="Booth",
        capacity=1,
    )
    session_rsvp(actor=circle.member_users[0], session=session, is_attending=True)
    with pytest.raises(ApplicationError, match="full"):
        session_rsvp(actor=circle.member_users[1], session=session, is_attending=True)
    session_rsvp(actor=circle.member_users[0], session=session, is_attending=False)
    session_rsvp(actor=circle.member_users[1], session=session, is_attending=True)
    session.refresh_from_db()
    assert session.attending_count == 1
    with pytest.raises(IntegrityError), transaction.atomic():
        CircleSession.objects.filter(pk=session.pk).update(attending_count=2)


def test_rsvp_is_refused_for_cancelled_and_past_sessions_and_outsiders(personas, circle):
    session = circle_session_create(
        actor=circle.member_users[0],
        connection=circle,
        title="S",
        starts_at=next_week(),
        location="Room",
    )
    with pytest.raises(ApplicationError, match="already started"):
        session_rsvp(
            actor=circle.member_users[1],
            session=session,
            is_attending=True,
            now=session.starts_at + timedelta(minutes=1),
        )
    with pytest.raises(PermissionDenied):
        session_rsvp(actor=personas.manager, session=session, is_attending=True)
    with pytest.raises(PermissionDenied):
        circle_session_cancel(actor=circle.member_users[1], session=session)
    cancelled = circle_session_cancel(actor=circle.facilitator_user, session=session)
    assert cancelled.is_cancelled and cancelled.sequence == 1
    with pytest.raises(ApplicationError, match="cancelled"):
        session_rsvp(actor=circle.member_users[1], session=session, is_attending=True)


# --- discussion and links ---------------------------------------------------------------------
def test_posts_and_links(personas, circle):
    post = circle_post_create(actor=circle.member_users[0], connection=circle, body="Hello all")
    assert post.author.person.user == circle.member_users[0]
    with pytest.raises(ApplicationError) as error:
        circle_post_create(actor=circle.member_users[0], connection=circle, body=" ")
    assert error.value.field == "body"
    with pytest.raises(PermissionDenied):
        circle_post_create(actor=personas.admin, connection=circle, body="Reading along")
    link = circle_resource_add(
        actor=circle.member_users[0],
        connection=circle,
        title="Window functions",
        url="https://example.com/sql",
    )
    with pytest.raises(ApplicationError) as error:
        circle_resource_add(
            actor=circle.member_users[0], connection=circle, title="Bad", url="ftp://x"
        )
    assert error.value.field == "url"
    with pytest.raises(PermissionDenied):
        circle_resource_remove(actor=circle.member_users[1], resource=link)
    circle_resource_remove(actor=circle.facilitator_user, resource=link)


def test_circle_services_refuse_pairs(personas, pair):
    with pytest.raises(ApplicationError, match="not a circle"):
        circle_post_create(actor=personas.participant, connection=pair, body="Hi")


# --- the last seat under real concurrency -----------------------------------------------------
@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_people_racing_for_the_last_seat(circles_program, connect, make_participant):
    if default_connection.vendor != "postgresql":
        pytest.skip("row locks under real concurrency need PostgreSQL (set DATABASE_URL)")
    members = [make_participant(program=circles_program, role="member") for _ in range(2)]
    circle = connect([(m, "member") for m in members], kind="circle", program=circles_program)
    circle_set_open(actor=UserFactory(is_org_admin=True), connection=circle, is_open=True)
    racers = [make_participant(program=circles_program, role="member") for _ in range(2)]
    outcomes = race(
        [
            lambda racer=racer: circle_join(actor=racer.person.user, connection=circle)
            for racer in racers
        ]
    )
    winners = [o for o in outcomes if isinstance(o, ConnectionMember)]
    losers = [o for o in outcomes if isinstance(o, ApplicationError)]
    assert len(winners) == 1 and len(losers) == 1, outcomes
    assert Circle.objects.get(connection=circle).member_count == 3
