import pytest

from peermentor.people.models import ImportBatch, Person
from tests.api.conftest import assert_error
from tests.factories import DepartmentFactory, PersonFactory, SiteFactory, UserFactory

pytestmark = pytest.mark.django_db

PEOPLE = "/api/v1/people"
IMPORTS = "/api/v1/people/imports"


@pytest.fixture
def admin(api_as):
    return api_as(UserFactory(is_org_admin=True))


def names(response):
    return [item["full_name"] for item in response.json()["items"]]


# --- the directory -------------------------------------------------------------------------
def test_people_are_listed_by_name_with_their_department_site_and_manager(admin):
    boss = PersonFactory(full_name="Zoe Boss")
    PersonFactory(full_name="Ana Lima", manager=boss, department__name="Finance")
    response = admin.get(PEOPLE)
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2 and names(response) == ["Ana Lima", "Zoe Boss"]
    ana = body["items"][0]
    assert ana["department"]["name"] == "Finance"
    assert ana["manager"] == {"id": boss.pk, "full_name": "Zoe Boss"}
    assert ana["has_account"] is False


def test_the_directory_filters_like_its_page(admin):
    finance = DepartmentFactory(name="Finance")
    lyon = SiteFactory(name="Lyon")
    PersonFactory(full_name="Ana Lima", department=finance, site=lyon, level="L3")
    PersonFactory(full_name="Bo Chen", department=finance, level="L2")
    PersonFactory(full_name="Cy Diaz", level="L3", is_active=False)
    assert names(admin.get(PEOPLE, department_id=finance.pk)) == ["Ana Lima", "Bo Chen"]
    assert names(admin.get(PEOPLE, site_id=lyon.pk)) == ["Ana Lima"]
    assert names(admin.get(PEOPLE, level="L3")) == ["Ana Lima"]
    assert names(admin.get(PEOPLE, status="inactive")) == ["Cy Diaz"]
    assert names(admin.get(PEOPLE, status="all", level="L3")) == ["Ana Lima", "Cy Diaz"]
    assert names(admin.get(PEOPLE, search="chen")) == ["Bo Chen"]


def test_the_directory_pages_through_everyone(admin):
    for index in range(5):
        PersonFactory(full_name=f"Person {index}")
    first = admin.get(PEOPLE, page_size=2).json()
    assert first["count"] == 5 and first["page_count"] == 3
    assert [item["full_name"] for item in first["items"]] == ["Person 0", "Person 1"]
    last = admin.get(PEOPLE, page_size=2, page=3).json()
    assert [item["full_name"] for item in last["items"]] == ["Person 4"]
    assert_error(admin.get(PEOPLE, page_size=2, page=4), 404, "page")


def test_a_person_comes_with_their_reporting_line_and_reports(admin):
    top = PersonFactory(full_name="Top")
    middle = PersonFactory(full_name="Middle", manager=top)
    PersonFactory(full_name="Report", manager=middle)
    body = admin.get(f"{PEOPLE}/{middle.pk}").json()
    assert body["full_name"] == "Middle"
    assert body["reporting_chain"] == [{"id": top.pk, "full_name": "Top"}]
    assert body["direct_report_count"] == 1
    assert [person["full_name"] for person in body["direct_reports"]] == ["Report"]


def test_program_managers_and_employees_cannot_read_the_directory(api_as):
    person = PersonFactory()
    api = api_as(UserFactory())
    assert_error(api.get(PEOPLE), 403)
    assert_error(api.get(f"{PEOPLE}/{person.pk}"), 403)


def test_the_directory_list_runs_the_same_queries_for_more_people(admin):
    boss = PersonFactory()
    for _ in range(3):
        PersonFactory(manager=boss)
    few = admin.queries(PEOPLE)
    for _ in range(30):
        PersonFactory(manager=boss, user=UserFactory())
    assert admin.queries(PEOPLE) == few <= 6


# --- the HR import -------------------------------------------------------------------------
GOOD = (
    b"external_id,full_name,email,department,manager_id\n"
    b"H1,Ana Lima,ana@example.com,Finance,\n"
    b"H2,Bo Chen,bo@example.com,Finance,H1\n"
)
BAD = b"external_id,full_name,email\nH1,Ana Lima,not-an-address\nH2,,bo@example.com\n"


def test_an_upload_is_previewed_without_touching_the_directory(admin):
    response = admin.upload(IMPORTS, "hr.csv", GOOD)
    assert response.status_code == 201
    batch = response.json()
    assert batch["status"] == "ready" and batch["row_count"] == 2
    assert batch["error_count"] == 0 and batch["errors"] == []
    assert batch["preview"]["creates"] == 2 and batch["preview"]["new_departments"] == ["Finance"]
    assert not Person.objects.exists()
    assert admin.get(f"{IMPORTS}/{batch['id']}").json()["status"] == "ready"


