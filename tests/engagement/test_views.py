"""Every engagement URL for every persona → status; the pages' behaviour; query budgets."""

from datetime import datetime, timedelta

import pytest
from django.db import connection as db
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from peermentor.connections.models import Connection
from peermentor.engagement.models import CheckIn, Meeting, Note, PlanItem
from peermentor.engagement.services import (
    circle_post_create,
    circle_resource_add,
    circle_session_create,
    meeting_accept,
    meeting_propose,
    note_create,
    plan_instantiate,
    plan_item_add,
    plan_templates_ensure_defaults,
)
from tests.conftest import ROLES

pytestmark = pytest.mark.django_db

ALL_ROLES = [*ROLES, "other_participant"]
MEMBER = {"participant": 200}
MEMBER_ACTION = {"participant": 302}
MANAGER_PAGE = {
    "participant": 403,
    "other_participant": 403,
    "outsider": 403,
    "other_manager": 403,
    "manager": 200,
    "admin": 200,
}
MANAGER_ACTION = {**MANAGER_PAGE, "manager": 302, "admin": 302}


def next_week(hour=10):
    day = (timezone.now() + timedelta(days=7)).date()
    return datetime(day.year, day.month, day.day, hour, 0)


def expect(role, table):
    if role == "anonymous":
        return 302
    return table.get(role, 404)


def request(client, personas, role, method, url):
    user = personas.user(role)
    if user is not None:
        client.force_login(user)
    response = client.post(url) if method == "POST" else client.get(url)
    if role == "anonymous" and response.status_code == 302:
        assert response["Location"].startswith(reverse("login"))
    return response


@pytest.fixture
def world(personas, partner, pair):
    """The pair with a proposal from Bea, a scheduled meeting, a plan and the member's note."""
    waiting = meeting_propose(actor=partner.person.user, connection=pair, options=[next_week(9)])
    scheduled = meeting_propose(actor=partner.person.user, connection=pair, options=[next_week()])
    meeting_accept(
        actor=personas.participant, meeting=scheduled, option_id=scheduled.options.get().pk
    )
    plan_instantiate(connection=pair)
    item = plan_item_add(actor=personas.participant, connection=pair, kind="task", title="Read")
    note = note_create(
        actor=personas.participant, connection=pair, body="Mine", visibility="private"
    )
    template = plan_templates_ensure_defaults(program=personas.program)["pair"]
    return {
        "pair": pair.pk,
        "waiting": waiting.pk,
        "scheduled": scheduled.pk,
        "item": item.pk,
        "note": note.pk,
        "program": personas.program.pk,
        "template": template.pk,
        "template_item": template.items.first().pk,
    }


WORKSPACE_URLS = [
    ("GET", "workspace", "pair", MEMBER),
    ("GET", "meeting_propose", "pair", MEMBER),
    ("GET", "plan_item_add", "pair", MEMBER),
    ("GET", "note_create", "pair", MEMBER),
    ("GET", "check_in", "pair", MEMBER),
    # Assignments belong to shadowing placements: not found for a pair, even for its members.
    ("GET", "assignment_create", "pair", {}),
    ("POST", "meeting_accept", "waiting", MEMBER_ACTION),
    ("POST", "meeting_decline", "waiting", MEMBER_ACTION),
    ("GET", "meeting_reschedule", "scheduled", MEMBER),
    ("GET", "meeting_cancel", "scheduled", MEMBER),
    ("POST", "meeting_outcome", "scheduled", MEMBER_ACTION),
    ("GET", "meeting_invite", "scheduled", MEMBER),
    # A proposal has no time yet, so no invitation.
    ("GET", "meeting_invite", "waiting", {}),
    ("GET", "plan_item_edit", "item", MEMBER),
    ("POST", "plan_item_done", "item", MEMBER_ACTION),
    ("POST", "plan_item_move", "item", MEMBER_ACTION),
    ("POST", "plan_item_remove", "item", MEMBER_ACTION),
    ("GET", "assignment_reflect", "item", {}),
    ("GET", "assignment_feedback", "item", {}),
    ("GET", "note_edit", "note", MEMBER),
    ("GET", "note_delete", "note", MEMBER),
    ("GET", "plan_templates", "program", MANAGER_PAGE),
    ("POST", "plan_templates_defaults", "program", MANAGER_ACTION),
    ("GET", "check_in_settings", "program", MANAGER_PAGE),
    (
        "GET",
        "open_circles",
        "program",
        {"participant": 200, "other_participant": 200, "manager": 200, "admin": 200},
    ),
    (
        "POST",
        "plan_template_item_remove",
        "template_item",
        {"manager": 302, "admin": 302},
    ),
]


