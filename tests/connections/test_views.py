import datetime

import pytest
from django.db import connection as db_connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from peermentor.connections.models import Block, Connection, Reflection, Report
from peermentor.connections.services import (
    connection_close_early,
    connection_complete,
    reflection_submit,
    report_person,
)
from tests.conftest import ROLES
from tests.factories import DepartmentFactory, PersonFactory, SiteFactory
from tests.urlnames import app_url_names

pytestmark = pytest.mark.django_db

ALL_ROLES = [*ROLES, "other_participant"]


@pytest.fixture
def partner(make_peer):
    person = PersonFactory(
        full_name="Bea Partner",
        job_title="Data analyst",
        department=DepartmentFactory(name="Finance"),
        site=SiteFactory(name="Leeds"),
    )
    from tests.factories import UserFactory

    person.user = UserFactory()
    person.save()
    return make_peer(person=person)


@pytest.fixture
def pair(personas, partner, make_pair):
    """An active pair of `participant` and Bea; `other_participant` is not in it."""
    return make_pair(personas.participant_record, partner)


@pytest.fixture
def ended_pair(personas, pair):
    connection_close_early(actor=personas.manager, connection=pair, reason_code="no_time")
    return pair


@pytest.fixture
def proposal(personas, partner, make_pair):
    return make_pair(personas.participant_record, partner, active=False)


def expect(role, table):
    """The status a role gets: `table` names the roles with access, everyone else 404."""
    if role == "anonymous":
        return 302
    return table.get(role, 404)


MEMBER_OR_MANAGER = {"participant": 200, "manager": 200, "admin": 200}
MANAGER_ONLY = {"participant": 403, "manager": 200, "admin": 200}
MEMBER_ONLY = {"participant": 200, "manager": 403, "admin": 403}


@pytest.mark.parametrize("role", ALL_ROLES)
@pytest.mark.parametrize(
    ("name", "table"),
    [
        ("connection_detail", MEMBER_OR_MANAGER),
        ("connection_history", MANAGER_ONLY),
        ("connection_complete", MEMBER_OR_MANAGER),
        ("connection_close", MEMBER_OR_MANAGER),
        ("connection_extend", MANAGER_ONLY),
        ("connection_block", MEMBER_ONLY),
        ("connection_report", MEMBER_ONLY),
    ],
)
def test_connection_pages_by_role(client, personas, pair, role, name, table):
    if personas.user(role):
        client.force_login(personas.user(role))
    response = client.get(reverse(name, args=[pair.pk]))
    assert response.status_code == expect(role, table)


@pytest.mark.parametrize("role", ALL_ROLES)
def test_reflect_page_by_role(client, personas, ended_pair, role):
    if personas.user(role):
        client.force_login(personas.user(role))
    response = client.get(reverse("connection_reflect", args=[ended_pair.pk]))
    assert response.status_code == expect(role, MEMBER_ONLY)


@pytest.mark.parametrize("role", ALL_ROLES)
@pytest.mark.parametrize("name", ["connection_activate", "connection_cancel"])
def test_manager_buttons_by_role(client, personas, proposal, role, name):
    if personas.user(role):
        client.force_login(personas.user(role))
    response = client.post(reverse(name, args=[proposal.pk]))
    assert response.status_code == expect(role, {"participant": 403, "manager": 302, "admin": 302})
    proposal.refresh_from_db()
    changed = proposal.status != "proposed"
    assert changed == (role in ("manager", "admin"))


@pytest.mark.parametrize("role", ALL_ROLES)
def test_my_connections_by_role(client, personas, role):
    if personas.user(role):
        client.force_login(personas.user(role))
    response = client.get(reverse("my_connections"))
    assert response.status_code == (302 if role == "anonymous" else 200)


@pytest.mark.parametrize("role", ALL_ROLES)
def test_program_connections_by_role(client, personas, pair, role):
    if personas.user(role):
        client.force_login(personas.user(role))
    response = client.get(reverse("program_connections", args=[personas.program.pk]))
    # Employees may see an enrolling program's page, so they are read-only members here (403).
    assert response.status_code == expect(
        role,
        {
            "outsider": 403,
            "participant": 403,
            "other_participant": 403,
            "other_manager": 403,
            "manager": 200,
            "admin": 200,
        },
    )


