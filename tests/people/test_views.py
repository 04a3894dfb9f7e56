"""Directory and import pages: who may open them, what they show, and their query budgets."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import resolve, reverse

from peermentor.people.models import ImportBatch, JobChange, Person
from peermentor.people.services import people_import_preview
from tests.conftest import ROLES
from tests.factories import DepartmentFactory, PersonFactory, SiteFactory, UserFactory
from tests.people.files import csv_bytes, person_row

pytestmark = pytest.mark.django_db


def page_urls(personas):
    person = PersonFactory(full_name="Ana Lima")
    batch = people_import_preview(
        actor=personas.admin, file_name="hr.csv", content=csv_bytes([person_row("E1")])
    )
    return [
        reverse("person_list"),
        reverse("person_detail", args=[person.pk]),
        reverse("people_import"),
        reverse("people_import_template"),
        reverse("people_import_preview", args=[batch.pk]),
        reverse("people_import_errors", args=[batch.pk]),
    ]


EXPECTED = {
    "anonymous": 302,
    "outsider": 403,
    "participant": 403,
    "other_manager": 403,
    "manager": 403,
    "admin": 200,
}


def test_every_people_url_is_in_the_permission_matrix(personas):
    """A new page fails here until it is added to `page_urls` and so to the matrix below."""
    from peermentor.people import urls

    listed = {resolve(url).url_name for url in page_urls(personas)}
    assert listed == {pattern.name for pattern in urls.urlpatterns}


@pytest.mark.parametrize("role", ROLES)
def test_every_directory_page_is_for_org_admins_only(client, personas, role):
    """Program managers run programs, not HR data: the whole directory is admins' only."""
    urls = page_urls(personas)
    user = personas.user(role)
    if user:
        client.force_login(user)
    for url in urls:
        response = client.get(url)
        assert response.status_code == EXPECTED[role], (role, url)
        if role == "anonymous":
            assert response["Location"].startswith(reverse("login"))


@pytest.fixture
def admin_client(client):
    admin = UserFactory(email="hr@example.com", is_org_admin=True)
    client.force_login(admin)
    client.admin = admin
    return client


# --- the list -------------------------------------------------------------------------------
def make_people(count):
    departments = [DepartmentFactory(name=f"Dept {n}") for n in range(3)]
    sites = [SiteFactory(name=f"Site {n}") for n in range(3)]
    boss = PersonFactory(department=departments[0], site=sites[0], full_name="Aaron Boss")
    for number in range(count - 1):
        PersonFactory(
            department=departments[number % 3], site=sites[number % 3], manager=boss, level="L2"
        )


def count_list_queries(client, **params):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("person_list"), params)
    assert response.status_code == 200
    return len(queries)


def test_list_queries_do_not_grow_with_people(admin_client, django_assert_max_num_queries):
    make_people(5)
    few = count_list_queries(admin_client)
    make_people(55)
    assert Person.objects.count() == 60
    many = count_list_queries(admin_client)
    assert many == few
    with django_assert_max_num_queries(10):
        admin_client.get(reverse("person_list"), {"q": "a", "level": "L2", "status": "all"})


def test_list_is_paginated_by_fifty(admin_client):
    make_people(60)
    first = admin_client.get(reverse("person_list"))
    second = admin_client.get(reverse("person_list"), {"page": 2})
    assert len(first.context["page"].object_list) == 50
    assert len(second.context["page"].object_list) == 10
    assert "Page 1 of 2" in first.content.decode()


def test_search_matches_name_email_and_external_id(admin_client):
    ana = PersonFactory(full_name="Ana Lima", email="ana.lima@example.com", external_id="HR-7")
    PersonFactory(full_name="Bo Chen", email="bo@example.com", external_id="HR-8")

    def found(query):
        response = admin_client.get(reverse("person_list"), {"q": query})
        return [person.pk for person in response.context["page"].object_list]

    assert found("lima ana") == [ana.pk]
    assert found("ANA.LIMA@") == [ana.pk]
    assert found("hr-7") == [ana.pk]
    assert found("nobody") == []


