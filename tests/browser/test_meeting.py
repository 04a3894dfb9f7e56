"""Two participants of an active pair schedule a meeting; one downloads the invitation."""

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from icalendar import Calendar

from peermentor.connections.services import connection_propose
from peermentor.engagement.services import connection_activate
from tests.browser.axe import assert_accessible
from tests.factories import (
    PASSWORD,
    PersonFactory,
    ProgramFactory,
    ProgramManagerFactory,
    ReadyParticipantFactory,
    UserFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def participant(program, name, email, time_zone):
    user = UserFactory(email=email, full_name=name, time_zone=time_zone)
    person = PersonFactory(user=user, full_name=name, email=email, time_zone=time_zone)
    return ReadyParticipantFactory(program=program, person=person)


def sign_in(page, base_url, email):
    page.goto(f"{base_url}/accounts/login/")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base_url}/")


def test_two_participants_schedule_a_meeting(page, live_server, tmp_path: Path):
    program = ProgramFactory(name="Skills Exchange", format="pairs", status="running")
    manager = ProgramManagerFactory(program=program).user
    ana = participant(program, "Ana Alvarez", "ana@example.org", "Europe/London")
    ben = participant(program, "Ben Brown", "ben@example.org", "America/New_York")
    connection = connection_propose(
        actor=manager,
        program=program,
        members=[(ana, "peer"), (ben, "peer")],
        kind="pair",
        source="manual",
        reasons="Both want to learn SQL.",
    )
    connection_activate(actor=manager, connection=connection)
    workspace = f"{live_server.url}/engagement/connections/{connection.pk}/"
    day = timezone.localdate() + timedelta(days=10)

    # Ana proposes 10:00 London time.
    sign_in(page, live_server.url, "ana@example.org")
    page.goto(workspace)
    assert page.get_by_role("heading", name="Peer pair with Ben Brown").is_visible()
    assert_accessible(page)
    page.get_by_role("link", name="Propose a meeting").click()
    assert_accessible(page)
    page.get_by_label("Time 1").fill(f"{day:%Y-%m-%d}T10:00")
    page.get_by_label("Place or video link (optional)").fill("https://video.example.com/ana-ben")
    page.get_by_role("button", name="Propose").click()
    page.wait_for_url(f"{workspace}#meetings")
    assert page.get_by_text("Meeting proposed.").is_visible()
    page.get_by_role("button", name="Sign out").click()

    # Ben sees it in New York time and accepts it.
    sign_in(page, live_server.url, "ben@example.org")
    page.goto(workspace)
    london = datetime(day.year, day.month, day.day, 10, tzinfo=ZoneInfo("Europe/London"))
    in_new_york = london.astimezone(ZoneInfo("America/New_York"))
    accept = page.get_by_role("button", name=f"Accept {in_new_york:%a} {in_new_york.day}")
    assert f"{in_new_york:%H:%M}" in accept.inner_text()
    assert_accessible(page)
    accept.click()
    page.wait_for_url(f"{workspace}#meetings")
    assert page.get_by_text("Meeting scheduled.").is_visible()
    assert_accessible(page)

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download invitation (.ics)").click()
    target = tmp_path / "invite.ics"
    download_info.value.save_as(target)
    calendar = Calendar.from_ical(target.read_bytes())
    event = calendar.events[0]
    assert calendar["METHOD"] == "REQUEST"
    assert event["DTSTART"].params["TZID"] == "Europe/London"
    assert (event.start.date(), event.start.hour) == (day, 10)
    assert str(event["LOCATION"]) == "https://video.example.com/ana-ben"


def test_circle_calendar_and_template_pages_are_accessible(page, live_server):
    from peermentor.engagement.services import (
        circle_post_create,
        circle_resource_add,
        circle_session_create,
    )

    program = ProgramFactory(
        name="Leading Circles", format="circles", status="running", group_size_min=2
    )
    manager = ProgramManagerFactory(
        program=program, user=UserFactory(email="mia@example.org", full_name="Mia Manager")
    ).user
    members = [
        participant(program, f"Member {n}", f"member{n}@example.org", "Europe/Paris")
        for n in range(3)
    ]
    for member in members:
        member.role = "member"
        member.save()
    circle = connection_propose(
        actor=manager,
        program=program,
        members=[(m, "member") for m in members],
        kind="circle",
        source="manual",
    )
    connection_activate(actor=manager, connection=circle)
    user = members[0].person.user
    circle_session_create(
        actor=user,
        connection=circle,
        title="Kick-off",
        starts_at=datetime.combine(
            timezone.localdate() + timedelta(days=5), datetime.min.time()
        ).replace(hour=18),
        video_url="https://video.example.com/circle",
    )
    circle_post_create(actor=user, connection=circle, body="Welcome, all!")
    circle_resource_add(
        actor=user, connection=circle, title="Reading list", url="https://example.com/list"
    )

    sign_in(page, live_server.url, "member0@example.org")
    page.goto(f"{live_server.url}/engagement/circles/{circle.pk}/")
    assert page.get_by_role("heading", name="Kick-off").is_visible()
    assert_accessible(page)
    page.get_by_role("button", name="come to").first.click()
    assert page.get_by_text("See you there.").is_visible()
    page.goto(f"{live_server.url}/engagement/connections/{circle.pk}/")
    assert_accessible(page)
    page.goto(f"{live_server.url}/engagement/calendar/")
    page.get_by_role("button", name="Turn on my calendar feed").click()
    assert page.get_by_label("Calendar address").input_value().endswith(".ics")
    assert_accessible(page)
    page.get_by_role("button", name="Sign out").click()

    sign_in(page, live_server.url, "mia@example.org")
    page.goto(f"{live_server.url}/engagement/programs/{program.pk}/circles/")
    assert_accessible(page)
    page.goto(f"{live_server.url}/engagement/programs/{program.pk}/plans/")
    # The circle's first workspace visit copied the program's default template.
    assert page.get_by_role("heading", name="Circle session agenda (mentoring circle)").is_visible()
    assert_accessible(page)