def test_program_connections_of_a_draft_program_are_hidden_from_outsiders(client, personas):
    personas.program.status = "draft"
    personas.program.save()
    client.force_login(personas.outsider)
    assert client.get(reverse("program_connections", args=[personas.program.pk])).status_code == 404
    client.force_login(personas.manager)
    assert client.get(reverse("program_connections", args=[personas.program.pk])).status_code == 200


@pytest.mark.parametrize("role", ALL_ROLES)
def test_report_list_by_role(client, personas, role):
    if personas.user(role):
        client.force_login(personas.user(role))
    response = client.get(reverse("report_list"))
    assert response.status_code == expect(
        role,
        {
            "outsider": 403,
            "participant": 403,
            "other_participant": 403,
            "other_manager": 200,
            "manager": 200,
            "admin": 200,
        },
    )


@pytest.mark.parametrize("role", ALL_ROLES)
def test_report_review_by_role(client, personas, pair, partner, role):
    report = report_person(
        actor=personas.participant, reported=partner.person, text="Rude", connection=pair
    )
    if personas.user(role):
        client.force_login(personas.user(role))
    response = client.post(reverse("report_review", args=[report.pk]), {"note": "Handled"})
    assert response.status_code == expect(role, {"manager": 302, "admin": 302})
    report.refresh_from_db()
    assert (report.status == "reviewed") == (role in ("manager", "admin"))


def test_unknown_connection_is_404(client, personas):
    client.force_login(personas.admin)
    assert client.get(reverse("connection_detail", args=[999999])).status_code == 404
    assert client.get("/connections/abc/").status_code == 404


# --- what people see -----------------------------------------------------------------------------
def test_my_connections_shows_who_why_and_whats_next(client, personas, pair):
    client.force_login(personas.participant)
    body = client.get(reverse("my_connections")).content.decode()
    assert "Bea Partner" in body
    assert "Data analyst" in body and "Finance" in body and "Leeds" in body
    assert "Both want to learn SQL" in body
    assert "Schedule your first meeting." in body
    assert reverse("connection_detail", args=[pair.pk]) in body


def test_my_connections_invites_reflection_after_closure_and_hides_dropped_proposals(
    client, personas, ended_pair, make_peer, make_pair
):
    dropped = make_pair(personas.participant_record, make_peer(), active=False)
    from peermentor.connections.services import connection_cancel

    connection_cancel(actor=personas.manager, connection=dropped)
    client.force_login(personas.participant)
    body = client.get(reverse("my_connections")).content.decode()
    assert "Share your reflection" in body
    assert reverse("connection_reflect", args=[ended_pair.pk]) in body
    assert reverse("connection_detail", args=[dropped.pk]) not in body


def test_detail_shows_the_partner_and_the_reasons_to_a_member(client, personas, pair):
    client.force_login(personas.participant)
    body = client.get(reverse("connection_detail", args=[pair.pk])).content.decode()
    assert "Peer pair with Bea Partner" in body
    assert "Why you were matched" in body and "Both want to learn SQL" in body
    assert "Data analyst" in body and "Finance" in body and "Leeds" in body
    assert reverse("connection_close", args=[pair.pk]) in body
    assert reverse("connection_history", args=[pair.pk]) not in body
    assert reverse("connection_extend", args=[pair.pk]) not in body


def test_admin_sees_the_workflow_but_never_a_reflection(client, personas, ended_pair, partner):
    reflection_submit(
        actor=personas.participant,
        connection=ended_pair,
        went_well="Secret thing that went well",
        learned="Private lesson",
        rating=2,
        may_quote=False,
    )
    for viewer in (personas.admin, personas.manager, partner.person.user):
        client.force_login(viewer)
        body = client.get(reverse("connection_detail", args=[ended_pair.pk])).content.decode()
        assert "Secret thing" not in body and "Private lesson" not in body
    client.force_login(personas.admin)
    body = client.get(reverse("connection_detail", args=[ended_pair.pk])).content.decode()
    assert "Closed early" in body and "No time" in body
    assert "1 of 2 members have reflected" in body
    history = client.get(reverse("connection_history", args=[ended_pair.pk])).content.decode()
    assert "connection.closed_early" in history and "Secret" not in history
    client.force_login(personas.participant)
    body = client.get(reverse("connection_detail", args=[ended_pair.pk])).content.decode()
    assert "Secret thing that went well" in body and "2 out of 5" in body


def test_history_lists_every_transition_with_who(client, personas, pair):
    connection_complete(actor=personas.participant, connection=pair)
    client.force_login(personas.manager)
    body = client.get(reverse("connection_history", args=[pair.pk])).content.decode()
    for action in ("connection.proposed", "connection.activated", "connection.completed"):
        assert action in body
    assert personas.participant.get_full_name() in body


