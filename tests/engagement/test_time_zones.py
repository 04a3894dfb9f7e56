"""Scheduling across time zones and daylight-saving changes; the .ics parsed back and checked."""

import zoneinfo
from datetime import UTC, date, datetime, timedelta

import pytest
from django.utils import timezone
from icalendar import Calendar

from peermentor.core.errors import ApplicationError
from peermentor.core.timezones import (
    Availability,
    local_to_utc,
    suggest_times,
    zone_name_for,
)
from peermentor.engagement import ics
from peermentor.engagement.services import (
    meeting_accept,
    meeting_cancel,
    meeting_propose,
    meeting_reschedule,
)

LONDON = zoneinfo.ZoneInfo("Europe/London")
NEW_YORK = zoneinfo.ZoneInfo("America/New_York")


def last_sunday_of_march(year: int) -> date:
    day = date(year, 3, 31)
    return day - timedelta(days=(day.weekday() - 6) % 7)


def uk_spring_change() -> date:
    """The next time British clocks go forward (always after the American change)."""
    return last_sunday_of_march(timezone.now().year + 1)


# --- pure conversions -------------------------------------------------------------------------
def test_wall_time_after_the_uk_change_is_an_hour_earlier_in_utc():
    change = uk_spring_change()
    before = datetime.combine(change - timedelta(days=2), datetime.min.time()).replace(hour=10)
    after = datetime.combine(change + timedelta(days=1), datetime.min.time()).replace(hour=10)
    assert local_to_utc(before, "Europe/London").hour == 10
    assert local_to_utc(after, "Europe/London").hour == 9
    # In the weeks between the American and the British change, London is 4 hours ahead.
    assert local_to_utc(before, "Europe/London").astimezone(NEW_YORK).hour == 6
    assert local_to_utc(after, "Europe/London").astimezone(NEW_YORK).hour == 5


def test_a_time_skipped_by_the_clock_change_is_refused():
    change = uk_spring_change()
    skipped = datetime.combine(change, datetime.min.time()).replace(hour=1, minute=30)
    with pytest.raises(ApplicationError, match="does not exist in Europe/London") as error:
        local_to_utc(skipped, "Europe/London", field="option_1")
    assert error.value.field == "option_1"


def test_an_hour_that_happens_twice_means_the_first_one():
    autumn = date(timezone.now().year + 1, 10, 31)
    autumn -= timedelta(days=(autumn.weekday() - 6) % 7)
    twice = datetime.combine(autumn, datetime.min.time()).replace(hour=1, minute=30)
    assert local_to_utc(twice, "Europe/London") == datetime.combine(
        autumn, datetime.min.time(), tzinfo=UTC
    ).replace(hour=0, minute=30)


def test_zone_of_a_person_prefers_their_account_setting():
    class Holder:
        def __init__(self, **fields):
            self.__dict__.update(fields)

    person = Holder(time_zone="Europe/Paris", user=Holder(time_zone="Asia/Tokyo"))
    assert zone_name_for(person=person) == "Asia/Tokyo"
    person.user.time_zone = ""
    assert zone_name_for(person=person) == "Europe/Paris"
    person.time_zone = "Not/AZone"
    assert zone_name_for(person=person) == "UTC"


def test_suggestions_are_the_overlap_of_both_weeks_across_zones():
    # Ana: Mondays 09:00-12:00 in London; Ben: Mondays 04:00-06:30 in New York.
    now = datetime(2027, 1, 6, 12, 0, tzinfo=UTC)  # a Wednesday in winter (5 hours apart)
    ana = Availability("Europe/London", [{"day": 0, "start": "09:00", "end": "12:00"}])
    ben = Availability("America/New_York", [{"day": 0, "start": "04:00", "end": "06:30"}])
    suggestions = suggest_times([ana, ben], now=now, duration_minutes=60)
    # Overlap 09:00-11:30 London time on each of the next two Mondays.
    assert suggestions == [
        datetime(2027, 1, 11, 9, 0, tzinfo=UTC),
        datetime(2027, 1, 18, 9, 0, tzinfo=UTC),
    ]
    assert suggest_times([ana, ben], now=now, duration_minutes=180) == []
    assert suggest_times([], now=now) == []


def test_suggestions_follow_the_clock_change():
    # London 14:00-15:00 and New York 09:00-10:00 on Mondays overlap only once both countries
    # are on summer time (5 hours apart again), i.e. from the Monday after the UK change.
    change = last_sunday_of_march(2027)
    now = datetime.combine(change - timedelta(days=9), datetime.min.time(), tzinfo=UTC)
    ana = Availability("Europe/London", [{"day": 0, "start": "14:00", "end": "15:00"}])
    ben = Availability("America/New_York", [{"day": 0, "start": "09:00", "end": "10:00"}])
    suggestions = suggest_times([ana, ben], now=now, days=14)
    # Before the UK change 14:00 London = 10:00 New York (no overlap with 09:00-10:00);
    # the Monday after it 14:00 London = 09:00 New York: they overlap.
    assert suggestions == [
        datetime.combine(change + timedelta(days=1), datetime.min.time(), tzinfo=UTC).replace(
            hour=13
        )
    ]


# --- the .ics of a scheduled meeting ----------------------------------------------------------
pytestmark_db = pytest.mark.django_db


@pytest.fixture
def new_yorker(partner):
    partner.person.user.time_zone = "America/New_York"
    partner.person.user.save()
    return partner


