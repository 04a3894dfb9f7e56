"""The published OpenAPI schema is valid, lists every endpoint, and the API keeps to it under
generated input (a bounded schemathesis run)."""

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis import checks

from peermentor.wsgi import application
from tests.api.world import World, operations, token_for

pytestmark = pytest.mark.django_db

OPENAPI = "/api/v1/openapi.json"
METHODS = {"get", "post", "put", "patch", "delete"}


@pytest.fixture
def spec(client):
    response = client.get(OPENAPI)
    assert response.status_code == 200
    return response.json()


def test_the_schema_is_a_valid_openapi_document(spec):
    assert spec["openapi"].startswith("3.")
    schemathesis.openapi.from_dict(spec).validate()


def test_the_schema_lists_every_endpoint(spec):
    listed = {
        (method.upper(), path)
        for path, item in spec["paths"].items()
        for method in item
        if method in METHODS
    }
    assert listed == operations()


def test_every_endpoint_is_described_with_its_errors_and_auth(spec):
    assert {"TokenAuth", "SessionAuth"} <= set(spec["components"]["securitySchemes"])
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if path == "/api/v1/me":
                continue  # the accounts endpoint predates the error list; it can only 401
            label = f"{method.upper()} {path}"
            assert operation.get("summary"), label
            assert operation.get("security"), label
            responses = operation["responses"]
            assert {"400", "401", "403", "404"} <= set(responses), label
            error = responses["403"]["content"]["application/json"]["schema"]
            assert error == {"$ref": "#/components/schemas/ErrorOut"}, label


# --- generated input -------------------------------------------------------------------------
schema = schemathesis.openapi.from_wsgi(OPENAPI, application)
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
    # negative_data_rejection is left out: ninja ignores unknown body keys by design, so a
    # generated body with extra keys is accepted, which that check counts as a failure.
]


POSITIVE_CHECKS = [*CHECKS, checks.positive_data_acceptance]
BEYOND_A_SCHEMA = {"POST /api/v1/people/imports", "POST /api/v1/programs"}


@pytest.fixture
def keep_test_connection():
    """Calling the WSGI application directly (not through Django's test client) would close the
    database connection after each request, and with it the test's transaction (PostgreSQL).
    The test client avoids that the same way: by not closing old connections meanwhile."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def admin_headers(personas, keep_test_connection):
    World(personas)
    return {"Authorization": f"Bearer {token_for(personas.admin)}"}


@schema.parametrize()
@settings(
    max_examples=10,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_generated_requests_never_fail_the_schema_or_the_server(case, admin_headers):
    # `positive_data_acceptance`: input the schema allows is not refused as bad input (400).
    # The schema says what the server checks (no NUL characters, required bodies, non-blank
    # names and reasons, at least one goal); a state conflict (a finished run) is a 409. Two
    # rules no OpenAPI schema can state are left out: that an upload is a readable HR export
    # (its rows are the data being checked) and that a program ends after it starts.
    checks = CHECKS if case.operation.label in BEYOND_A_SCHEMA else POSITIVE_CHECKS
    case.call_and_validate(headers=admin_headers, checks=checks)