# --- forms ---------------------------------------------------------------------------------------
def test_close_early_needs_a_reason_and_keeps_what_was_typed(client, personas, pair):
    client.force_login(personas.participant)
    url = reverse("connection_close", args=[pair.pk])
    response = client.post(url, {"reason_code": "", "reason_text": "Busy quarter"})
    assert response.status_code == 200
    assert "Choose why the connection is closing." in response.content.decode()
    assert "Busy quarter" in response.content.decode()
    response = client.post(url, {"reason_code": "other", "reason_text": ""})
    assert "Say in a few words" in response.content.decode()
    pair.refresh_from_db()
    assert pair.status == "active"
    response = client.post(url, {"reason_code": "no_time", "reason_text": "Busy quarter"})
    assert response.status_code == 302
    pair.refresh_from_db()
    assert (pair.status, pair.end_reason_text) == ("closed_early", "Busy quarter")


def test_close_form_comes_as_a_panel_for_htmx(client, personas, pair):
    client.force_login(personas.participant)
    response = client.get(reverse("connection_close", args=[pair.pk]), HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert "<html" not in body and 'name="reason_code"' in body
    assert '<label for="id_reason_code"' in body


def test_ending_an_ended_connection_redirects_with_a_message(client, personas, ended_pair):
    client.force_login(personas.participant)
    response = client.post(
        reverse("connection_complete", args=[ended_pair.pk]),
        {"reason_code": "completed"},
        follow=True,
    )
    assert "only an active connection can end" in response.content.decode()


def test_complete_from_the_form(client, personas, pair):
    client.force_login(personas.manager)
    response = client.post(
        reverse("connection_complete", args=[pair.pk]), {"reason_code": "goals_met"}
    )
    assert response.status_code == 302
    pair.refresh_from_db()
    assert (pair.status, pair.end_reason) == ("completed", "goals_met")


def test_extend_shows_bad_dates_beside_the_field(client, personas, pair):
    client.force_login(personas.manager)
    url = reverse("connection_extend", args=[pair.pk])
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    response = client.post(url, {"planned_end_on": yesterday.isoformat(), "reason": "More"})
    assert response.status_code == 200
    assert response.context["form"].errors["planned_end_on"] == [
        "The new planned end must be in the future."
    ]
    response = client.post(url, {"planned_end_on": "31/31/2020", "reason": "More"})
    assert "planned_end_on" in response.context["form"].errors
    later = timezone.localdate() + datetime.timedelta(days=120)
    response = client.post(url, {"planned_end_on": later.isoformat(), "reason": "More"})
    assert response.status_code == 302
    pair.refresh_from_db()
    assert pair.planned_end_on == later


def test_reflect_once_from_the_form(client, personas, ended_pair):
    client.force_login(personas.participant)
    url = reverse("connection_reflect", args=[ended_pair.pk])
    response = client.post(url, {"went_well": "Talks", "learned": "SQL", "rating": "9"})
    assert response.status_code == 200 and "rating" in response.context["form"].errors
    response = client.post(
        url, {"went_well": "Talks", "learned": "SQL", "rating": "5", "may_quote": "on"}
    )
    assert response.status_code == 302
    reflection = Reflection.objects.get()
    assert (reflection.rating, reflection.may_quote) == (5, True)
    response = client.get(url, follow=True)
    assert "already shared your reflection" in response.content.decode()


def test_reflect_before_the_end_redirects(client, personas, pair):
    client.force_login(personas.participant)
    response = client.get(reverse("connection_reflect", args=[pair.pk]), follow=True)
    assert "Reflections open once the connection has ended." in response.content.decode()


def test_block_from_a_pair_ends_it(client, personas, pair, partner):
    client.force_login(personas.participant)
    url = reverse("connection_block", args=[pair.pk])
    response = client.get(url)
    assert "This also ends this connection." in response.content.decode()
    response = client.post(url, {"person": str(personas.outsider.person.pk), "reason": ""})
    assert response.status_code == 200 and "person" in response.context["form"].errors
    response = client.post(url, {"person": str(partner.person.pk), "reason": "Rude"})
    assert response.status_code == 302
    assert Block.objects.filter(blocker=personas.participant_record.person).get().blocked == (
        partner.person
    )
    pair.refresh_from_db()
    assert pair.status == "closed_early"


def test_report_reaches_the_managers_list(client, personas, pair, partner):
    client.force_login(personas.participant)
    url = reverse("connection_report", args=[pair.pk])
    response = client.post(url, {"person": str(partner.person.pk), "text": ""})
    assert response.status_code == 200 and "text" in response.context["form"].errors
    response = client.post(url, {"person": str(partner.person.pk), "text": "Shouted at me"})
    assert response.status_code == 302
    assert Report.objects.get().text == "Shouted at me"
    client.force_login(personas.manager)
    assert "Shouted at me" in client.get(reverse("report_list")).content.decode()
    client.force_login(personas.other_manager)
    assert "Shouted at me" not in client.get(reverse("report_list")).content.decode()


def test_program_list_filters_and_htmx_partial(client, personas, pair, make_peer, make_pair):
    other = make_pair(make_peer(), make_peer(), active=False)
    client.force_login(personas.manager)
    url = reverse("program_connections", args=[personas.program.pk])
    body = client.get(url, {"status": "proposed"}).content.decode()
    assert reverse("connection_detail", args=[other.pk]) in body
    assert reverse("connection_detail", args=[pair.pk]) not in body
    body = client.get(url, {"q": "Bea"}).content.decode()
    assert reverse("connection_detail", args=[pair.pk]) in body
    assert reverse("connection_detail", args=[other.pk]) not in body
    response = client.get(url, {"status": "nonsense", "track": "x", "page": "zz"})
    assert response.status_code == 200
    partial = client.get(url, {"status": "active"}, HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in partial and reverse("connection_detail", args=[pair.pk]) in partial


def test_program_list_shows_the_average_rating_only_above_the_threshold(
    client, personas, make_peer, make_pair
):
    personas.program.anonymity_threshold = 3
    personas.program.save()
    url = reverse("program_connections", args=[personas.program.pk])
    client.force_login(personas.manager)
    for index in range(3):
        connection = make_pair(make_peer(), make_peer())
        connection_complete(actor=personas.manager, connection=connection)
        member = connection.members.first().participant.person.user
        reflection_submit(
            actor=member,
            connection=connection,
            went_well="a",
            learned="b",
            rating=index + 3,
            may_quote=False,
        )
        body = client.get(url).content.decode()
        if index < 2:
            assert "Average reflection rating" not in body
    assert "Average reflection rating: <strong>4.0</strong>" in body


# --- query budgets -------------------------------------------------------------------------------
def _ended_connections_for(personas, make_peer, make_pair, count):
    for _ in range(count):
        connection = make_pair(personas.participant_record, make_peer())
        connection_complete(actor=personas.manager, connection=connection)


def test_my_connections_queries_do_not_grow(client, personas, make_peer, make_pair):
    client.force_login(personas.participant)
    _ended_connections_for(personas, make_peer, make_pair, 2)
    with CaptureQueriesContext(db_connection) as few:
        assert client.get(reverse("my_connections")).status_code == 200
    _ended_connections_for(personas, make_peer, make_pair, 10)
    with CaptureQueriesContext(db_connection) as many:
        response = client.get(reverse("my_connections"))
    assert len(response.context["page"].object_list) == 12
    assert len(many) == len(few) <= 8


def test_program_connections_queries_do_not_grow(client, personas, make_peer, make_pair):
    client.force_login(personas.manager)
    url = reverse("program_connections", args=[personas.program.pk])
    for _ in range(2):
        make_pair(make_peer(), make_peer())
    with CaptureQueriesContext(db_connection) as few:
        client.get(url)
    for _ in range(15):
        make_pair(make_peer(), make_peer())
    with CaptureQueriesContext(db_connection) as many:
        response = client.get(url)
    assert len(response.context["result"].page.object_list) == 17
    # 12 for the list, 5 for the page's health (engagement's rule) and 3 for the last meeting,
    # last check-in and plan progress: none grows with the number of connections.
    assert len(many) == len(few) <= 20
    assert Connection.objects.count() == 17


def test_every_connections_url_has_a_permission_test():
    from peermentor.connections import urls

    tested = {
        "connection_detail",
        "connection_history",
        "connection_complete",
        "connection_close",
        "connection_extend",
        "connection_block",
        "connection_report",
        "connection_reflect",
        "connection_activate",
        "connection_cancel",
        "my_connections",
        "program_connections",
        "report_list",
        "report_review",
    }
    assert app_url_names(urls, "connections/") == tested
