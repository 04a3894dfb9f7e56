"""The HR import services: preview (check and keep), apply (all or nothing), import in one step."""

import datetime as dt
import io

import openpyxl
import pytest
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from peermentor.core.errors import ApplicationError
from peermentor.core.models import AuditEvent
from peermentor.people.models import Department, ImportBatch, JobChange, Person, Site
from peermentor.people.services import (
    ImportRejected,
    people_import_apply,
    people_import_file,
    people_import_preview,
    person_job_change_record,
)
from tests.factories import PersonFactory, SiteFactory, UserFactory
from tests.people.files import HEADERS, csv_bytes, person_row, xlsx_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin():
    return UserFactory(email="hr@example.com", is_org_admin=True)


def preview(admin, rows, *, name="people.csv", headers=HEADERS):
    content = xlsx_bytes(rows, headers) if name.endswith(".xlsx") else csv_bytes(rows, headers)
    return people_import_preview(actor=admin, file_name=name, content=content)


def import_rows(admin, rows, *, deactivate_missing=False, name="people.csv", headers=HEADERS):
    batch = preview(admin, rows, name=name, headers=headers)
    assert batch.status == ImportBatch.Status.READY, batch.errors
    return people_import_apply(actor=admin, batch=batch, deactivate_missing=deactivate_missing)


def directory_state():
    return list(
        Person.objects.order_by("external_id").values_list(
            "external_id",
            "full_name",
            "email",
            "department__name",
            "job_title",
            "level",
            "site__name",
            "time_zone",
            "manager__external_id",
            "hire_date",
            "leaving_date",
            "languages",
            "is_active",
            "updated_at",
        )
    )


def errors_at(batch_or_errors):
    errors = getattr(batch_or_errors, "errors", batch_or_errors)
    return {(error["line"], error["field"]) for error in errors}


# --- success -------------------------------------------------------------------------------
@pytest.mark.parametrize("file_name", ["people.csv", "people.xlsx"])
def test_import_creates_people_with_every_directory_field(admin, file_name):
    rows = [
        person_row("E1", full_name="Ana Lima", email="Ana.Lima@Example.com", manager_id=""),
        person_row(
            "E2",
            manager_id="E1",
            department="Sales",
            site="Paris",
            time_zone="europe/paris",
            leaving_date="2030-01-31",
            languages="French;  English ; french",
            active="no",
        ),
    ]
    summary = import_rows(admin, rows, name=file_name)

    assert summary == {
        "created": 2,
        "updated": 0,
        "unchanged": 0,
        "deactivated": 0,
        "departments_created": 2,
        "sites_created": 2,
        "job_changes": 0,
    }
    ana = Person.objects.select_related("department", "site").get(external_id="E1")
    assert (ana.full_name, ana.email, ana.department.name, ana.site.name) == (
        "Ana Lima",
        "ana.lima@example.com",
        "Engineering",
        "London",
    )
    assert (ana.job_title, ana.level, ana.time_zone) == ("Engineer", "L3", "Europe/London")
    assert ana.hire_date == dt.date(2021, 3, 1) and ana.leaving_date is None
    assert ana.languages == ["English", "French"] and ana.is_active
    second = Person.objects.get(external_id="E2")
    assert second.manager == ana
    assert second.time_zone == "Europe/Paris"
    assert second.leaving_date == dt.date(2030, 1, 31)
    assert second.languages == ["French", "English"]
    assert not second.is_active
    assert set(Department.objects.values_list("name", flat=True)) == {"Engineering", "Sales"}


def test_apply_marks_the_batch_applied_and_records_who_did_it(admin):
    batch = preview(admin, [person_row("E1")])
    people_import_apply(actor=admin, batch=batch, deactivate_missing=False)

    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.APPLIED
    assert batch.applied_by == admin and batch.applied_at is not None
    assert batch.summary["created"] == 1
    assert batch.rows == []
    event = AuditEvent.objects.get(action="people.import_applied")
    assert event.actor == admin and event.target_id == batch.pk
    assert event.data["created"] == 1 and event.to_state == "applied"