def check_matrix(client, personas, role, urls, ids):
    """Every URL for one role (one set of fixtures per role keeps the matrix fast); report
    every mismatch at once."""
    wrong = []
    for method, name, key, table in urls:
        url = reverse(name, args=[ids[key]])
        status = request(client, personas, role, method, url).status_code
        if status != expect(role, table):
            wrong.append(f"{method} {name} ({url}): {status}, expected {expect(role, table)}")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("role", ALL_ROLES)
def test_workspace_permissions(client, personas, world, role):
    check_matrix(client, personas, role, WORKSPACE_URLS, world)


def test_every_engagement_url_is_in_a_matrix():
    from peermentor.engagement.urls import urlpatterns

    listed = {name for _, name, _, _ in WORKSPACE_URLS + CIRCLE_URLS}
    listed |= {"plan_template_item_add", "calendar_settings", "calendar_feed"}
    assert {pattern.name for pattern in urlpatterns} == listed


@pytest.mark.parametrize("role", ALL_ROLES)
def test_template_item_add_permissions(client, personas, world, role):
    url = reverse("plan_template_item_add", args=[world["program"], world["template"]])
    response = request(client, personas, role, "GET", url)
    assert response.status_code == expect(role, MANAGER_PAGE)


@pytest.mark.parametrize("role", ALL_ROLES)
def test_calendar_settings_is_for_everyone_signed_in(client, personas, role):
    response = request(client, personas, role, "GET", reverse("calendar_settings"))
    assert response.status_code == (302 if role == "anonymous" else 200)


@pytest.mark.parametrize("role", ALL_ROLES)
def test_a_made_up_feed_token_is_not_found(client, personas, role):
    response = request(client, personas, role, "GET", "/engagement/calendar/made-up-token.ics")
    assert response.status_code == 404


# --- shadowing pages --------------------------------------------------------------------------
@pytest.fixture
def placement(personas, connect, make_participant):
    program = personas.program
    program.format = "shadowing"
    program.save()
    record = personas.participant_record
    record.role = "host"
    record.capacity = 2
    record.save()
    shadow = make_participant(role="shadow", name="Sam Shadow")
    connection = connect([(record, "host"), (shadow, "shadow")], kind="shadowing")
    return connection, shadow


def test_host_offers_assignments_and_the_shadow_may_not(client, personas, placement):
    connection, shadow = placement
    url = reverse("assignment_create", args=[connection.pk])
    client.force_login(personas.participant)
    assert client.get(url).status_code == 200
    due = (timezone.localdate() + timedelta(days=5)).isoformat()
    response = client.post(
        url,
        {
            "title": "Summarise the weekly numbers",
            "effort_hours": "2",
            "due_on": due,
            "learning_goal": "Which figures the team watches",
        },
    )
    assert response.status_code == 302
    item = PlanItem.objects.get(kind="assignment", title="Summarise the weekly numbers")
    client.force_login(shadow.person.user)
    assert client.get(url).status_code == 403
    assert client.get(reverse("assignment_feedback", args=[item.pk])).status_code == 403
    response = client.post(
        reverse("assignment_reflect", args=[item.pk]), {"reflection": "Learned the KPIs."}
    )
    assert response.status_code == 302
    client.force_login(personas.participant)
    assert client.get(reverse("assignment_reflect", args=[item.pk])).status_code == 403
    client.post(reverse("assignment_feedback", args=[item.pk]), {"feedback": "Great start."})
    item.refresh_from_db()
    assert (item.is_done, item.feedback) == (True, "Great start.")


# --- circle pages -----------------------------------------------------------------------------
@pytest.fixture
def circle_world(personas, connect, make_participant):
    """The personas' program run as circles: `participant` is in a circle, `other_participant`
    (a ready member) is not."""
    program = personas.program
    program.format = "circles"
    program.group_size_min = 2
    program.group_size_max = 4
    program.save()
    for record in (personas.participant_record, personas.other_participant_record):
        record.role = "member"
        record.is_profile_complete = record.is_training_complete = True
        record.ready_at = timezone.now()
        record.save()
    other = make_participant(role="member")
    circle = connect([(personas.participant_record, "member"), (other, "member")], kind="circle")
    session = circle_session_create(
        actor=personas.participant,
        connection=circle,
        title="Kick-off",
        starts_at=next_week(),
        location="Room 1",
    )
    resource = circle_resource_add(
        actor=personas.participant, connection=circle, title="Docs", url="https://example.com"
    )
    return {"circle": circle.pk, "session": session.pk, "resource": resource.pk}


