"""Every help-network URL by persona; what the pages show; query budgets."""

import datetime

import pytest
from django.db import connection as db_connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from peermentor.helpnetwork import services
from peermentor.helpnetwork.models import AskStatus, HelpAsk, HelpOffer, OfferStatus
from tests.conftest import ROLES

pytestmark = pytest.mark.django_db

ALL_ROLES = [*ROLES, "other_participant"]
# participant = Ana, the asker; other_participant = Omar, who offered.


@pytest.fixture
def ask(personas, help_program, python, offers_python):
    ask = services.help_ask_create(
        actor=personas.participant,
        program=help_program,
        skill=python,
        description="How do I profile a slow pandas job?",
    )
    return ask


@pytest.fixture
def offer(personas, ask):
    return services.help_offer_create(actor=personas.other_participant, ask=ask, message="Sure!")


@pytest.fixture
def matched(personas, ask, offer):
    services.help_offer_accept(actor=personas.participant, offer=offer)
    ask.refresh_from_db()
    return ask


def _status(client, personas, role, method, url, data=None):
    if personas.user(role):
        client.force_login(personas.user(role))
    return getattr(client, method)(url, data or {}).status_code


def _expect(role, table, default=404):
    return 302 if role == "anonymous" else table.get(role, default)


VIEWERS = {"participant": 200, "other_participant": 200, "manager": 200, "admin": 200}


@pytest.mark.parametrize("role", ALL_ROLES)
def test_help_home(client, personas, help_program, role):
    status = _status(client, personas, role, "get", reverse("help_home"))
    assert status == (302 if role == "anonymous" else 200)


@pytest.mark.parametrize("role", ALL_ROLES)
def test_ask_form_is_for_enrolled_participants(client, personas, help_program, role):
    url = reverse("help_ask_create", args=[help_program.pk])
    table = {"participant": 200, "other_participant": 200, "manager": 403, "admin": 403}
    assert _status(client, personas, role, "get", url) == _expect(role, table)


@pytest.mark.parametrize("role", ALL_ROLES)
def test_open_asks_list(client, personas, ask, role):
    url = reverse("help_asks", args=[personas.program.pk])
    assert _status(client, personas, role, "get", url) == _expect(role, VIEWERS)


@pytest.mark.parametrize("role", ALL_ROLES)
def test_ask_detail(client, personas, ask, role):
    url = reverse("help_ask_detail", args=[ask.pk])
    assert _status(client, personas, role, "get", url) == _expect(role, VIEWERS)


@pytest.mark.parametrize("role", ALL_ROLES)
def test_offering(client, personas, ask, role):
    url = reverse("help_offer_create", args=[ask.pk])
    table = {"other_participant": 302, "participant": 403, "manager": 403, "admin": 403}
    assert _status(client, personas, role, "post", url, {"message": "Me!"}) == _expect(role, table)
    assert HelpOffer.objects.exists() == (role == "other_participant")


@pytest.mark.parametrize("role", ALL_ROLES)
def test_inviting(client, personas, ask, offers_python, role):
    url = reverse("help_ask_invite", args=[ask.pk])
    table = {"participant": 302, "other_participant": 403, "manager": 403, "admin": 403}
    status = _status(client, personas, role, "post", url, {"helper": offers_python.pk})
    assert status == _expect(role, table)
    assert ask.invitations.exists() == (role == "participant")


@pytest.mark.parametrize("role", ALL_ROLES)
def test_closing(client, personas, ask, role):
    url = reverse("help_ask_close", args=[ask.pk])
    table = {"participant": 200, "manager": 200, "admin": 200, "other_participant": 403}
    assert _status(client, personas, role, "get", url) == _expect(role, table)
    posted = _status(client, personas, role, "post", url, {"reason": ""})
    assert posted == _expect(role, {**table, "participant": 302, "manager": 302, "admin": 302})
    ask.refresh_from_db()
    assert (ask.status == AskStatus.CLOSED) == (role in ("participant", "manager", "admin"))


@pytest.mark.parametrize("role", ALL_ROLES)
def test_withdrawing_an_offer(client, personas, offer, role):
    url = reverse("help_offer_withdraw", args=[offer.pk])
    table = {"other_participant": 302, "participant": 403, "manager": 403, "admin": 403}
    assert _status(client, personas, role, "post", url) == _expect(role, table)
    offer.refresh_from_db()
    assert (offer.status == OfferStatus.WITHDRAWN) == (role == "other_participant")