def test_filters_by_department_site_level_and_status(admin_client):
    sales, oslo = DepartmentFactory(name="Sales"), SiteFactory(name="Oslo")
    match = PersonFactory(department=sales, site=oslo, level="L4", full_name="Match")
    PersonFactory(department=sales, site=oslo, level="L3")
    PersonFactory(level="L4")
    leaver = PersonFactory(department=sales, site=oslo, level="L4", is_active=False)
    params = {"department": sales.pk, "site": oslo.pk, "level": "L4"}

    active = admin_client.get(reverse("person_list"), params)
    inactive = admin_client.get(reverse("person_list"), {**params, "status": "inactive"})
    everyone = admin_client.get(reverse("person_list"), {**params, "status": "all"})

    assert list(active.context["page"].object_list) == [match]
    assert list(inactive.context["page"].object_list) == [leaver]
    assert set(everyone.context["page"].object_list) == {match, leaver}


def test_bad_filter_values_show_an_error_not_a_crash(admin_client):
    PersonFactory()
    response = admin_client.get(
        reverse("person_list"), {"department": "abc", "site": "999999", "level": "X", "page": "z"}
    )
    assert response.status_code == 200
    assert set(response.context["form"].errors) == {"department", "site", "level"}
    assert len(response.context["page"].object_list) == 1


# --- the person page --------------------------------------------------------------------------
def test_person_page_shows_directory_fields_manager_chain_reports_and_account(admin_client):
    top = PersonFactory(full_name="Top Boss")
    middle = PersonFactory(full_name="Middle Manager", manager=top)
    person = PersonFactory(
        full_name="Ana Lima",
        manager=middle,
        job_title="Analyst",
        languages=["English", "Portuguese"],
        user=UserFactory(email="ana.account@example.com"),
    )
    PersonFactory(full_name="Report One", manager=person)
    PersonFactory(full_name="Report Two", manager=person, is_active=False)

    response = admin_client.get(reverse("person_detail", args=[person.pk]))
    body = response.content.decode()

    assert response.status_code == 200
    assert [m.full_name for m in response.context["detail"].reporting_chain] == [
        "Middle Manager",
        "Top Boss",
    ]
    assert "Direct reports (2)" in body
    assert "Report One" in body and "Report Two" in body
    assert "ana.account@example.com" in body
    assert "English, Portuguese" in body and "Analyst" in body


def test_person_page_shows_the_job_history_latest_first(admin_client):
    person = PersonFactory(full_name="Ana Lima")
    JobChange.objects.create(
        person=person,
        changed_on=datetime.date(2024, 2, 1),
        job_title_before="Analyst",
        job_title_after="Senior Analyst",
        source="import",
    )
    JobChange.objects.create(
        person=person,
        changed_on=datetime.date(2025, 9, 15),
        department_before="Finance",
        department_after="Product",
        level_before="L3",
        level_after="L4",
        site_before="London",
        site_after="London",
    )
    body = admin_client.get(reverse("person_detail", args=[person.pk])).content.decode()

    assert "Job history" in body
    assert body.index("2025-09-15") < body.index("2024-02-01")
    assert "Department: Finance → Product" in body and "Level: L3 → L4" in body
    assert "Job title: Analyst → Senior Analyst" in body
    assert "Site:" not in body  # unchanged fields are not listed
    assert "HR import" in body and "Entered by hand" in body


def test_person_page_without_job_history_says_so(admin_client):
    person = PersonFactory()
    body = admin_client.get(reverse("person_detail", args=[person.pk])).content.decode()
    assert "No job change recorded." in body


def test_person_page_queries_are_bounded(admin_client, django_assert_max_num_queries):
    person = PersonFactory()
    for _ in range(30):
        PersonFactory(manager=person)
    for day in range(1, 20):
        JobChange.objects.create(
            person=person,
            changed_on=datetime.date(2025, 1, day),
            level_before="L1",
            level_after="L2",
        )
    with django_assert_max_num_queries(10):
        admin_client.get(reverse("person_detail", args=[person.pk]))