CIRCLE_URLS = [
    ("GET", "circle_detail", "circle", MEMBER),
    ("GET", "circle_session_create", "circle", MEMBER),
    ("GET", "circle_post_create", "circle", MEMBER),
    ("GET", "circle_resource_add", "circle", MEMBER),
    ("GET", "circle_leave", "circle", MEMBER),
    ("GET", "workspace", "circle", MEMBER),
    ("POST", "session_rsvp", "session", MEMBER_ACTION),
    ("POST", "session_cancel", "session", MEMBER_ACTION),
    ("GET", "session_invite", "session", MEMBER),
    ("POST", "resource_remove", "resource", MEMBER_ACTION),
    # Any participant of the program may ask to join (the service says why not).
    ("POST", "circle_join", "circle", {"participant": 302, "other_participant": 302}),
    # Managers open and close circles; a plain member may see the circle but not do it.
    ("POST", "circle_set_open", "circle", {"participant": 403, "manager": 302, "admin": 302}),
]


@pytest.mark.parametrize("role", ALL_ROLES)
def test_circle_permissions(client, personas, circle_world, role):
    check_matrix(client, personas, role, CIRCLE_URLS, circle_world)


def test_joining_an_open_circle_from_the_list(client, personas, circle_world):
    circle_pk = circle_world["circle"]
    client.force_login(personas.manager)
    client.post(reverse("circle_set_open", args=[circle_pk]), {"is_open": "yes"})
    client.force_login(personas.other_participant)
    listing = client.get(reverse("open_circles", args=[personas.program.pk]))
    assert f"Join circle #{circle_pk}" in listing.content.decode()
    response = client.post(reverse("circle_join", args=[circle_pk]))
    assert response["Location"] == reverse("circle_detail", args=[circle_pk])
    page = client.get(response["Location"]).content.decode()
    assert "Welcome to the circle!" in page and "3 of 4 seats taken" in page


def test_session_invitation_download(client, personas, circle_world):
    client.force_login(personas.participant)
    response = client.get(reverse("session_invite", args=[circle_world["session"]]))
    event = Calendar.from_ical(response.content).events[0]
    assert event["SUMMARY"] == "Kick-off"
    assert event["LOCATION"] == "Room 1"