@pytest.mark.parametrize("role", ALL_ROLES)
def test_taking_up_an_offer(client, personas, offer, role):
    url = reverse("help_offer_accept", args=[offer.pk])
    table = {"participant": 302, "other_participant": 403, "manager": 403, "admin": 403}
    assert _status(client, personas, role, "post", url) == _expect(role, table)
    offer.refresh_from_db()
    assert (offer.status == OfferStatus.ACCEPTED) == (role == "participant")


@pytest.mark.parametrize("role", ALL_ROLES)
def test_thanking(client, personas, matched, role):
    url = reverse("help_ask_thank", args=[matched.pk])
    table = {"participant": 200, "other_participant": 403, "manager": 403, "admin": 403}
    assert _status(client, personas, role, "get", url) == _expect(role, table)
    posted = _status(client, personas, role, "post", url, {"message": "Thank you!"})
    assert posted == _expect(role, {**table, "participant": 302})
    matched.refresh_from_db()
    assert (matched.thanked_at is not None) == (role == "participant")


@pytest.mark.parametrize("role", ALL_ROLES)
def test_asking_to_keep_meeting(client, personas, matched, role):
    url = reverse("help_ongoing_propose", args=[matched.pk])
    table = {"participant": 302, "other_participant": 302, "manager": 403, "admin": 403}
    assert _status(client, personas, role, "post", url) == _expect(role, table)


@pytest.mark.parametrize("role", ALL_ROLES)
def test_answering_a_request_to_keep_meeting(client, personas, matched, role):
    url = reverse("help_ongoing_answer", args=[matched.pk])
    table = {"participant": 302, "other_participant": 302, "manager": 403, "admin": 403}
    assert _status(client, personas, role, "post", url, {"accept": "yes"}) == _expect(role, table)


def test_pages_of_a_program_without_a_help_network_are_404(client, personas):
    client.force_login(personas.participant)
    assert client.get(reverse("help_asks", args=[personas.program.pk])).status_code == 404
    assert client.get(reverse("help_ask_create", args=[personas.program.pk])).status_code == 404
    assert client.get(reverse("help_ask_detail", args=[999999])).status_code == 404


def test_every_help_url_has_a_permission_test():
    from peermentor.helpnetwork import urls

    tested = {
        "help_home",
        "help_ask_create",
        "help_asks",
        "help_ask_detail",
        "help_offer_create",
        "help_ask_invite",
        "help_ask_close",
        "help_ask_thank",
        "help_ongoing_propose",
        "help_ongoing_answer",
        "help_offer_withdraw",
        "help_offer_accept",
    }
    assert {pattern.name for pattern in urls.urlpatterns} == tested


# --- what people see ----------------------------------------------------------------------------
def test_asking_shows_suggestions_that_say_who_is_outside_the_team(
    client, personas, help_program, python, make_helper
):
    make_helper("Fay Finance", department="Finance", site="Leeds")
    client.force_login(personas.participant)
    response = client.post(
        reverse("help_ask_create", args=[help_program.pk]),
        {
            "skill": python.pk,
            "description": "How do I profile a slow pandas job?",
            "expires_in_days": 14,
        },
        follow=True,
    )
    body = response.content.decode()
    assert "Your ask is open." in body
    assert "Fay Finance" in body
    assert "Works in Finance, Leeds — outside your team and site." in body


