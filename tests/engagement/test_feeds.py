"""Private calendar feeds: random tokens stored hashed, rotated and revoked."""

from datetime import datetime, timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.utils import timezone
from icalendar import Calendar

from peermentor.engagement.models import CalendarFeed
from peermentor.engagement.selectors import feed_items, feed_owner
from peermentor.engagement.services import (
    calendar_feed_revoke,
    calendar_feed_rotate,
    circle_session_create,
    meeting_accept,
    meeting_cancel,
    meeting_propose,
)
from peermentor.engagement.services.feeds import token_hash

pytestmark = pytest.mark.django_db


def next_week(hour=10):
    day = (timezone.now() + timedelta(days=7)).date()
    return datetime(day.year, day.month, day.day, hour, 0)


def test_rotate_stores_only_a_hash_and_revokes_the_old_token(personas):
    first = calendar_feed_rotate(actor=personas.participant)
    feed = CalendarFeed.objects.get(user=personas.participant)
    assert feed.token_hash == token_hash(first) and first not in feed.token_hash
    assert len(first) >= 40
    assert feed_owner(first) == personas.participant
    second = calendar_feed_rotate(actor=personas.participant)
    assert second != first
    assert feed_owner(first) is None
    assert feed_owner(second) == personas.participant
    assert calendar_feed_revoke(actor=personas.participant) is True
    assert feed_owner(second) is None
    assert calendar_feed_revoke(actor=personas.participant) is False


def test_feeds_refuse_anonymous_and_die_with_the_account(personas):
    from django.contrib.auth.models import AnonymousUser

    with pytest.raises(PermissionDenied):
        calendar_feed_rotate(actor=AnonymousUser())
    token = calendar_feed_rotate(actor=personas.participant)
    personas.participant.is_active = False
    personas.participant.save()
    assert feed_owner(token) is None
    assert feed_owner("") is None and feed_owner("x" * 500) is None


def test_the_feed_lists_the_users_meetings_only(personas, partner, pair, connect, make_participant):
    proposal = meeting_propose(
        actor=partner.person.user, connection=pair, options=[next_week(9), next_week(15)]
    )
    meeting_accept(
        actor=personas.participant, meeting=proposal, option_id=proposal.options.first().pk
    )
    gone = meeting_propose(actor=partner.person.user, connection=pair, options=[next_week(11)])
    gone = meeting_accept(actor=personas.participant, meeting=gone, option_id=gone.options.get().pk)
    meeting_cancel(actor=partner.person.user, meeting=gone)
    meeting_propose(actor=personas.participant, connection=pair, options=[next_week(12)])
    others = connect([(make_participant(), "peer"), (make_participant(), "peer")])
    stranger = others.members.first().participant.person.user
    meeting_propose(actor=stranger, connection=others, options=[next_week(13)])

    items = feed_items(user=personas.participant)
    assert [m.status for m in items.meetings] == ["scheduled", "cancelled"]

    token = calendar_feed_rotate(actor=personas.participant)
    response = Client().get(f"/engagement/calendar/{token}.ics")
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    calendar = Calendar.from_ical(response.content)
    statuses = sorted(str(event["STATUS"]) for event in calendar.events)
    assert statuses == ["CANCELLED", "CONFIRMED"]
    assert {tz["TZID"] for tz in calendar.timezones} <= {"Europe/London", "UTC"}


def test_the_feed_lists_circle_sessions_unless_declined(personas, connect, make_participant):
    from peermentor.engagement.services import session_rsvp
    from tests.factories import ProgramFactory

    program = ProgramFactory(format="circles", group_size_min=2, group_size_max=4)
    members = [make_participant(program=program, role="member") for _ in range(2)]
    circle = connect([(m, "member") for m in members], kind="circle", program=program)
    user = members[0].person.user
    kept = circle_session_create(
        actor=user, connection=circle, title="Kept", starts_at=next_week(), location="Room"
    )
    declined = circle_session_create(
        actor=user, connection=circle, title="Skipped", starts_at=next_week(12), location="Room"
    )
    session_rsvp(actor=user, session=declined, is_attending=False)
    assert [s.title for s in feed_items(user=user).sessions] == [kept.title]
    assert [s.title for s in feed_items(user=members[1].person.user).sessions] == [
        "Kept",
        "Skipped",
    ]
