"""Malformed requests and missing credentials: always the JSON error body, never a 500 or HTML,
and the credentials are checked before the body is read."""

import pytest
from django.test import Client

from tests.api.world import ENDPOINTS, World, token_for

pytestmark = pytest.mark.django_db

WRITES = [endpoint for endpoint in ENDPOINTS if endpoint.method != "GET"]


def _name(endpoint):
    return " ".join(endpoint.key)


def _url(endpoint, world):
    try:
        return endpoint.url(world)
    except Exception:  # an endpoint whose ids need a setup step: any id will do here
        import re

        return re.sub(r"{\w+}", "1", endpoint.path)


def _assert_error(response, status):
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    body = response.json()
    assert set(body) >= {"message", "field"} and body["message"], body
    return body


@pytest.fixture
def admin_world(personas):
    return World(personas), token_for(personas.admin)


MALFORMED = [
    "multipart/form-data",  # no boundary
    "multipart/form-data; boundary=xyz",  # a boundary the body does not use
    "application/x-www-form-urlencoded",
    "application/json; charset=bogus-charset",
]


@pytest.mark.parametrize("endpoint", WRITES, ids=_name)
def test_a_malformed_body_gets_a_json_4xx(admin_world, endpoint):
    world, token = admin_world
    client = Client(raise_request_exception=False)
    for content_type in MALFORMED:
        response = client.generic(
            "POST",
            _url(endpoint, world),
            b"--not-a-body\r\n\x00\xff",
            content_type=content_type,
            headers={"Authorization": f"Bearer {token}"},
        )
        if endpoint.body is None:
            # An endpoint that takes no body does not read it: any body is ignored, no 500.
            assert response.status_code < 500, (content_type, response.content[:300])
            assert response["Content-Type"].startswith("application/json")
            continue
        assert 400 <= response.status_code < 500, (content_type, response.content[:300])
        _assert_error(response, response.status_code)


def test_the_import_upload_checks_who_asks_before_reading_the_body(personas):
    World(personas)
    client = Client(raise_request_exception=False)
    response = client.generic(
        "POST",
        "/api/v1/people/imports",
        b"garbage",
        content_type="multipart/form-data",
        headers={"Authorization": f"Bearer {token_for(personas.participant)}"},
    )
    _assert_error(response, 403)


@pytest.mark.parametrize("endpoint", WRITES, ids=_name)
def test_anonymous_writes_get_401_not_a_csrf_403(personas, endpoint):
    world = World(personas)
    client = Client(enforce_csrf_checks=True, raise_request_exception=False)
    response = client.post(_url(endpoint, world), "{}", content_type="application/json")
    body = _assert_error(response, 401)
    assert "CSRF" not in body["message"]


@pytest.mark.parametrize("endpoint", WRITES, ids=_name)
def test_a_bad_token_gets_401(personas, endpoint):
    world = World(personas)
    client = Client(enforce_csrf_checks=True, raise_request_exception=False)
    response = client.post(
        _url(endpoint, world),
        "{}",
        content_type="application/json",
        headers={"Authorization": "Bearer not-a-token"},
    )
    _assert_error(response, 401)