@pytest.fixture
def after_change_meeting(personas, pair, new_yorker):
    """Proposed in London for 10:00 the day after the clocks change; the New Yorker accepts."""
    personas.participant.time_zone = "Europe/London"
    personas.participant.save()
    day = uk_spring_change() + timedelta(days=1)
    meeting = meeting_propose(
        actor=personas.participant,
        connection=pair,
        options=[datetime.combine(day, datetime.min.time()).replace(hour=10)],
        time_zone="Europe/London",
    )
    return meeting_accept(
        actor=new_yorker.person.user, meeting=meeting, option_id=meeting.options.get().pk
    )


@pytestmark_db
def test_meeting_after_the_change_is_stored_at_nine_utc(after_change_meeting):
    assert after_change_meeting.starts_at.astimezone(UTC).hour == 9


@pytestmark_db
def test_invitation_is_written_in_the_organisers_zone_with_its_vtimezone(after_change_meeting):
    calendar = Calendar.from_ical(ics.meeting_invitation(after_change_meeting))
    assert calendar["METHOD"] == "REQUEST"
    assert calendar["VERSION"] == "2.0"
    event = calendar.events[0]
    assert event["DTSTART"].params["TZID"] == "Europe/London"
    assert event["DTEND"].params["TZID"] == "Europe/London"
    assert event.start.hour == 10
    assert event.start.astimezone(NEW_YORK).hour == 5
    assert (event.end - event.start) == timedelta(hours=1)
    assert [tz["TZID"] for tz in calendar.timezones] == ["Europe/London"]
    # The VTIMEZONE itself (not just Python's zoneinfo) puts 10:00 at 09:00 UTC that day.
    vtimezone = calendar.timezones[0].to_tz()
    wall = event.start.replace(tzinfo=None)
    assert wall.replace(tzinfo=vtimezone).astimezone(UTC).hour == 9
    attendees = sorted(str(a) for a in event["ATTENDEE"])
    assert len(attendees) == 2 and all(a.startswith("mailto:") for a in attendees)
    assert str(event["ORGANIZER"]).startswith("mailto:")
    assert event["STATUS"] == "CONFIRMED"


@pytestmark_db
def test_the_new_yorker_sees_five_oclock_in_the_workspace(client, new_yorker, after_change_meeting):
    client.force_login(new_yorker.person.user)
    page = client.get(f"/engagement/connections/{after_change_meeting.connection_id}/")
    html = page.content.decode()
    day = uk_spring_change() + timedelta(days=1)
    assert f"{day:%A} {day.day} {day:%B %Y}, 05:00" in html
    # ...and sees their partner's 10:00 beside it.
    assert "Mon 10:00 for" in html


@pytestmark_db
def test_the_londoner_sees_ten_oclock(client, personas, after_change_meeting):
    client.force_login(personas.participant)
    page = client.get(f"/engagement/connections/{after_change_meeting.connection_id}/")
    day = uk_spring_change() + timedelta(days=1)
    assert f"{day:%A} {day.day} {day:%B %Y}, 10:00" in page.content.decode()


@pytestmark_db
def test_reschedule_and_cancel_keep_uid_and_raise_sequence(personas, after_change_meeting):
    uid = ics.meeting_uid(after_change_meeting)
    moved = meeting_reschedule(
        actor=personas.participant,
        meeting=after_change_meeting,
        starts_at=datetime.combine(
            uk_spring_change() + timedelta(days=2), datetime.min.time()
        ).replace(hour=11),
        time_zone="Europe/London",
    )
    first = Calendar.from_ical(ics.meeting_invitation(moved)).events[0]
    assert (str(first["UID"]), first["SEQUENCE"]) == (uid, 1)
    assert first.start.hour == 11
    cancelled = meeting_cancel(actor=personas.participant, meeting=moved)
    calendar = Calendar.from_ical(ics.meeting_invitation(cancelled))
    second = calendar.events[0]
    assert calendar["METHOD"] == "CANCEL"
    assert (str(second["UID"]), second["SEQUENCE"], second["STATUS"]) == (uid, 2, "CANCELLED")


@pytestmark_db
def test_download_is_the_same_invitation(client, personas, after_change_meeting):
    client.force_login(personas.participant)
    response = client.get(f"/engagement/meetings/{after_change_meeting.pk}/invite.ics")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert "attachment" in response["Content-Disposition"]
    event = Calendar.from_ical(response.content).events[0]
    assert str(event["UID"]) == ics.meeting_uid(after_change_meeting)
    assert event["DTSTART"].params["TZID"] == "Europe/London"


@pytest.mark.parametrize(
    ("wall", "zone_name"),
    [(datetime(9999, 12, 31, 23, 0), "America/New_York"), (datetime(1, 1, 1, 0, 30), "Asia/Tokyo")],
)
def test_dates_at_the_ends_of_the_calendar_are_refused_not_crashing(wall, zone_name):
    with pytest.raises(ApplicationError, match="our era"):
        local_to_utc(wall, zone_name, field="option_1")


@pytestmark_db
def test_the_page_refuses_a_far_future_date_cleanly(client, personas, pair):
    personas.participant.time_zone = "America/New_York"
    personas.participant.save()
    client.force_login(personas.participant)
    response = client.post(
        f"/engagement/connections/{pair.pk}/meetings/new/",
        {"option_1": "9999-12-31T23:00", "duration_minutes": "60"},
    )
    assert response.status_code == 200
    assert "Choose a date in our era." in response.content.decode()
