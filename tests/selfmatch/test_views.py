"""Self-match pages: every URL and persona, the flows with and without htmx, query budgets."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from peermentor.connections.models import Block, Connection, Report
from peermentor.selfmatch import services
from peermentor.selfmatch import urls as request_urls
from peermentor.selfmatch.models import MatchRequest, SelfMatchSettings
from tests.conftest import ROLES
from tests.factories import ProgramManagerFactory
from tests.selfmatch.world import self_match_world, send, user_of

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def text(response):
    return response.content.decode()


# --- permissions: every URL and persona -------------------------------------------------------
def _make_ready(participant):
    participant.is_profile_complete = True
    participant.is_training_complete = True
    participant.ready_at = timezone.now()
    participant.save()


@pytest.fixture
def persona_request(personas):
    """personas.program, running, with self-match on; `participant` asked `other_participant`.
    (While a program enrolls every employee may see it, so outsiders would get 403, not 404.)"""
    program = personas.program
    program.is_self_match_enabled = True
    program.status = "running"
    program.save()
    _make_ready(personas.participant_record)
    _make_ready(personas.other_participant_record)
    return services.request_send(
        actor=personas.participant,
        program=program,
        recipient=personas.other_participant_record,
    )


def _urls(personas, request):
    program = personas.program
    return {
        ("get", "match_recommendations"): reverse("match_recommendations", args=[program.pk]),
        ("post", "match_request_send"): reverse("match_request_send", args=[program.pk]),
        ("get", "program_match_requests"): reverse("program_match_requests", args=[program.pk]),
        ("get", "self_match_settings"): reverse("self_match_settings", args=[program.pk]),
        ("post", "self_match_settings"): reverse("self_match_settings", args=[program.pk]),
        ("get", "match_request_list"): reverse("match_request_list"),
        ("get", "match_request_detail"): reverse("match_request_detail", args=[request.pk]),
        ("post", "match_request_accept"): reverse("match_request_accept", args=[request.pk]),
        ("get", "match_request_decline"): reverse("match_request_decline", args=[request.pk]),
        ("post", "match_request_decline"): reverse("match_request_decline", args=[request.pk]),
        ("post", "match_request_withdraw"): reverse("match_request_withdraw", args=[request.pk]),
        ("get", "match_request_block"): reverse("match_request_block", args=[request.pk]),
        ("post", "match_request_block"): reverse("match_request_block", args=[request.pk]),
        ("get", "match_request_report"): reverse("match_request_report", args=[request.pk]),
        ("post", "match_request_report"): reverse("match_request_report", args=[request.pk]),
    }


# What each persona gets. `participant` sent the request (so may not accept or decline it);
# managers and admins see requests but do not take part; outsiders learn nothing.
PARTICIPANT_ONLY = {
    "outsider": {404},
    "other_manager": {404},
    "participant": {200, 302},
    "manager": {403},
    "admin": {403},
}
MANAGERS_ONLY = {
    "outsider": {404},
    "other_manager": {404},
    "participant": {403},
    "manager": {200, 302},
    "admin": {200, 302},
}
PARTIES_ONLY = {
    "outsider": {404},
    "other_manager": {404},
    "participant": {200, 302},
    "manager": {403},
    "admin": {403},
}
RECIPIENT_ONLY = {
    "outsider": {404},
    "other_manager": {404},
    "participant": {403},
    "manager": {403},
    "admin": {403},
}
EXPECTED = {
    ("get", "match_recommendations"): PARTICIPANT_ONLY,
    ("post", "match_request_send"): PARTICIPANT_ONLY,
    ("get", "program_match_requests"): MANAGERS_ONLY,
    ("get", "self_match_settings"): MANAGERS_ONLY,
    ("post", "self_match_settings"): {**MANAGERS_ONLY, "manager": {400}, "admin": {400}},
    # Everyone signed in has a (possibly empty) list of their own requests.
    ("get", "match_request_list"): {
        role: {200} for role in ["outsider", "other_manager", "participant", "manager", "admin"]
    },
    ("get", "match_request_detail"): {**PARTIES_ONLY, "manager": {200}, "admin": {200}},
    ("post", "match_request_accept"): RECIPIENT_ONLY,
    ("get", "match_request_decline"): RECIPIENT_ONLY,
    ("post", "match_request_decline"): RECIPIENT_ONLY,
    ("post", "match_request_withdraw"): PARTIES_ONLY,
    ("get", "match_request_block"): PARTIES_ONLY,
    ("post", "match_request_block"): PARTIES_ONLY,
    ("get", "match_request_report"): PARTIES_ONLY,
    ("post", "match_request_report"): {**PARTIES_ONLY, "participant": {400}},
}


def test_every_self_match_url_is_in_the_permission_matrix():
    listed = {name for _, name in EXPECTED}
    assert {pattern.name for pattern in request_urls.urlpatterns} == listed


@pytest.mark.parametrize("role", ROLES)
def test_every_self_match_url_by_role(client, personas, persona_request, role):
    user = personas.user(role)
    if user is not None:
        client.force_login(user)
    for key, url in _urls(personas, persona_request).items():
        method, _name = key
        response = getattr(client, method)(url)
        if role == "anonymous":
            assert response.status_code == 302, (key, response.status_code)
            assert "/accounts/login/" in response["Location"]
            continue
        assert response.status_code in EXPECTED[key][role], (role, key, response.status_code)
    # Nothing any persona did changed the request, except the requester's own withdrawal.
    persona_request.refresh_from_db()
    assert persona_request.status == ("withdrawn" if role == "participant" else "pending")
    assert not Connection.objects.exists()


def test_the_recipient_may_accept(client, personas, persona_request):
    client.force_login(personas.other_participant)
    response = client.post(reverse("match_request_accept", args=[persona_request.pk]))
    connection = Connection.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("connection_detail", args=[connection.pk])


def test_self_match_pages_404_when_the_program_does_not_offer_it(client, personas):
    _make_ready(personas.participant_record)
    client.force_login(personas.participant)
    url = reverse("match_recommendations", args=[personas.program.pk])
    assert client.get(url).status_code == 404
    assert client.get(reverse("match_recommendations", args=[999999])).status_code == 404
    assert client.get(reverse("match_request_detail", args=[999999])).status_code == 404


# --- recommendations page --------------------------------------------------------------------
@pytest.fixture
def world(db):
    return self_match_world()


def test_recommendations_show_allowed_peers_with_reasons_and_the_limits(client, world):
    ana = world.participants[0]
    client.force_login(user_of(ana))
    response = client.get(reverse("match_recommendations", args=[world.program.pk]))
    assert response.status_code == 200
    page = response.context["page"]
    names = [row.full_name for row in page.result.rows]
    assert len(names) == 5 and ana.person.full_name not in names
    scores = [row.score for row in page.result.rows]
    assert scores == sorted(scores, reverse=True)
    body = text(response)
    assert "Why:" in body and page.result.rows[0].reasons in body
    assert "at most 3 unanswered requests" in body
    assert "waits 7 days" in body


def test_recommendations_never_show_blocked_or_connected_people(client, world):
    ana, ben, cleo, dan, eve = world.participants[:5]
    Block.objects.create(blocker=ben.person, blocked=ana.person)  # Ben blocked Ana
    Block.objects.create(blocker=ana.person, blocked=cleo.person)  # Ana blocked Cleo
    request = send(world, dan, eve)
    services.request_accept(actor=user_of(eve), request=request)  # Dan and Eve are taken
    client.force_login(user_of(ana))
    page = client.get(reverse("match_recommendations", args=[world.program.pk])).context["page"]
    shown = {row.participant_id for row in page.result.rows}
    assert shown == {world.participants[5].pk}


def test_popular_people_are_held_back_and_counted(client, world):
    popular = world.participants[1]
    for asker in world.participants[2:5]:
        send(world, asker, popular)
    client.force_login(user_of(world.participants[0]))
    response = client.get(reverse("match_recommendations", args=[world.program.pk]))
    page = response.context["page"]
    assert popular.pk not in {row.participant_id for row in page.result.rows}
    assert page.result.held_back == 1
    assert "1 person who would have been in this list is not shown" in text(response)
    # Those who asked the popular person still see them, with their request.
    client.force_login(user_of(world.participants[2]))
    page = client.get(reverse("match_recommendations", args=[world.program.pk])).context["page"]
    card = next(c for c in page.cards if c.recommendation.participant_id == popular.pk)
    assert card.sent_request_id is not None


def test_recommendation_filters_and_search(client, world):
    client.force_login(user_of(world.participants[0]))
    url = reverse("match_recommendations", args=[world.program.pk])
    target = world.participants[4]
    department = target.person.department.name
    page = client.get(url, {"department": department}).context["page"]
    assert {r.department for r in page.result.rows} == {department}
    page = client.get(url, {"search": target.person.full_name[-2:]}).context["page"]
    assert [r.participant_id for r in page.result.rows] == [target.pk]
    page = client.get(url, {"skill": "design"}).context["page"]  # Person 04 offers Design
    assert [r.participant_id for r in page.result.rows] == [target.pk]
    response = client.get(url, {"site": "Nowhere"})
    assert response.context["page"].result.rows == []
    assert "Nobody matches these filters" in text(response)
    # htmx gets only the list.
    response = client.get(url, {"search": "Person"}, HTTP_HX_TARGET="recommendation-list", **HTMX)
    assert "<h1>" not in text(response) and "Recommended peers" in text(response)


def test_recommendations_explain_why_there_are_none(client, world):
    ana, ben = world.participants[:2]
    services.request_accept(actor=user_of(ben), request=send(world, ana, ben))
    client.force_login(user_of(ana))
    response = client.get(reverse("match_recommendations", args=[world.program.pk]))
    assert "You already have a connection" in text(response)


@pytest.mark.parametrize("people", [4, 24])
def test_recommendations_query_count_does_not_grow(client, django_assert_max_num_queries, people):
    world = self_match_world(people=people)
    for index in range(2, people, 3):
        send(world, world.participants[index], world.participants[index - 1])
    client.force_login(user_of(world.participants[0]))
    url = reverse("match_recommendations", args=[world.program.pk])
    # The engine input is built once per page (adapter: a fixed number of queries).
    with django_assert_max_num_queries(17):
        response = client.get(url)
    assert response.status_code == 200


# --- sending ---------------------------------------------------------------------------------
def test_send_without_javascript_redirects_back_with_a_message(client, world):
    ana, ben = world.participants[:2]
    client.force_login(user_of(ana))
    url = reverse("match_request_send", args=[world.program.pk])
    back = reverse("match_recommendations", args=[world.program.pk])
    response = client.post(url, {"recipient": ben.pk, "message": "Hi!", "next": back}, follow=True)
    assert response.redirect_chain[-1][0] == back
    assert f"Request sent to {ben.person.full_name}" in text(response)
    assert MatchRequest.objects.get().message == "Hi!"
    # Asking again is refused with the reason, and nothing is lost.
    response = client.post(url, {"recipient": ben.pk, "next": back}, follow=True)
    assert "You have already asked" in text(response)
    assert MatchRequest.objects.count() == 1


def test_send_with_htmx_swaps_the_card(client, world):
    ana, ben = world.participants[:2]
    client.force_login(user_of(ana))
    url = reverse("match_request_send", args=[world.program.pk])
    response = client.post(url, {"recipient": ben.pk, "message": "Hi"}, **HTMX)
    assert response.status_code == 200
    assert f'id="send-{ben.pk}"' in text(response) and "Request sent" in text(response)
    response = client.post(url, {"recipient": ben.pk, "message": "Again?"}, **HTMX)
    assert response.status_code == 200
    assert "You have already asked" in text(response)
    assert "Again?" in text(response)  # the message typed is kept


@pytest.mark.parametrize("recipient", ["", "abc", "999999", "-1"])
def test_send_with_bad_input_never_fails(client, world, recipient):
    client.force_login(user_of(world.participants[0]))
    url = reverse("match_request_send", args=[world.program.pk])
    response = client.post(url, {"recipient": recipient}, follow=True)
    assert response.status_code == 200
    assert not MatchRequest.objects.exists()
    response = client.post(url, {"recipient": recipient, "message": "x" * 1200}, **HTMX)
    assert response.status_code == 200
    assert "errorlist" in text(response)


# --- my requests -------------------------------------------------------------------------------
def test_my_requests_boxes_and_htmx_actions(client, world):
    ana, ben, cleo = world.participants[:3]
    to_ben = send(world, ana, ben)
    from_cleo = send(world, cleo, ben)
    client.force_login(user_of(ben))
    response = client.get(reverse("match_request_list"))
    result = response.context["result"]
    assert result.counts == {"incoming": 2, "outgoing": 0, "past": 0}
    assert ana.person.full_name in text(response) and cleo.person.full_name in text(response)

    response = client.post(
        reverse("match_request_decline", args=[from_cleo.pk]), {"note": "Sorry"}, **HTMX
    )
    assert response.status_code == 200
    assert f'id="request-{from_cleo.pk}"' in text(response) and "Declined" in text(response)
    response = client.post(reverse("match_request_accept", args=[to_ben.pk]), **HTMX)
    assert "You are now connected with" in text(response)
    assert reverse("connection_detail", args=[Connection.objects.get().pk]) in text(response)
    response = client.get(reverse("match_request_list"), {"box": "past"})
    assert response.context["result"].counts == {"incoming": 0, "outgoing": 0, "past": 2}
    # A box nobody knows falls back to the first one.
    assert client.get(reverse("match_request_list"), {"box": "x"}).status_code == 200


def test_a_refused_action_shows_why_in_the_row(client, world):
    ana, ben = world.participants[:2]
    request = send(world, ana, ben)
    MatchRequest.objects.filter(pk=request.pk).update(expires_at=timezone.now())
    client.force_login(user_of(ben))
    response = client.post(reverse("match_request_accept", args=[request.pk]), **HTMX)
    assert response.status_code == 200
    assert "has expired" in text(response)
    response = client.post(reverse("match_request_accept", args=[request.pk]), follow=True)
    assert "has expired" in text(response)


def test_decline_page_keeps_the_note_on_bad_input(client, world):
    request = send(world, world.participants[0], world.participants[1])
    client.force_login(user_of(world.participants[1]))
    url = reverse("match_request_decline", args=[request.pk])
    response = client.post(url, {"note": "n" * 1001})
    assert response.status_code == 400
    assert "n" * 1001 in text(response)
    response = client.post(url, {"note": "Not now"})
    assert response.status_code == 302
    request.refresh_from_db()
    assert request.response_note == "Not now"


def test_block_and_report_pages(client, world):
    ana, ben = world.participants[:2]
    request = send(world, ana, ben)
    client.force_login(user_of(ben))
    response = client.post(reverse("match_request_report", args=[request.pk]), {"text": ""})
    assert response.status_code == 400
    response = client.post(
        reverse("match_request_report", args=[request.pk]), {"text": "Pushy"}, follow=True
    )
    assert "administrators will look into it" in text(response)
    assert Report.objects.filter(reported=ana.person).exists()
    response = client.post(
        reverse("match_request_block", args=[request.pk]), {"reason": ""}, follow=True
    )
    assert "Blocked." in text(response)
    request.refresh_from_db()
    assert request.status == "declined"


@pytest.mark.parametrize("requests", [2, 12])
def test_my_requests_query_count_does_not_grow(client, django_assert_max_num_queries, requests):
    world = self_match_world(people=requests + 1)
    SelfMatchSettings.objects.create(program=world.program, max_pending_incoming=20)
    popular = world.participants[0]
    for asker in world.participants[1:]:
        send(world, asker, popular)
    client.force_login(user_of(popular))
    with django_assert_max_num_queries(8):
        response = client.get(reverse("match_request_list"))
    assert len(response.context["result"].page.object_list) == requests


# --- managers --------------------------------------------------------------------------------
def test_managers_see_who_must_act_without_the_messages(client, world):
    ana, ben, cleo = world.participants[:3]
    old = send(world, ana, ben, message="A private hello")
    send(world, cleo, ben)
    MatchRequest.objects.filter(pk=old.pk).update(created_at=timezone.now() - dt.timedelta(days=3))
    client.force_login(world.manager)
    response = client.get(reverse("program_match_requests", args=[world.program.pk]))
    body = text(response)
    rows = list(response.context["result"].page.object_list)
    assert rows[0].pk == old.pk  # waiting longest first
    assert "To (must answer)" in body and ben.person.full_name in body
    assert "A private hello" not in body
    response = client.get(reverse("match_request_detail", args=[old.pk]))
    assert "A private hello" not in text(response)
    assert "private to the two people" in text(response)


@pytest.mark.parametrize("requests", [2, 12])
def test_program_requests_query_count_does_not_grow(
    client, django_assert_max_num_queries, requests
):
    world = self_match_world(people=requests + 1)
    SelfMatchSettings.objects.create(program=world.program, max_pending_incoming=20)
    for asker in world.participants[1:]:
        send(world, asker, world.participants[0])
    client.force_login(world.manager)
    with django_assert_max_num_queries(10):
        response = client.get(reverse("program_match_requests", args=[world.program.pk]))
    assert len(response.context["result"].page.object_list) == requests


def test_settings_page_saves_and_shows_field_errors(client, world):
    client.force_login(world.manager)
    url = reverse("self_match_settings", args=[world.program.pk])
    data = {"request_expiry_days": "0", "max_pending_incoming": "3", "max_pending_outgoing": "3"}
    response = client.post(url, data)
    assert response.status_code == 400
    assert "greater than or equal to 1" in text(response)
    data["request_expiry_days"] = "14"
    response = client.post(url, data)
    assert response.status_code == 302
    assert SelfMatchSettings.objects.get(program=world.program).request_expiry_days == 14


def test_another_programs_manager_cannot_see_requests(client, world):
    request = send(world, world.participants[0], world.participants[1])
    other = ProgramManagerFactory().user
    client.force_login(other)
    assert client.get(reverse("match_request_detail", args=[request.pk])).status_code == 404
