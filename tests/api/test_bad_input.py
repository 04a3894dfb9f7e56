"""Nothing a client can send gives a 500: every endpoint answers bad input with a 4xx and the
one error body {"message", "field"}."""

import json
import re

import pytest

from tests.api.world import ENDPOINTS, World, call, token_for

pytestmark = pytest.mark.django_db

WITH_IDS = [endpoint for endpoint in ENDPOINTS if "{" in endpoint.path]
JSON_BODIES = [
    endpoint
    for endpoint in ENDPOINTS
    if endpoint.method == "POST" and endpoint.body is not None and not endpoint.is_multipart
]
SIZED_LISTS = ["/api/v1/people", "/api/v1/programs", "/api/v1/enrollment/participations/mine"]
# Its selector pages by itself, 50 a page: it takes no page size.
LISTS = [*SIZED_LISTS, "/api/v1/connections/mine"]


def _name(endpoint):
    return " ".join(endpoint.key)


def _assert_error(response, status, field="any"):
    assert response.status_code == status, response.content[:500]
    body = response.json()
    assert set(body) >= {"message", "field"} and body["message"], body
    if field != "any":
        assert body["field"] == field, body
    return body


@pytest.fixture
def admin_world(personas):
    return World(personas), token_for(personas.admin)


def _post(client, url, data, token):
    return client.post(
        url, data, content_type="application/json", headers={"Authorization": f"Bearer {token}"}
    )


@pytest.mark.parametrize("endpoint", WITH_IDS, ids=_name)
def test_unknown_ids_answer_404(client, admin_world, endpoint):
    world, token = admin_world
    params = dict.fromkeys(re.findall(r"{(\w+)}", endpoint.path), 999999)
    url = endpoint.path.format(**params)
    body = endpoint.body(world) if endpoint.body else None
    _assert_error(call(client, endpoint, url, body, token), 404)


@pytest.mark.parametrize("endpoint", WITH_IDS, ids=_name)
def test_ids_that_are_not_numbers_answer_400_naming_the_parameter(client, admin_world, endpoint):
    world, token = admin_world
    names = re.findall(r"{(\w+)}", endpoint.path)
    url = endpoint.path.format(**dict.fromkeys(names, "abc"))
    body = endpoint.body(world) if endpoint.body else None
    _assert_error(call(client, endpoint, url, body, token), 400, names[0])


@pytest.mark.parametrize("endpoint", JSON_BODIES, ids=_name)
def test_malformed_json_answers_400(client, admin_world, endpoint):
    world, token = admin_world
    body = _assert_error(_post(client, endpoint.url(world), "{'not': json", token), 400, None)
    assert body["message"] == "The request body must be a JSON object."


@pytest.mark.parametrize("endpoint", JSON_BODIES, ids=_name)
@pytest.mark.parametrize("payload", ["[]", '"text"', "null", "42"])
def test_a_body_that_is_not_an_object_answers_400(client, admin_world, endpoint, payload):
    world, token = admin_world
    body = _assert_error(_post(client, endpoint.url(world), payload, token), 400, None)
    assert body["message"] == "The request body must be a JSON object."


@pytest.mark.parametrize("endpoint", JSON_BODIES, ids=_name)
def test_fields_of_the_wrong_type_answer_400_naming_the_field(client, admin_world, endpoint):
    world, token = admin_world
    valid = endpoint.body(world)
    name = next(iter(valid))
    wrong = {**valid, name: {"nested": ["object"]}}
    _assert_error(_post(client, endpoint.url(world), json.dumps(wrong), token), 400, name)


@pytest.mark.parametrize("query", ["page=abc", "page=0", "page=-1", "page=1.5"])
@pytest.mark.parametrize("url", LISTS)
def test_bad_page_numbers_answer_400(client, admin_world, url, query):
    _world, token = admin_world
    response = client.get(f"{url}?{query}", headers={"Authorization": f"Bearer {token}"})
    _assert_error(response, 400, "page")


@pytest.mark.parametrize("query", ["page_size=0", "page_size=201", "page_size=many"])
@pytest.mark.parametrize("url", SIZED_LISTS)
def test_bad_page_sizes_answer_400(client, admin_world, url, query):
    _world, token = admin_world
    response = client.get(f"{url}?{query}", headers={"Authorization": f"Bearer {token}"})
    _assert_error(response, 400, "page_size")


@pytest.mark.parametrize("url", LISTS)
def test_a_page_past_the_last_answers_404(client, admin_world, url):
    _world, token = admin_world
    response = client.get(f"{url}?page=50", headers={"Authorization": f"Bearer {token}"})
    body = _assert_error(response, 404, "page")
    assert "last one is 1" in body["message"]