def test_unknown_person_is_404(admin_client):
    assert admin_client.get(reverse("person_detail", args=[987654])).status_code == 404


# --- import pages ----------------------------------------------------------------------------
def upload(client, content, name="hr.csv"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return client.post(
        reverse("people_import"), {"file": SimpleUploadedFile(name, content, "text/csv")}
    )


def test_upload_preview_then_apply(admin_client):
    rows = [person_row("E1"), person_row("E2", manager_id="E1")]
    response = upload(admin_client, csv_bytes(rows))
    batch = ImportBatch.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("people_import_preview", args=[batch.pk])
    assert Person.objects.count() == 0

    preview_page = admin_client.get(response["Location"])
    body = preview_page.content.decode()
    assert "<strong>2</strong> new people" in body
    assert "Apply the import" in body

    applied = admin_client.post(response["Location"], {"deactivate_missing": "on"}, follow=True)
    assert "Imported: 2 created, 0 updated, 0 unchanged, 0 deactivated." in applied.content.decode()
    assert Person.objects.count() == 2
    assert ImportBatch.objects.get().applied_by == admin_client.admin


def test_preview_and_summary_count_job_changes(admin_client):
    upload(admin_client, csv_bytes([person_row("E1"), person_row("E2")]))
    admin_client.post(reverse("people_import_preview", args=[ImportBatch.objects.get().pk]))
    rows = [person_row("E1", level="L4"), person_row("E2", job_title="Lead")]
    location = upload(admin_client, csv_bytes(rows))["Location"]
    body = admin_client.get(location).content.decode()
    assert "<strong>2</strong> job changes (new department, job title or level)" in body

    applied = admin_client.post(location, {}, follow=True).content.decode()
    assert "2 job changes recorded" in applied
    assert JobChange.objects.count() == 2
    # A batch applied before job history was kept has no such count; the page does not invent one.
    old = ImportBatch.objects.order_by("pk").first()
    old.summary.pop("job_changes")
    old.save()
    page = admin_client.get(reverse("people_import_preview", args=[old.pk])).content.decode()
    assert "job change" not in page


def test_upload_of_an_unusable_file_shows_the_problem_beside_the_field(admin_client):
    response = upload(admin_client, b"name,mail\nAna,ana@example.com\n")
    assert response.status_code == 400
    assert "external_id" in response.context["form"].errors["file"][0]
    assert ImportBatch.objects.count() == 0


def test_upload_without_a_file_is_a_field_error(admin_client):
    response = admin_client.post(reverse("people_import"), {})
    assert response.status_code == 400
    assert "file" in response.context["form"].errors


def test_preview_lists_bad_rows_and_offers_no_apply(admin_client):
    rows = [person_row("E1"), person_row("E2", email="nope"), person_row("E3", manager_id="ZZ")]
    response = upload(admin_client, csv_bytes(rows))
    page = admin_client.get(response["Location"])
    body = page.content.decode()

    assert "2 problems" in body
    assert "<td>3</td><td>email</td>" in body
    assert "<td>4</td><td>manager_id</td>" in body
    assert "Apply the import" not in body

    refused = admin_client.post(response["Location"], {}, follow=True)
    assert "bad rows" in refused.content.decode()
    assert Person.objects.count() == 0


def test_problems_download_as_csv_with_formulas_defused(admin_client):
    rows = [person_row("=HYPERLINK(1)", email="nope")]
    response = upload(admin_client, csv_bytes(rows))
    batch = ImportBatch.objects.get()
    download = admin_client.get(reverse("people_import_errors", args=[batch.pk]))
    text = download.content.decode()
    assert download["Content-Type"].startswith("text/csv")
    assert text.splitlines()[0] == "line,field,external_id,message"
    assert "2,email,'=HYPERLINK(1)," in text
    assert response.status_code == 302


def test_apply_after_the_directory_changed_shows_the_new_problems(admin_client):
    upload(admin_client, csv_bytes([person_row("E1", email="late@example.com")]))
    batch = ImportBatch.objects.get()
    PersonFactory(external_id="OTHER", email="late@example.com")

    response = admin_client.post(reverse("people_import_preview", args=[batch.pk]), {})

    assert response.status_code == 409
    assert "late@example.com belongs to" in response.content.decode()
    assert Person.objects.count() == 1


def test_template_csv_has_every_column(admin_client):
    response = admin_client.get(reverse("people_import_template"))
    assert response["Content-Disposition"].startswith("attachment")
    assert response.content.decode().strip() == (
        "external_id,full_name,email,department,job_title,level,site,time_zone,"
        "manager_id,hire_date,leaving_date,languages,active,job_change_date"
    )


def test_unknown_batch_is_404(admin_client):
    assert admin_client.get(reverse("people_import_preview", args=[424242])).status_code == 404


def test_import_page_lists_recent_imports(admin_client, django_assert_max_num_queries):
    for number in range(12):
        upload(admin_client, csv_bytes([person_row(f"E{number}")]))
    with django_assert_max_num_queries(6):
        response = admin_client.get(reverse("people_import"))
    assert len(response.context["batches"]) == 10


def test_django_admin_pages_for_the_directory_render(client):
    superuser = UserFactory(
        email="root@example.com", is_staff=True, is_superuser=True, is_org_admin=True
    )
    client.force_login(superuser)
    person = PersonFactory(manager=PersonFactory())
    batch = people_import_preview(
        actor=superuser, file_name="hr.csv", content=csv_bytes([person_row("E1")])
    )
    JobChange.objects.create(
        person=person, changed_on=datetime.date(2025, 1, 1), level_before="L1", level_after="L2"
    )
    for url in [
        reverse("admin:people_jobchange_changelist"),
        reverse("admin:people_jobchange_add"),
        reverse("admin:people_person_changelist"),
        reverse("admin:people_person_change", args=[person.pk]),
        reverse("admin:people_importbatch_changelist"),
        reverse("admin:people_importbatch_change", args=[batch.pk]),
        reverse("admin:people_department_changelist"),
        reverse("admin:people_site_changelist"),
        reverse("admin:people_skill_changelist"),
    ]:
        assert client.get(url).status_code == 200, url


def test_editing_a_persons_job_in_the_django_admin_records_a_job_change(client):
    superuser = UserFactory(
        email="root@example.com", is_staff=True, is_superuser=True, is_org_admin=True
    )
    client.force_login(superuser)
    person = PersonFactory(job_title="Analyst", level="L2", hire_date=datetime.date(2020, 1, 1))
    url = reverse("admin:people_person_change", args=[person.pk])
    form = {
        "external_id": person.external_id,
        "full_name": person.full_name,
        "email": person.email,
        "department": person.department_id,
        "job_title": "Senior Analyst",
        "level": "L2",
        "site": person.site_id,
        "time_zone": person.time_zone,
        "hire_date": "2020-01-01",
        "languages": "[]",
        "is_active": "on",
        "job_changes-TOTAL_FORMS": "0",
        "job_changes-INITIAL_FORMS": "0",
        "job_changes-MIN_NUM_FORMS": "0",
        "job_changes-MAX_NUM_FORMS": "1000",
    }
    response = client.post(url, form)
    assert response.status_code == 302, response.content.decode()[:3000]
    change = JobChange.objects.get(person=person)
    assert (change.source, change.job_title_before, change.job_title_after) == (
        "manual",
        "Analyst",
        "Senior Analyst",
    )
    assert change.recorded_by == superuser
    # Saving again without a new job records nothing more.
    assert client.post(url, form).status_code == 302
    assert JobChange.objects.filter(person=person).count() == 1
