"""`manage.py import_people`: the same import for automation."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from peermentor.core.models import AuditEvent
from peermentor.people.models import ImportBatch, Person
from tests.factories import PersonFactory
from tests.people.files import csv_bytes, person_row, xlsx_bytes

pytestmark = pytest.mark.django_db


def run(*args):
    out, err = StringIO(), StringIO()
    call_command("import_people", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_imports_a_workbook_and_records_the_batch(tmp_path):
    path = tmp_path / "hr.xlsx"
    path.write_bytes(xlsx_bytes([person_row("E1"), person_row("E2", manager_id="E1")]))

    out, _ = run(str(path))

    assert "Imported 2 created, 0 updated, 0 unchanged, 0 deactivated; 0 job change(s)" in out
    assert Person.objects.get(external_id="E2").manager.external_id == "E1"
    batch = ImportBatch.objects.get()
    assert batch.status == ImportBatch.Status.APPLIED and batch.created_by is None
    assert AuditEvent.objects.filter(action="people.import_applied", actor=None).exists()


def test_bad_rows_are_all_printed_and_nothing_is_written(tmp_path):
    path = tmp_path / "hr.csv"
    path.write_bytes(
        csv_bytes(
            [
                person_row("E1"),
                person_row("E2", email="broken"),
                person_row("E3", manager_id="GHOST"),
            ]
        )
    )
    err = StringIO()
    with pytest.raises(CommandError, match="2 problem"):
        call_command("import_people", str(path), stderr=err)

    lines = err.getvalue().splitlines()
    assert lines == [
        'hr.csv: line 3, email: "broken" is not a valid e-mail address.',
        "hr.csv: line 4, manager_id: No person with external id GHOST in this file or the "
        "directory.",
    ]
    assert Person.objects.count() == 0 and ImportBatch.objects.count() == 0


def test_dry_run_reports_and_writes_nothing(tmp_path):
    PersonFactory(external_id="OLD")
    path = tmp_path / "hr.csv"
    path.write_bytes(csv_bytes([person_row("E1")]))

    out, _ = run(str(path), "--dry-run", "--deactivate-missing")

    assert "1 to create" in out and "1 active people not in the file would be deactivated" in out
    assert list(Person.objects.values_list("external_id", "is_active")) == [("OLD", True)]
    assert ImportBatch.objects.count() == 0


def test_deactivate_missing(tmp_path):
    PersonFactory(external_id="OLD")
    path = tmp_path / "hr.csv"
    path.write_bytes(csv_bytes([person_row("E1")]))

    out, _ = run(str(path), "--deactivate-missing")

    assert "1 deactivated" in out
    assert not Person.objects.get(external_id="OLD").is_active


def test_unreadable_or_unusable_file_fails(tmp_path):
    with pytest.raises(CommandError, match="Cannot read"):
        run(str(tmp_path / "missing.csv"))
    path = tmp_path / "hr.csv"
    path.write_bytes(b"name\nAna\n")
    with pytest.raises(CommandError, match="external_id"):
        run(str(path))
