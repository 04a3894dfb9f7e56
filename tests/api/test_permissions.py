"""Every API endpoint and every persona: the status each must get (STYLE rules 4 and 5)."""

import pytest

from tests.api.world import ENDPOINTS, ROLES, World, call, operations, token_for

pytestmark = pytest.mark.django_db


def test_every_endpoint_is_in_the_matrix():
    listed = {endpoint.key for endpoint in ENDPOINTS}
    missing = operations() - listed
    assert not missing, f"Add these endpoints to tests/api/world.py ENDPOINTS: {sorted(missing)}"
    stale = listed - operations()
    assert not stale, f"These ENDPOINTS rows name no endpoint: {sorted(stale)}"


def test_every_row_names_every_role():
    for endpoint in ENDPOINTS:
        assert set(endpoint.expected) == set(ROLES), endpoint.key


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda endpoint: " ".join(endpoint.key))
def test_permission_matrix(client, personas, endpoint, role):
    world = World(personas)
    user = personas.user(role)
    token = token_for(user) if user is not None else None
    url = endpoint.url(world)
    body = endpoint.body(world) if endpoint.body else None

    response = call(client, endpoint, url, body, token)

    expected = endpoint.expected[role]
    assert response.status_code == expected, response.content[:500]
    if expected >= 400:
        error = response.json()
        assert set(error) >= {"message", "field"}, error
        assert error["message"]


def test_a_session_writes_only_with_the_csrf_token_and_a_token_needs_none(personas):
    from django.test import Client

    browser = Client(enforce_csrf_checks=True)
    browser.force_login(personas.admin)
    payload = '{"name": "Lunch roulette", "goals": ["networking"]}'
    refused = browser.post("/api/v1/programs", payload, content_type="application/json")
    assert refused.status_code == 403
    assert set(refused.json()) == {"message", "field"}
    assert browser.get("/api/v1/programs").status_code == 200

    script = Client(enforce_csrf_checks=True)
    headers = {"Authorization": f"Bearer {token_for(personas.admin)}"}
    created = script.post(
        "/api/v1/programs", payload, content_type="application/json", headers=headers
    )
    assert created.status_code == 201
