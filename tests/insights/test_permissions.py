"""Every insights URL for every persona (STYLE rule 5: outsiders 404, read-only members 403).
A new insights URL fails `test_every_url_is_listed` until it is added here."""

import pytest
from django.urls import get_resolver, reverse

from tests.conftest import ROLES

pytestmark = pytest.mark.django_db

ALL_ROLES = [*ROLES[:3], "other_participant", *ROLES[3:]]
#                     anonymous outsider participant other_participant other_manager manager admin
PROGRAM_PAGE = [302, 403, 403, 403, 403, 200, 200]
EXPECTED = {
    "insights_organisation": [302, 403, 403, 403, 200, 200, 200],
    "insights_program": PROGRAM_PAGE,
    "insights_outcomes": PROGRAM_PAGE,
    "insights_ties": PROGRAM_PAGE,
    "insights_report": PROGRAM_PAGE,
    "insights_report_pdf": PROGRAM_PAGE,
    "insights_export": PROGRAM_PAGE,
}


def _url(name, program):
    if name == "insights_organisation":
        return reverse(name)
    if name == "insights_export":
        return reverse(name, args=[program.pk, "funnel", "csv"])
    return reverse(name, args=[program.pk])


def _status(client, personas, role, url):
    user = personas.user(role)
    if user is not None:
        client.force_login(user)
    response = client.get(url)
    if response.status_code == 302:
        assert user is None
        assert response["Location"].startswith(reverse("login"))
    return response.status_code


def test_every_url_is_listed():
    names = {
        pattern.name
        for pattern in get_resolver().url_patterns
        if getattr(pattern, "pattern", None) and str(pattern.pattern) == "insights/"
        for pattern in pattern.url_patterns
    }
    assert names == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
@pytest.mark.parametrize("role", ALL_ROLES)
def test_every_url_for_every_role(client, personas, name, role):
    expected = EXPECTED[name][ALL_ROLES.index(role)]
    assert _status(client, personas, role, _url(name, personas.program)) == expected


@pytest.mark.parametrize("name", sorted(set(EXPECTED) - {"insights_organisation"}))
@pytest.mark.parametrize(("role", "expected"), [("outsider", 404), ("participant", 404)])
def test_a_draft_program_does_not_exist_for_outsiders(client, personas, name, role, expected):
    personas.program.status = "draft"
    personas.program.save()
    assert _status(client, personas, role, _url(name, personas.program)) == expected


@pytest.mark.parametrize(
    "path",
    ["export/nothing.csv", "export/funnel.pdf", "export/funnel.exe", "export/FUNNEL.csv"],
)
def test_unknown_exports_are_not_found(client, personas, path):
    client.force_login(personas.manager)
    assert client.get(f"/insights/programs/{personas.program.pk}/{path}").status_code == 404


def test_no_such_program(client, personas):
    client.force_login(personas.admin)
    assert client.get("/insights/programs/999999/").status_code == 404


def test_a_manager_sees_only_their_programs_across_programs(client, personas):
    client.force_login(personas.manager)
    response = client.get(reverse("insights_organisation"))
    names = [row[1][0] for row in response.context["rows"]]
    assert names == [personas.program.name]
    client.force_login(personas.admin)
    response = client.get(reverse("insights_organisation"))
    names = {row[1][0] for row in response.context["rows"]}
    assert {personas.program.name, personas.other_program.name} <= names