def test_bad_input_keeps_what_was_typed_and_names_the_field(client, personas, help_program, python):
    client.force_login(personas.participant)
    response = client.post(
        reverse("help_ask_create", args=[help_program.pk]),
        {
            "skill": python.pk,
            "description": "Help",
            "time_1": "2001-01-01T10:00",
            "expires_in_days": 14,
        },
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "needs at least 10 characters" in body
    assert "Help</textarea>" in body
    assert not HelpAsk.objects.exists()
    past = client.post(
        reverse("help_ask_create", args=[help_program.pk]),
        {
            "skill": python.pk,
            "description": "How do I profile a slow job?",
            "time_1": "2001-01-01T10:00",
            "expires_in_days": 14,
        },
    )
    assert "at least half an hour from now" in past.content.decode()


def test_taking_up_an_offer_leads_to_the_flash_workspace(client, personas, offer):
    client.force_login(personas.participant)
    response = client.post(reverse("help_offer_accept", args=[offer.pk]))
    offer.ask.refresh_from_db()
    assert response["Location"] == reverse("workspace", args=[offer.ask.connection_id])
    page = client.get(reverse("help_ask_detail", args=[offer.ask.pk])).content.decode()
    assert "Your flash meeting" in page and "Say thank you" in page


def test_the_helper_sees_only_their_own_offer_and_can_withdraw(
    client, personas, ask, offer, make_helper
):
    services.help_offer_create(actor=make_helper("Second Helper").person.user, ask=ask)
    client.force_login(personas.other_participant)
    body = client.get(reverse("help_ask_detail", args=[ask.pk])).content.decode()
    assert "Withdraw my offer" in body and "Second Helper" not in body
    client.force_login(personas.participant)
    body = client.get(reverse("help_ask_detail", args=[ask.pk])).content.decode()
    assert "Second Helper" in body and body.count("Take up this offer") == 2


def test_open_asks_filter_by_topic(client, personas, ask, sql, make_helper):
    services.help_ask_create(
        actor=make_helper("Sam Sql").person.user,
        program=personas.program,
        skill=sql,
        description="Window functions, please.",
    )
    client.force_login(personas.other_participant)
    url = reverse("help_asks", args=[personas.program.pk])
    body = client.get(url, {"skill": sql.pk}).content.decode()
    assert "Window functions" in body and "pandas" not in body
    partial = client.get(url, {"skill": "nonsense"}, HTTP_HX_REQUEST="true")
    assert partial.status_code == 200 and "pandas" in partial.content.decode()


# --- query budgets ------------------------------------------------------------------------------
def test_open_asks_query_count_does_not_grow(client, personas, help_program, make_helper):
    from tests.factories import SkillFactory

    def add(count):
        for number in range(count):
            services.help_ask_create(
                actor=make_helper(f"Asker {count}-{number}").person.user,
                program=help_program,
                skill=SkillFactory(),
                description="Please help me with this.",
            )

    add(2)
    client.force_login(personas.other_participant)
    url = reverse("help_asks", args=[help_program.pk])
    with CaptureQueriesContext(db_connection) as few:
        client.get(url)
    add(12)
    with CaptureQueriesContext(db_connection) as many:
        response = client.get(url)
    assert len(response.context["result"].page.object_list) == 14
    assert len(many) == len(few) <= 12


def test_ask_page_with_suggestions_query_count_does_not_grow(
    client, personas, help_program, python, make_helper
):
    ask = services.help_ask_create(
        actor=personas.participant,
        program=help_program,
        skill=python,
        description="How do I profile a slow pandas job?",
    )
    for number in range(2):
        helper = make_helper(f"Early {number}", department="Finance", site="Leeds")
        services.help_offer_create(actor=helper.person.user, ask=ask)
    client.force_login(personas.participant)
    url = reverse("help_ask_detail", args=[ask.pk])
    with CaptureQueriesContext(db_connection) as few:
        client.get(url)
    for number in range(12):
        helper = make_helper(f"Late {number}", department="Sales", site="Leeds")
        if number % 2:
            services.help_offer_create(actor=helper.person.user, ask=ask)
    with CaptureQueriesContext(db_connection) as many:
        response = client.get(url)
    assert len(response.context["page"].suggestions) == 10
    assert len(response.context["page"].offers) == 8
    assert len(many) == len(few), [q["sql"] for q in many.captured_queries]


def test_help_home_query_count_does_not_grow(
    client, personas, help_program, python, sql, make_helper
):
    client.force_login(personas.other_participant)
    with CaptureQueriesContext(db_connection) as few:
        client.get(reverse("help_home"))
    for skill in (python, sql):
        ask = services.help_ask_create(
            actor=make_helper(f"Asker {skill.name}").person.user,
            program=help_program,
            skill=skill,
            description="Please help me with this.",
        )
        services.help_offer_create(actor=personas.other_participant, ask=ask)
    services.help_ask_create(
        actor=personas.other_participant,
        program=help_program,
        skill=python,
        description="My own question here.",
        now=timezone.now() - datetime.timedelta(minutes=1),
    )
    with CaptureQueriesContext(db_connection) as many:
        body = client.get(reverse("help_home")).content.decode()
    assert "My own question" not in body and body.count("Asker ") == 2
    assert len(many) == len(few)