def test_a_missing_body_is_refused_when_fields_are_required(client, admin_world):
    world, token = admin_world
    response = client.post(
        f"/api/v1/programs/{world.program.pk}/transition",
        headers={"Authorization": f"Bearer {token}"},
    )
    body = _assert_error(response, 400, None)
    assert body["message"] == "The request body must be a JSON object."


def test_an_unauthenticated_request_gets_the_error_body(client):
    body = _assert_error(client.get("/api/v1/programs"), 401, None)
    assert "Bearer" in body["message"]


HUGE = 10**30


@pytest.mark.parametrize("endpoint", WITH_IDS, ids=_name)
@pytest.mark.parametrize("number", [HUGE, -1, 0])
def test_ids_outside_the_databases_range_answer_404(client, admin_world, endpoint, number):
    world, token = admin_world
    url = endpoint.path.format(**dict.fromkeys(re.findall(r"{(\w+)}", endpoint.path), number))
    body = endpoint.body(world) if endpoint.body else None
    _assert_error(call(client, endpoint, url, body, token), 404)


@pytest.mark.parametrize(
    ("url", "field"),
    [
        (f"/api/v1/people?department_id={HUGE}", "department_id"),
        ("/api/v1/people?site_id=0", "site_id"),
        (f"/api/v1/enrollment/programs/{{program}}/participants?track_id={HUGE}", "track_id"),
        (f"/api/v1/connections/programs/{{program}}?track_id={HUGE}", "track_id"),
        (f"/api/v1/matches/runs/{{run}}/proposals?department_id={HUGE}", "department_id"),
    ],
)
def test_filter_ids_outside_the_databases_range_answer_400(client, admin_world, url, field):
    world, token = admin_world
    url = url.format(program=world.program.pk, run=world.run.pk)
    response = client.get(url, headers={"Authorization": f"Bearer {token}"})
    _assert_error(response, 400, field)


@pytest.mark.parametrize(
    ("url", "payload", "field"),
    [
        ("/api/v1/enrollment/programs/{program}/enroll", {"track": HUGE}, "track"),
        ("/api/v1/matches/programs/{program}/runs", {"track": HUGE}, "track"),
        (
            "/api/v1/programs",
            {"name": "X", "goals": ["networking"], "eligibility": {"site_ids": [HUGE]}},
            "eligibility.site_ids",
        ),
    ],
)
def test_body_ids_outside_the_databases_range_answer_400(client, admin_world, url, payload, field):
    world, token = admin_world
    response = _post(client, url.format(program=world.program.pk), json.dumps(payload), token)
    _assert_error(response, 400, field)


def _string_fields(spec, schema):
    """(name, is_list) of the free-text properties of a body schema, top level."""
    if "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    names = []
    for name, prop in schema.get("properties", {}).items():
        options = prop.get("anyOf", [prop])
        kinds = {option.get("type") for option in options} | {
            option.get("items", {}).get("type") for option in options
        }
        if "string" in kinds and not any(
            "enum" in option or "$ref" in option for option in options
        ):
            names.append((name, "array" in kinds))
    return names


def test_no_string_a_client_sends_may_hold_a_null_character(client, admin_world):
    """PostgreSQL refuses NUL in text: each string input is checked before any query."""
    world, token = admin_world
    spec = client.get("/api/v1/openapi.json").json()
    by_key = {endpoint.key: endpoint for endpoint in ENDPOINTS}
    checked, failures = 0, []
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            endpoint = by_key[(method.upper(), path)]
            url = endpoint.url(world)
            for parameter in operation.get("parameters", []):
                schema = parameter["schema"]
                if parameter["in"] != "query" or schema.get("type") != "string" or "enum" in schema:
                    continue
                response = client.get(
                    url, {parameter["name"]: "a\x00b"}, headers={"Authorization": f"Bearer {token}"}
                )
                checked += 1
                if response.status_code != 400 or response.json()["field"] != parameter["name"]:
                    failures.append((method, path, parameter["name"], response.status_code))
            body = operation.get("requestBody", {}).get("content", {}).get("application/json")
            for name, is_list in _string_fields(spec, body["schema"]) if body else []:
                valid = endpoint.body(world) or {}
                value = ["a\x00b"] if is_list else "a\x00b"
                response = _post(client, url, json.dumps({**valid, name: value}), token)
                checked += 1
                if response.status_code != 400 or response.json()["field"] != name:
                    failures.append((method, path, name, response.status_code))
    assert checked >= 10
    assert not failures


def test_eligibility_levels_may_not_hold_a_null_character(client, admin_world):
    _world, token = admin_world
    payload = {"name": "X", "goals": ["networking"], "eligibility": {"levels": ["L\x002"]}}
    response = _post(client, "/api/v1/programs", json.dumps(payload), token)
    body = _assert_error(response, 400, "eligibility.levels")
    assert body["message"] == "Null characters are not allowed."
