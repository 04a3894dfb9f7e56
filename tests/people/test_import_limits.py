"""Bounded HR imports: crafted files are refused quickly with a clear message, whatever they
claim to hold (issue 13: a 410 KB file with one 400 MB shared string took ~1 GB; a 1.3 MB file
with 16,384 columns and 240k empty rows took 208 s of CPU)."""

import io
import time
import zipfile

import openpyxl
import pytest

from peermentor.core.errors import ApplicationError
from peermentor.people.hr_import.columns import MAX_COLUMNS, MAX_FILE_BYTES
from peermentor.people.services import people_import_preview
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

SECONDS = 5


@pytest.fixture
def admin():
    return UserFactory(is_org_admin=True)


def _workbook(*rows):
    workbook = openpyxl.Workbook()
    for row in rows:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _replace_part(content: bytes, name: str, data: bytes) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(content))
    target_buffer = io.BytesIO()
    with zipfile.ZipFile(target_buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            if item.filename != name:
                target.writestr(item.filename, source.read(item.filename))
        target.writestr(name, data)
    return target_buffer.getvalue()


def _refused(admin, content, file_name="hr.xlsx"):
    started = time.perf_counter()
    with pytest.raises(ApplicationError) as error:
        people_import_preview(actor=admin, file_name=file_name, content=content)
    assert time.perf_counter() - started < SECONDS
    assert error.value.field == "file"
    return error.value.message


def test_a_huge_shared_string_is_refused_without_reading_it(admin):
    content = _workbook(["external_id", "full_name", "email"], ["E1", "Ana", "ana@example.com"])
    huge = "A" * (200 * 1024 * 1024)
    shared = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" '
        f'uniqueCount="1"><si><t>{huge}</t></si></sst>'
    ).encode()
    crafted = _replace_part(content, "xl/sharedStrings.xml", shared)
    assert len(crafted) < 1024 * 1024  # it compresses to almost nothing
    assert "too large when unpacked" in _refused(admin, crafted)


def test_a_long_shared_string_is_refused(admin):
    content = _workbook(["external_id", "full_name", "email"], ["E1", "Ana", "ana@example.com"])
    shared = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" '
        f'uniqueCount="1"><si><t>{"B" * 40_000}</t></si></sst>'
    ).encode()
    assert "longer than" in _refused(admin, _replace_part(content, "xl/sharedStrings.xml", shared))


def test_sixteen_thousand_columns_and_many_empty_rows_are_refused_fast(admin):
    header = (
        '<row r="1"><c r="A1" t="inlineStr"><is><t>external_id</t></is></c>'
        '<c r="B1" t="inlineStr"><is><t>full_name</t></is></c>'
        '<c r="C1" t="inlineStr"><is><t>email</t></is></c>'
        '<c r="XFD1" t="inlineStr"><is><t>x</t></is></c></row>'
    )
    empty_rows = "".join(f'<row r="{n}" spans="1:16384"/>' for n in range(2, 240_002))
    sheet = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f'<dimension ref="A1:XFD240001"/><sheetData>{header}{empty_rows}</sheetData></worksheet>'
    ).encode()
    crafted = _replace_part(_workbook(["external_id"]), "xl/worksheets/sheet1.xml", sheet)
    message = _refused(admin, crafted)
    assert f"more than {MAX_COLUMNS}" in message


def test_a_million_declared_empty_rows_are_not_walked(admin):
    header = (
        '<row r="1"><c r="A1" t="inlineStr"><is><t>external_id</t></is></c>'
        '<c r="B1" t="inlineStr"><is><t>full_name</t></is></c>'
        '<c r="C1" t="inlineStr"><is><t>email</t></is></c></row>'
        '<row r="2"><c r="A2" t="inlineStr"><is><t>E1</t></is></c>'
        '<c r="B2" t="inlineStr"><is><t>Ana</t></is></c>'
        '<c r="C2" t="inlineStr"><is><t>ana@example.com</t></is></c></row>'
    )
    empty_rows = "".join(f'<row r="{n}"/>' for n in range(3, 1_000_000))
    # As Excel writes a sheet whose formatting reaches the last row.
    sheet = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        '<dimension ref="A1:C999999"/>'
        f"<sheetData>{header}{empty_rows}</sheetData></worksheet>"
    ).encode()
    crafted = _replace_part(_workbook(["external_id"]), "xl/worksheets/sheet1.xml", sheet)
    started = time.perf_counter()
    batch = people_import_preview(actor=admin, file_name="hr.xlsx", content=crafted)
    assert time.perf_counter() - started < SECONDS
    assert batch.row_count == 1
    assert "Reading stopped at line 1,003" in batch.warnings[0]


def test_a_csv_with_too_many_columns_is_refused(admin):
    header = ",".join(["external_id", "full_name", "email"] + [f"x{n}" for n in range(16_381)])
    content = (header + "\n" + "E1,Ana,ana@example.com\n" * 10).encode()
    assert f"more than {MAX_COLUMNS}" in _refused(admin, content, "hr.csv")


def test_a_sheet_too_large_when_unpacked_is_refused_without_reading_it(admin):
    filler = "<row/>" * (13 * 1024 * 1024)  # 78 MB of XML, about 100 KB zipped
    sheet = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f"<sheetData>{filler}</sheetData></worksheet>"
    ).encode()
    crafted = _replace_part(_workbook(["external_id"]), "xl/worksheets/sheet1.xml", sheet)
    assert "too large when unpacked" in _refused(admin, crafted)


def test_a_file_over_the_size_limit_is_refused(admin):
    content = b"external_id,full_name,email\n" + b"E1,Ana,ana@example.com\n" * (
        MAX_FILE_BYTES // 20
    )
    assert "larger than" in _refused(admin, content, "hr.csv")