# --- forms keep what was typed ----------------------------------------------------------------
def test_a_bad_meeting_proposal_shows_the_error_and_keeps_the_input(client, personas, pair):
    client.force_login(personas.participant)
    response = client.post(
        reverse("meeting_propose", args=[pair.pk]),
        {"option_1": "2020-01-01T10:00", "duration_minutes": "60", "title": "Catch-up"},
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "Choose a time in the future." in html
    assert 'value="Catch-up"' in html and 'value="2020-01-01T10:00"' in html
    assert not Meeting.objects.exists()


def test_garbage_input_never_gives_a_server_error(client, personas, world):
    client.force_login(personas.participant)
    posts = [
        (reverse("meeting_propose", args=[world["pair"]]), {"option_1": "not a date"}),
        (reverse("meeting_accept", args=[world["waiting"]]), {"option": "abc"}),
        (reverse("meeting_accept", args=[world["waiting"]]), {"option": "999999"}),
        (reverse("meeting_outcome", args=[world["scheduled"]]), {"happened": "perhaps"}),
        (reverse("meeting_reschedule", args=[world["scheduled"]]), {"starts_at": "x"}),
        (reverse("plan_item_move", args=[world["item"]]), {"direction": "left"}),
        (reverse("plan_item_done", args=[world["item"]]), {"is_done": "maybe"}),
        (reverse("check_in", args=[world["pair"]]), {"rating": "11"}),
        (reverse("note_create", args=[world["pair"]]), {"body": "", "visibility": "world"}),
        (reverse("calendar_settings"), {"action": "explode"}),
    ]
    for url, data in posts:
        assert client.post(url, data).status_code in (200, 302), url


def test_propose_then_accept_through_the_pages(client, personas, partner, pair):
    client.force_login(personas.participant)
    response = client.post(
        reverse("meeting_propose", args=[pair.pk]),
        {"option_1": next_week(11).strftime("%Y-%m-%dT%H:%M"), "duration_minutes": "30"},
    )
    assert response.status_code == 302
    meeting = Meeting.objects.get()
    client.force_login(partner.person.user)
    page = client.get(reverse("workspace", args=[pair.pk])).content.decode()
    assert "Accept " in page
    client.post(reverse("meeting_accept", args=[meeting.pk]), {"option": meeting.options.get().pk})
    meeting.refresh_from_db()
    assert meeting.status == "scheduled" and meeting.duration_minutes == 30


def test_check_in_and_note_through_the_workspace(client, personas, pair):
    client.force_login(personas.participant)
    client.post(reverse("check_in", args=[pair.pk]), {"rating": "4", "comment": "Good"})
    client.post(
        reverse("note_create", args=[pair.pk]), {"body": "Remember: SQL", "visibility": "shared"}
    )
    assert CheckIn.objects.get().rating == 4
    assert Note.objects.get().body == "Remember: SQL"
    page = client.get(reverse("workspace", args=[pair.pk])).content.decode()
    assert "Remember: SQL" in page and "4 out of 5" in page


def test_calendar_feed_rotation_through_the_page(client, personas, world):
    client.force_login(personas.participant)
    page = client.post(reverse("calendar_settings"), {"action": "rotate"}).content.decode()
    start = page.index("http://testserver/engagement/calendar/")
    url = page[start : page.index('"', start)]
    client.logout()
    feed = client.get(url)
    assert feed.status_code == 200
    calendar = Calendar.from_ical(feed.content)
    assert "METHOD" not in calendar
    assert len(calendar.events) == 1
    client.force_login(personas.participant)
    client.post(reverse("calendar_settings"), {"action": "revoke"})
    client.logout()
    assert client.get(url).status_code == 404


# --- query budgets ----------------------------------------------------------------------------
def _grow(personas, partner, pair, count):
    for index in range(count):
        meeting = meeting_propose(
            actor=partner.person.user, connection=pair, options=[next_week(8 + index % 10)]
        )
        if index % 2:
            meeting_accept(
                actor=personas.participant, meeting=meeting, option_id=meeting.options.get().pk
            )
        plan_item_add(actor=personas.participant, connection=pair, kind="task", title=f"T{index}")
        note_create(
            actor=personas.participant, connection=pair, body=f"N{index}", visibility="shared"
        )
        note_create(
            actor=partner.person.user, connection=pair, body=f"P{index}", visibility="shared"
        )


def test_workspace_queries_do_not_grow_with_rows(client, personas, partner, pair):
    client.force_login(personas.participant)
    url = reverse("workspace", args=[pair.pk])
    client.get(url)  # the first visit copies the plan
    _grow(personas, partner, pair, 2)
    with CaptureQueriesContext(db) as small:
        assert client.get(url).status_code == 200
    _grow(personas, partner, pair, 8)
    with CaptureQueriesContext(db) as large:
        assert client.get(url).status_code == 200
    assert len(large) == len(small)
    assert len(large) <= 20


def test_circle_page_queries_do_not_grow_with_rows(client, personas, circle_world):
    connection = Connection.objects.get(pk=circle_world["circle"])

    def grow(count):
        for index in range(count):
            circle_post_create(actor=personas.participant, connection=connection, body=f"P{index}")
            circle_session_create(
                actor=personas.participant,
                connection=connection,
                title=f"S{index}",
                starts_at=next_week(8 + index),
                location="Room",
            )

    client.force_login(personas.participant)
    url = reverse("circle_detail", args=[connection.pk])
    grow(1)
    with CaptureQueriesContext(db) as small:
        client.get(url)
    grow(6)
    with CaptureQueriesContext(db) as large:
        client.get(url)
    assert len(large) == len(small)


def test_workspace_shows_shared_interests_and_suggested_times(client, personas, partner, pair):
    from tests.factories import AnswerFactory, ProfileQuestionFactory

    program = personas.program
    topics = ProfileQuestionFactory(
        program=program,
        label="Topics you care about",
        kind="multiple_choice",
        choices=[{"value": "sql", "label": "SQL"}, {"value": "ux", "label": "UX research"}],
    )
    offered = ProfileQuestionFactory(program=program, kind="skills_offered", choices=[])
    wanted = ProfileQuestionFactory(program=program, kind="skills_wanted", choices=[])
    slots = ProfileQuestionFactory(program=program, kind="availability", choices=[])
    me, bea = personas.participant_record, partner
    AnswerFactory(participant=me, question=topics, value=["sql", "ux"])
    AnswerFactory(participant=bea, question=topics, value=["sql"])
    AnswerFactory(participant=me, question=wanted, value=["Python"])
    AnswerFactory(participant=bea, question=offered, value=["Python", "Excel"])
    every_weekday = [{"day": d, "start": "09:00", "end": "17:00"} for d in range(5)]
    AnswerFactory(participant=me, question=slots, value=every_weekday, time_zone="Europe/London")
    AnswerFactory(
        participant=bea,
        question=slots,
        value=[{"day": d, "start": "09:00", "end": "12:00"} for d in range(5)],
        time_zone="America/New_York",
    )
    client.force_login(personas.participant)
    html = client.get(reverse("workspace", args=[pair.pk])).content.decode()
    assert "Topics you care about: SQL" in html and "UX research" not in html
    assert "Can help you with: Python" in html
    assert "Times you are all available:" in html
    page = client.get(reverse("meeting_propose", args=[pair.pk])).content.decode()
    assert "Times when you are both available" in page