def test_xlsx_with_typed_cells_reads_like_text(admin):
    """Spreadsheets hold numbers, dates and booleans, not strings; they mean the same."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["external_id", "full_name", "email", "hire_date", "manager_id", "active"])
    sheet.append([1001, "Ana Lima", "ana@example.com", dt.datetime(2020, 5, 4), None, True])
    sheet.append([1002.0, "Bo Chen", "bo@example.com", dt.date(2022, 1, 2), 1001, False])
    buffer = io.BytesIO()
    workbook.save(buffer)

    batch = people_import_preview(actor=admin, file_name="hr.xlsx", content=buffer.getvalue())
    assert batch.errors == []
    people_import_apply(actor=admin, batch=batch, deactivate_missing=False)

    bo = Person.objects.select_related("manager").get(external_id="1002")
    assert bo.manager.external_id == "1001"
    assert bo.hire_date == dt.date(2022, 1, 2) and not bo.is_active
    assert Person.objects.get(external_id="1001").hire_date == dt.date(2020, 5, 4)


def test_xlsx_reads_the_first_sheet_only_as_wide_as_its_header(admin):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["external_id", "full_name", "email"])
    sheet.append(["E1", "Ana Lima", "ana@example.com"])
    sheet.cell(row=2, column=40, value="a stray note far to the right")
    workbook.create_sheet("Notes").append(["not", "people"])
    buffer = io.BytesIO()
    workbook.save(buffer)

    batch = people_import_preview(actor=admin, file_name="hr.xlsx", content=buffer.getvalue())

    assert batch.status == ImportBatch.Status.READY, batch.errors
    assert batch.row_count == 1 and batch.warnings == []


def test_header_names_are_trimmed_and_case_insensitive(admin):
    content = (
        b" External_ID ,Full Name,EMAIL,Manager-ID,Time Zone\n"
        b"E1,Ana,ana@example.com,,UTC\n"
        b"E2,Bo,bo@example.com,E1,Asia/Tokyo\n"
    )
    batch = people_import_preview(actor=admin, file_name="hr.csv", content=content)
    assert batch.errors == [] and batch.warnings == []
    people_import_apply(actor=admin, batch=batch, deactivate_missing=False)
    assert Person.objects.get(external_id="E2").manager.external_id == "E1"


def test_semicolon_separated_file_with_a_byte_order_mark_is_read(admin):
    content = "\ufeffexternal_id;full_name;email\r\nE1;Ana;ana@example.com\r\n".encode()
    batch = people_import_preview(actor=admin, file_name="hr.csv", content=content)
    assert batch.status == ImportBatch.Status.READY, batch.errors
    assert batch.preview["creates"] == 1


def test_unknown_columns_are_ignored_with_a_warning(admin):
    rows = [{**person_row("E1"), "salary": "100"}]
    batch = preview(admin, rows, headers=[*HEADERS, "salary"])
    assert batch.status == ImportBatch.Status.READY
    assert batch.warnings == ['Column "salary" is not one Peermentor reads; it is ignored.']


def test_reimporting_the_same_file_changes_nothing(admin):
    rows = [person_row("E1"), person_row("E2", manager_id="E1", time_zone="", site="Oslo")]
    import_rows(admin, rows)
    before = directory_state()

    batch = preview(admin, rows)
    assert batch.preview["creates"] == 0
    assert batch.preview["updates"] == 0
    assert batch.preview["unchanged"] == 2
    summary = people_import_apply(actor=admin, batch=batch, deactivate_missing=True)

    assert summary["updated"] == 0 and summary["created"] == 0 and summary["deactivated"] == 0
    assert directory_state() == before


def test_update_by_external_id_changes_only_what_differs(admin):
    import_rows(admin, [person_row("E1"), person_row("E2")])
    rows = [person_row("E1", job_title="Lead", level="L4"), person_row("E2")]

    batch = preview(admin, rows)
    assert batch.preview["updates"] == 1 and batch.preview["unchanged"] == 1
    assert batch.preview["changes"][0]["fields"] == ["job_title", "level"]
    summary = people_import_apply(actor=admin, batch=batch, deactivate_missing=False)

    assert summary["updated"] == 1
    assert Person.objects.get(external_id="E1").job_title == "Lead"
    assert Person.objects.count() == 2


def test_columns_missing_from_the_file_leave_stored_values_alone(admin):
    import_rows(admin, [person_row("E1", level="L5"), person_row("E2", manager_id="E1")])
    import_rows(
        admin,
        [{"external_id": "E2", "full_name": "Renamed", "email": "e2@example.com"}],
        headers=["external_id", "full_name", "email"],
    )
    renamed = Person.objects.get(external_id="E2")
    assert renamed.full_name == "Renamed"
    assert renamed.manager.external_id == "E1"
    assert renamed.level == "L3" and renamed.languages == ["English", "French"]


def test_time_zone_defaults_to_the_site_then_utc(admin):
    SiteFactory(name="Tokyo", time_zone="Asia/Tokyo")
    import_rows(
        admin,
        [
            person_row("E1", site="tokyo", time_zone=""),
            person_row("E2", site="Brand New Site", time_zone=""),
            person_row("E3", site="", time_zone=""),
        ],
    )
    zones = dict(Person.objects.values_list("external_id", "time_zone"))
    assert zones == {"E1": "Asia/Tokyo", "E2": "UTC", "E3": "UTC"}
    assert Person.objects.get(external_id="E1").site.name == "Tokyo"
    assert Site.objects.filter(name__iexact="tokyo").count() == 1


def test_departments_match_existing_names_whatever_the_case(admin):
    Department.objects.create(name="Sales")
    summary = import_rows(
        admin, [person_row("E1", department="SALES"), person_row("E2", department="sales")]
    )
    assert summary["departments_created"] == 0
    assert Department.objects.filter(name__iexact="sales").count() == 1
    assert set(Person.objects.values_list("department__name", flat=True)) == {"Sales"}


def test_manager_may_be_an_existing_person_outside_the_file(admin):
    boss = PersonFactory(external_id="B1")
    import_rows(admin, [person_row("E1", manager_id="B1")])
    assert Person.objects.get(external_id="E1").manager == boss


def test_manager_later_in_the_file_resolves(admin):
    import_rows(admin, [person_row("E2", manager_id="E1"), person_row("E1")])
    assert Person.objects.get(external_id="E2").manager.external_id == "E1"


def test_people_can_swap_email_addresses(admin):
    import_rows(
        admin, [person_row("E1", email="a@example.com"), person_row("E2", email="b@example.com")]
    )
    summary = import_rows(
        admin, [person_row("E1", email="b@example.com"), person_row("E2", email="a@example.com")]
    )
    assert summary["updated"] == 2
    assert dict(Person.objects.values_list("external_id", "email")) == {
        "E1": "b@example.com",
        "E2": "a@example.com",
    }


def test_a_newcomer_may_take_the_address_someone_in_the_file_gives_up(admin):
    import_rows(admin, [person_row("E1", email="shared@example.com")])
    import_rows(
        admin,
        [
            person_row("E1", email="e1.new@example.com"),
            person_row("E2", email="shared@example.com"),
        ],
    )
    assert Person.objects.get(external_id="E2").email == "shared@example.com"


def test_deactivate_missing_deactivates_active_people_absent_from_the_file(admin):
    import_rows(admin, [person_row("E1"), person_row("E2"), person_row("E3", active="no")])

    batch = preview(admin, [person_row("E1")])
    assert batch.preview["missing_active"] == 1
    summary = people_import_apply(actor=admin, batch=batch, deactivate_missing=True)

    assert summary["deactivated"] == 1
    assert dict(Person.objects.values_list("external_id", "is_active")) == {
        "E1": True,
        "E2": False,
        "E3": False,
    }


def test_without_deactivate_missing_absent_people_stay_active(admin):
    import_rows(admin, [person_row("E1"), person_row("E2")])
    summary = import_rows(admin, [person_row("E1")], deactivate_missing=False)
    assert summary["deactivated"] == 0
    assert Person.objects.get(external_id="E2").is_active


def test_a_leaver_back_in_the_file_is_active_again(admin):
    import_rows(admin, [person_row("E1", active="false")])
    summary = import_rows(admin, [person_row("E1", active="")])
    assert summary["updated"] == 1
    assert Person.objects.get(external_id="E1").is_active


def test_twenty_thousand_rows_with_a_manager_tree(admin):
    rows = [
        person_row(
            f"E{number:05d}",
            manager_id=f"E{(number - 1) // 10:05d}" if number else "",
            department=f"Department {number % 8}",
            site=f"Site {number % 4}",
        )
        for number in range(20_000)
    ]
    summary = import_rows(admin, rows)

    assert summary["created"] == 20_000
    assert summary["departments_created"] == 8 and summary["sites_created"] == 4
    assert Person.objects.count() == 20_000
    assert Person.objects.get(external_id="E19999").manager.external_id == "E01999"
    assert Person.objects.filter(manager__isnull=True).count() == 1
    again = preview(admin, rows)
    assert (again.preview["unchanged"], again.preview["updates"]) == (20_000, 0)


# --- job history ----------------------------------------------------------------------------
def job_history():
    """(external id, day, source, {field: (before, after)} for what changed) per JobChange."""
    return [
        (
            change.person.external_id,
            change.changed_on,
            change.source,
            {label: (before, after) for label, before, after in change.changes},
        )
        for change in JobChange.objects.select_related("person").order_by(
            "person__external_id", "id"
        )
    ]


def test_a_new_department_job_title_or_level_is_recorded_as_a_job_change(admin):
    import_rows(admin, [person_row("E1"), person_row("E2"), person_row("E3"), person_row("E4")])
    assert JobChange.objects.count() == 0  # people new to the directory had no job before
    rows = [
        person_row("E1", department="Sales", site="Paris"),
        person_row("E2", job_title="Lead Engineer", level="L4"),
        # A move of office or a new name alone is not a job change.
        person_row("E3", site="Paris", full_name="Renamed"),
        person_row("E4"),
    ]
    batch = preview(admin, rows)
    assert batch.preview["job_changes"] == 2
    summary = people_import_apply(actor=admin, batch=batch, deactivate_missing=False)

    today = timezone.now().astimezone(dt.UTC).date()
    assert summary["job_changes"] == 2 and summary["updated"] == 3
    assert job_history() == [
        (
            "E1",
            today,
            "import",
            {"Department": ("Engineering", "Sales"), "Site": ("London", "Paris")},
        ),
        (
            "E2",
            today,
            "import",
            {"Job title": ("Engineer", "Lead Engineer"), "Level": ("L3", "L4")},
        ),
    ]
    stored = JobChange.objects.get(person__external_id="E2")
    assert (stored.department_before, stored.department_after) == ("Engineering", "Engineering")
    assert (stored.site_before, stored.site_after) == ("London", "London")
    change = JobChange.objects.get(person__external_id="E2")
    assert change.import_batch_id == batch.pk and change.recorded_by == admin
    assert [label for label, _, _ in change.changes] == ["Job title", "Level"]


def test_reimporting_the_same_file_records_no_second_job_change(admin):
    import_rows(admin, [person_row("E1")])
    changed = [person_row("E1", department="Sales")]
    import_rows(admin, changed)
    assert JobChange.objects.count() == 1

    summary = import_rows(admin, changed)
    assert summary["job_changes"] == 0 and summary["updated"] == 0
    assert JobChange.objects.count() == 1


def test_the_job_change_date_column_dates_the_change(admin):
    headers = [*HEADERS, "Last job change"]
    import_rows(admin, [person_row("E1"), person_row("E2")])
    rows = [
        {**person_row("E1", level="L4"), "Last job change": "2026-03-01"},
        {**person_row("E2", level="L4"), "Last job change": ""},
    ]
    batch = preview(admin, rows, headers=headers)
    assert batch.warnings == []  # an alias of job_change_date, not an unknown column
    people_import_apply(actor=admin, batch=batch, deactivate_missing=False)

    dates = dict(JobChange.objects.values_list("person__external_id", "changed_on"))
    assert dates == {"E1": dt.date(2026, 3, 1), "E2": timezone.now().astimezone(dt.UTC).date()}
    # The date alone changes nothing: the job is the same as stored.
    again = [{**person_row("E1", level="L4"), "Last job change": "2026-04-01"}]
    assert import_rows(admin, again, headers=headers)["updated"] == 0
    assert JobChange.objects.count() == 2


def test_a_department_cleared_or_spelt_differently(admin):
    import_rows(admin, [person_row("E1"), person_row("E2")])
    rows = [person_row("E1", department=""), person_row("E2", department="ENGINEERING")]
    import_rows(admin, rows)
    # Clearing is a change; the same department in capitals is not.
    today = timezone.now().astimezone(dt.UTC).date()
    assert job_history() == [("E1", today, "import", {"Department": ("Engineering", "")})]


def test_job_changes_are_written_in_bounded_queries(admin, django_assert_max_num_queries):
    def apply_with_changes(count, prefix):
        import_rows(admin, [person_row(f"{prefix}{n}") for n in range(count)])
        batch = preview(admin, [person_row(f"{prefix}{n}", level="L9") for n in range(count)])
        with CaptureQueriesContext(connection) as queries:
            people_import_apply(actor=admin, batch=batch, deactivate_missing=False)
        return len(queries)

    few = apply_with_changes(2, "A")
    many = apply_with_changes(40, "B")
    assert many == few
    assert JobChange.objects.count() == 42


def test_import_file_records_job_changes_with_its_batch(admin):
    import_rows(admin, [person_row("E1")])
    batch, summary = people_import_file(
        actor=None,
        file_name="hr.csv",
        content=csv_bytes([person_row("E1", job_title="Architect")]),
        deactivate_missing=False,
    )
    assert summary["job_changes"] == 1
    change = JobChange.objects.get()
    assert change.import_batch == batch and change.recorded_by is None


def test_a_hand_edit_of_the_job_is_recorded_once_and_nothing_else_is(admin):
    person = PersonFactory(job_title="Analyst", level="L2")
    before = Person.objects.select_related("department", "site").get(pk=person.pk)
    assert person_job_change_record(actor=admin, before=before, after=person) is None
    person.level = "L3"
    change = person_job_change_record(
        actor=admin, before=before, after=person, changed_on=dt.date(2026, 5, 4)
    )
    assert (change.source, change.changed_on, change.level_before, change.level_after) == (
        "manual",
        dt.date(2026, 5, 4),
        "L2",
        "L3",
    )
    assert AuditEvent.objects.filter(action="people.job_change_recorded", actor=admin).exists()
    with pytest.raises(PermissionDenied):
        person_job_change_record(actor=UserFactory(), before=before, after=person)
    assert JobChange.objects.count() == 1


def test_the_database_refuses_a_job_change_that_changes_nothing():
    person = PersonFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        JobChange.objects.create(
            person=person, changed_on=dt.date(2026, 1, 1), job_title_before="A", job_title_after="A"
        )


# --- bad rows: reported with line and field, nothing written --------------------------------
BAD_ROWS = [
    ("missing external id", {"external_id": ""}, "external_id", "required"),
    ("missing name", {"full_name": " "}, "full_name", "required"),
    ("missing e-mail", {"email": ""}, "email", "required"),
    ("invalid e-mail", {"email": "not-an-address"}, "email", "not a valid e-mail"),
    (
        "duplicate external id",
        {"external_id": "E1", "email": "x@example.com"},
        "external_id",
        "line 2",
    ),
    ("duplicate e-mail", {"email": "E1@EXAMPLE.COM"}, "email", "already used on line 2"),
    ("unknown time zone", {"time_zone": "Mars/Olympus"}, "time_zone", "not an IANA"),
    ("unparsable hire date", {"hire_date": "03/01/2021"}, "hire_date", "YYYY-MM-DD"),
    ("impossible date", {"leaving_date": "2021-02-30"}, "leaving_date", "YYYY-MM-DD"),
    ("leaving before hire", {"leaving_date": "2020-01-01"}, "leaving_date", "before the hire"),
    ("unknown active value", {"active": "maybe"}, "active", "true/false"),
    ("unknown manager", {"manager_id": "NOBODY"}, "manager_id", "No person with external id"),
    ("own manager", {"manager_id": "E3"}, "manager_id", "own manager"),
    ("level too long", {"level": "L" * 41}, "level", "Longer than 40"),
    ("unparsable job change date", {"job_change_date": "soon"}, "job_change_date", "YYYY-MM-DD"),
    (
        "job change before hire",
        {"job_change_date": "2020-01-01"},
        "job_change_date",
        "before the hire date",
    ),
]


@pytest.mark.parametrize(
    ("values", "field", "message"),
    [case[1:] for case in BAD_ROWS],
    ids=[case[0] for case in BAD_ROWS],
)
def test_bad_row_is_reported_with_line_and_field_and_nothing_is_written(
    admin, values, field, message
):
    rows = [person_row("E1"), person_row("E2"), {**person_row("E3"), **values}, person_row("E4")]
    batch = preview(admin, rows, headers=[*HEADERS, "job_change_date"])

    assert batch.status == ImportBatch.Status.INVALID
    matching = [error for error in batch.errors if (error["line"], error["field"]) == (4, field)]
    assert matching, batch.errors
    assert message in matching[0]["message"]
    assert Person.objects.count() == 0 and Department.objects.count() == 0
    with pytest.raises(ApplicationError, match="bad rows"):
        people_import_apply(actor=admin, batch=batch, deactivate_missing=True)
    assert Person.objects.count() == 0 and Site.objects.count() == 0


def test_every_bad_row_is_listed_and_good_ones_are_not_written(admin):
    PersonFactory(external_id="OLD", email="taken@example.com", full_name="Old Timer")
    rows = [
        person_row("E1"),
        person_row("E2", email="broken"),
        person_row("E3"),
        person_row("E4", email="taken@example.com"),
        person_row("E5", hire_date="yesterday", manager_id="E99"),
    ]
    batch = preview(admin, rows)

    # In file order, and within a line in column order.
    assert [(error["line"], error["field"]) for error in batch.errors] == [
        (3, "email"),
        (5, "email"),
        (6, "manager_id"),
        (6, "hire_date"),
    ]
    taken = next(error for error in batch.errors if error["line"] == 5)
    assert "Old Timer (OLD)" in taken["message"]
    assert batch.preview["creates"] == 5
    assert Person.objects.count() == 1


def test_a_row_with_an_unquoted_comma_is_reported_on_its_line(admin):
    content = b"external_id,full_name,email\nE1,Ana,ana@example.com\nE2,Chen, Bo,bo@example.com\n"
    batch = people_import_preview(actor=admin, file_name="hr.csv", content=content)
    assert batch.status == ImportBatch.Status.INVALID
    assert batch.errors[0]["line"] == 3 and batch.errors[0]["field"] == ""
    assert "double quotes" in batch.errors[0]["message"]


def test_line_numbers_count_physical_lines_across_quoted_newlines_and_blank_lines(admin):
    content = (
        b"external_id,full_name,email,job_title\n"
        b'E1,Ana,ana@example.com,"Engineer,\nplatform"\n'
        b"\n"
        b"E2,Bo,broken,Engineer\n"
    )
    batch = people_import_preview(actor=admin, file_name="hr.csv", content=content)
    assert errors_at(batch) == {(5, "email")}


def test_cycle_in_the_file_is_rejected_with_its_ids(admin):
    rows = [
        person_row("E1", manager_id="E3"),
        person_row("E2", manager_id="E1"),
        person_row("E3", manager_id="E2"),
        person_row("E4", manager_id="E1"),
    ]
    batch = preview(admin, rows)

    assert errors_at(batch) == {(2, "manager_id"), (3, "manager_id"), (4, "manager_id")}
    assert all("E1 → E3 → E2 → E1" in error["message"] for error in batch.errors)
    assert Person.objects.count() == 0


def test_cycle_through_a_person_outside_the_file_is_rejected(admin):
    import_rows(admin, [person_row("A"), person_row("B", manager_id="A")])
    batch = preview(admin, [person_row("A", manager_id="B")])
    assert errors_at(batch) == {(2, "manager_id")}
    assert "A → B → A" in batch.errors[0]["message"]
    assert Person.objects.get(external_id="A").manager is None


def test_leaving_date_before_a_stored_hire_date_is_rejected(admin):
    import_rows(admin, [person_row("E1", hire_date="2022-06-01")])
    batch = preview(
        admin,
        [
            {
                "external_id": "E1",
                "full_name": "X",
                "email": "e1@example.com",
                "leaving_date": "2021-01-01",
            }
        ],
        headers=["external_id", "full_name", "email", "leaving_date"],
    )
    assert errors_at(batch) == {(2, "leaving_date")}
    assert "2022-06-01" in batch.errors[0]["message"]


def test_apply_checks_again_and_writes_nothing_if_the_directory_changed(admin):
    batch = preview(admin, [person_row("E1"), person_row("E2", email="late@example.com")])
    assert batch.status == ImportBatch.Status.READY
    PersonFactory(external_id="X9", email="late@example.com")

    with pytest.raises(ImportRejected) as rejected:
        people_import_apply(actor=admin, batch=batch, deactivate_missing=True)

    assert errors_at(rejected.value.errors) == {(3, "email")}
    assert list(Person.objects.values_list("external_id", flat=True)) == ["X9"]
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.READY
    assert not AuditEvent.objects.filter(action="people.import_applied").exists()


def test_a_batch_cannot_be_applied_twice(admin):
    batch = preview(admin, [person_row("E1")])
    people_import_apply(actor=admin, batch=batch, deactivate_missing=False)
    with pytest.raises(ApplicationError, match="already been applied"):
        people_import_apply(actor=admin, batch=batch, deactivate_missing=False)


# --- whole-file problems ---------------------------------------------------------------------
@pytest.mark.parametrize(
    ("file_name", "content", "message"),
    [
        ("hr.csv", b"", "empty"),
        ("hr.csv", b"full_name,email\nAna,ana@example.com\n", "external_id"),
        ("hr.csv", b"external_id,email,Email,full_name\n", "appears twice"),
        ("hr.csv", b"external_id,full_name,email\n", "no people"),
        ("hr.csv", "external_id,full_name,email\nE1,Zoë,z@example.com\n".encode("cp1252"), "UTF-8"),
        ("hr.xlsx", b"this is not a workbook", "not a valid .xlsx"),
        ("hr.csv", b"PK\x03\x04broken zip", "cannot be read"),
        ("hr.xls", b"\xd0\xcf\x11\xe0", ".xls"),
        ("hr.pdf", b"%PDF-1.4", ".csv or .xlsx"),
    ],
    ids=[
        "empty",
        "missing column",
        "duplicate column",
        "header only",
        "not utf-8",
        "fake xlsx",
        "broken zip",
        "old xls",
        "pdf",
    ],
)
def test_unusable_file_is_refused_as_a_whole(admin, file_name, content, message):
    with pytest.raises(ApplicationError, match=message) as refused:
        people_import_preview(actor=admin, file_name=file_name, content=content)
    assert refused.value.field == "file"
    assert ImportBatch.objects.count() == 0


# --- refusal ----------------------------------------------------------------------------------
def test_only_org_admins_may_import(admin):
    program_manager = UserFactory(email="pm@example.com")
    with pytest.raises(PermissionDenied):
        people_import_preview(
            actor=program_manager, file_name="hr.csv", content=csv_bytes([person_row("E1")])
        )
    batch = preview(admin, [person_row("E1")])
    with pytest.raises(PermissionDenied):
        people_import_apply(actor=program_manager, batch=batch, deactivate_missing=False)
    assert Person.objects.count() == 0
    assert ImportBatch.objects.get().status == ImportBatch.Status.READY


# --- one-step import for automation ---------------------------------------------------------
def test_import_file_applies_in_one_step(admin):
    batch, summary = people_import_file(
        actor=None,
        file_name="hr.csv",
        content=csv_bytes([person_row("E1"), person_row("E2", manager_id="E1")]),
        deactivate_missing=False,
    )
    assert summary["created"] == 2
    assert batch.status == ImportBatch.Status.APPLIED and batch.created_by is None


def test_import_file_with_a_bad_row_writes_nothing_at_all(admin):
    with pytest.raises(ImportRejected) as rejected:
        people_import_file(
            actor=None,
            file_name="hr.csv",
            content=csv_bytes([person_row("E1"), person_row("E2", email="nope")]),
            deactivate_missing=True,
        )
    assert errors_at(rejected.value.errors) == {(3, "email")}
    assert Person.objects.count() == 0 and ImportBatch.objects.count() == 0


def test_own_manager_is_reported_once(admin):
    batch = preview(admin, [person_row("E1", manager_id="E1")])
    assert [(error["field"], error["message"]) for error in batch.errors] == [
        ("manager_id", "A person cannot be their own manager.")
    ]