def test_applying_a_preview_writes_every_row_once(admin):
    batch_id = admin.upload(IMPORTS, "hr.csv", GOOD).json()["id"]
    response = admin.post(f"{IMPORTS}/{batch_id}/apply", {"deactivate_missing": False})
    assert response.status_code == 200
    assert response.json()["created"] == 2 and response.json()["departments_created"] == 1
    bo = Person.objects.get(external_id="H2")
    assert bo.manager.external_id == "H1"
    applied = admin.get(f"{IMPORTS}/{batch_id}").json()
    assert applied["status"] == "applied" and applied["summary"]["created"] == 2
    again = assert_error(admin.post(f"{IMPORTS}/{batch_id}/apply", {}), 400)
    assert "already been applied" in again["message"]
    assert Person.objects.count() == 2


def test_leavers_are_deactivated_only_when_asked(admin):
    leaver = PersonFactory(external_id="OLD", email="old@example.com")
    batch_id = admin.upload(IMPORTS, "hr.csv", GOOD).json()["id"]
    summary = admin.post(f"{IMPORTS}/{batch_id}/apply", {"deactivate_missing": True}).json()
    assert summary["deactivated"] == 1
    leaver.refresh_from_db()
    assert not leaver.is_active


def test_bad_rows_are_each_explained_and_cannot_be_applied(admin):
    batch = admin.upload(IMPORTS, "hr.csv", BAD).json()
    assert batch["status"] == "invalid"
    problems = {(error["line"], error["field"]) for error in batch["errors"]}
    assert problems == {(2, "email"), (3, "full_name")}
    page = admin.get(f"{IMPORTS}/{batch['id']}/errors", page_size=1).json()
    assert page["count"] == 2 and len(page["items"]) == 1 and page["items"][0]["line"] == 2
    refused = assert_error(admin.post(f"{IMPORTS}/{batch['id']}/apply", {}), 400)
    assert "bad rows" in refused["message"]
    assert not Person.objects.exists()


def test_a_directory_that_changed_since_the_preview_is_refused_with_every_row(admin):
    batch_id = admin.upload(IMPORTS, "hr.csv", GOOD).json()["id"]
    PersonFactory(external_id="OTHER", email="ana@example.com")
    response = admin.post(f"{IMPORTS}/{batch_id}/apply", {})
    body = assert_error(response, 409, None)
    assert "nothing was imported" in body["message"]
    assert body["errors"] and body["errors"][0]["field"] == "email"
    assert not Person.objects.filter(external_id__in=["H1", "H2"]).exists()


@pytest.mark.parametrize(
    ("name", "content", "words"),
    [
        ("hr.csv", b"", "empty"),
        ("hr.pdf", b"%PDF-1.4", ".csv"),
        ("hr.xlsx", b"not a spreadsheet", "xlsx"),
        ("hr.csv", b"name,mail\nAna,ana@example.com\n", "external_id"),
    ],
)
def test_an_unusable_file_is_refused_beside_the_file_field(admin, name, content, words):
    body = assert_error(admin.upload(IMPORTS, name, content), 400, "file")
    assert words.lower() in body["message"].lower()
    assert not ImportBatch.objects.filter(status="ready").exists()


def test_an_upload_without_a_file_names_the_file_field(admin):
    response = admin.client.post(IMPORTS, {})
    assert_error(response, 400, "file")


def test_a_file_above_the_upload_limit_is_refused(admin, settings):
    from peermentor.people import forms

    limit = forms.MAX_UPLOAD_BYTES
    body = assert_error(admin.upload(IMPORTS, "hr.csv", GOOD + b"#" * limit), 400, "file")
    assert "larger than" in body["message"]


def test_only_organisation_admins_import(api_as):
    api = api_as(UserFactory())
    assert_error(api.upload(IMPORTS, "hr.csv", GOOD), 403)
    assert not ImportBatch.objects.exists()


def test_the_problem_list_runs_the_same_queries_for_more_problems(admin):
    few = admin.upload(IMPORTS, "hr.csv", BAD).json()["id"]
    rows = b"".join(b"H%d,,x\n" % index for index in range(60))
    many = admin.upload(IMPORTS, "hr.csv", b"external_id,full_name,email\n" + rows).json()["id"]
    assert admin.queries(f"{IMPORTS}/{few}/errors") == admin.queries(f"{IMPORTS}/{many}/errors")
