"""File → normalised rows: each record checked on its own, every bad one reported."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any
from xml.etree import ElementTree

import openpyxl
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from peermentor.core.errors import ApplicationError
from peermentor.people.hr_import.columns import (
    COLUMN_NAMES,
    FALSE_WORDS,
    HEADER_ALIASES,
    MAX_BLANK_RUN,
    MAX_CELLS,
    MAX_COLUMNS,
    MAX_FILE_BYTES,
    MAX_LENGTHS,
    MAX_LINES,
    MAX_PART_BYTES,
    MAX_ROWS,
    MAX_SHARED_STRINGS_BYTES,
    MAX_TEXT_CHARS,
    MAX_UNPACKED_BYTES,
    REQUIRED_COLUMNS,
    TRUE_WORDS,
    canonical_time_zone,
    row_error,
)


@dataclass
class ParsedExport:
    file_format: str
    columns: list[str]
    rows: list[dict[str, Any]]
    errors: list[dict[str, Any]]
    warnings: list[str]


def read_export(*, file_name: str, content: bytes) -> ParsedExport:
    """Every record of the file checked on its own: rows normalised, every bad one reported.

    Raises ApplicationError (field "file") when the file as a whole cannot be used: unreadable,
    no header, a required column missing, a column twice, no data rows or too many.
    """
    if len(content) > MAX_FILE_BYTES:
        raise ApplicationError(
            f"The file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB; split it.",
            field="file",
        )
    file_format = _detect_format(file_name, content)
    records = _xlsx_records(content) if file_format == "xlsx" else _csv_records(content)
    try:
        header_line, header = next(records)
    except StopIteration:
        raise ApplicationError("The file is empty.", field="file") from None
    columns = _read_header(header_line, header)
    known = {name: index for index, name in enumerate(columns) if name in COLUMN_NAMES}
    warnings = [
        f'Column "{header[index]}" is not one Peermentor reads; it is ignored.'
        for index, name in enumerate(columns)
        if name and name not in COLUMN_NAMES
    ]

    rows: list[dict[str, Any]] = []
    errors: list[dict[str, Any]] = []
    first_line_of_id: dict[str, int] = {}
    first_line_of_email: dict[str, int] = {}
    blank_run = 0
    for line, values in records:
        if line > MAX_LINES:
            raise ApplicationError(
                f"The file has more than {MAX_LINES:,} lines; split it.", field="file"
            )
        if line * len(columns) > MAX_CELLS:
            raise ApplicationError(
                f"The file has more than {MAX_CELLS:,} cells (lines times columns); split it.",
                field="file",
            )
        if not any(_text(value) for value in values):
            blank_run += 1
            if blank_run > MAX_BLANK_RUN:
                warnings.append(
                    f"Reading stopped at line {line:,}: more than {MAX_BLANK_RUN:,} blank lines "
                    "in a row. Rows below them, if any, were not read."
                )
                break
            continue
        blank_run = 0
        if len(rows) >= MAX_ROWS:
            raise ApplicationError(
                f"The file has more than {MAX_ROWS:,} people; split it.", field="file"
            )
        if file_format == "csv" and len(values) > len(columns):
            too_many = _too_many_values(line, values, columns, known)
            if too_many:
                errors.append(too_many)
                continue
        raw = {
            name: values[index] if index < len(values) else None for name, index in known.items()
        }
        row, row_errors = _clean_row(line, raw)
        row_errors.extend(_repeated(line, row, first_line_of_id, first_line_of_email))
        rows.append(row)
        errors.extend(row_errors)
    if not rows and not errors:
        raise ApplicationError("The file has a header but no people below it.", field="file")
    return ParsedExport(
        file_format=file_format,
        columns=sorted(known, key=COLUMN_NAMES.index),
        rows=rows,
        errors=errors,
        warnings=warnings,
    )


def _too_many_values(
    line: int, values: list[Any], columns: list[str], known: dict[str, int]
) -> dict[str, Any] | None:
    """The error for a CSV row with values beyond the header's columns (an unquoted comma)."""
    extra = [value for value in values[len(columns) :] if _text(value)]
    if not extra:
        return None
    return row_error(
        line,
        "",
        f"The row has {len(values)} values but the header has {len(columns)} "
        "columns; a value containing a comma must be in double quotes.",
        _text(values[known["external_id"]]),
    )


def _repeated(
    line: int,
    row: dict[str, Any],
    first_line_of_id: dict[str, int],
    first_line_of_email: dict[str, int],
) -> list[dict[str, Any]]:
    """Errors for an external id or e-mail address an earlier line already used; otherwise
    notes this line as the first to use them."""
    errors = []
    external_id, email = row["external_id"], row["email"]
    if external_id:
        if external_id in first_line_of_id:
            errors.append(
                row_error(
                    line,
                    "external_id",
                    f"{external_id} is already used on line {first_line_of_id[external_id]}.",
                    external_id,
                )
            )
        else:
            first_line_of_id[external_id] = line
    if email:
        if email in first_line_of_email:
            errors.append(
                row_error(
                    line,
                    "email",
                    f"{email} is already used on line {first_line_of_email[email]}.",
                    external_id,
                )
            )
        else:
            first_line_of_email[email] = line
    return errors


def _detect_format(file_name: str, content: bytes) -> str:
    suffix = Path(file_name).suffix.lower()
    if content.startswith(b"PK\x03\x04"):
        return "xlsx"
    if suffix in {".xlsx", ".xlsm"}:
        raise ApplicationError("The file is not a valid .xlsx workbook.", field="file")
    if suffix in {".csv", ".txt", ""}:
        return "csv"
    if suffix == ".xls":
        raise ApplicationError(
            "Old .xls workbooks are not supported: save it as .xlsx or CSV UTF-8.", field="file"
        )
    raise ApplicationError("Upload a .csv or .xlsx file.", field="file")


def _csv_records(content: bytes) -> Iterator[tuple[int, list[Any]]]:
    """(line, values) per CSV record; line is where the record starts (header = line 1).

    Python's csv module rather than tablib's CSV loader: tablib skips blank lines (so its row
    numbers stop matching the file) and rejects the whole file on the first row with an
    unquoted comma, where the preview must name each such line.
    """
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ApplicationError(
            'The file is not UTF-8 text: in Excel use "Save as" → "CSV UTF-8".', field="file"
        ) from None
    if "\x00" in text:
        raise ApplicationError("The file contains binary data; it is not a CSV.", field="file")
    first_line = text.split("\n", 1)[0]
    try:
        delimiter = csv.Sniffer().sniff(first_line, delimiters=",;\t").delimiter
    except csv.Error:
        delimiter = ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    line = 1
    while True:
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            raise ApplicationError(
                f"Line {reader.line_num}: the CSV cannot be read ({error}).", field="file"
            ) from None
        yield line, values
        line = reader.line_num + 1


def _check_workbook_parts(content: bytes) -> None:
    """Refuse a workbook whose parts would unpack to too much, before anything is unpacked:
    openpyxl reads all shared strings into memory, whatever the sheet uses of them."""
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            parts = archive.infolist()
            unpacked = sum(part.file_size for part in parts)
            shared = [part for part in parts if part.filename.lower().endswith("sharedstrings.xml")]
            if (
                unpacked > MAX_UNPACKED_BYTES
                or any(part.file_size > MAX_PART_BYTES for part in parts)
                or any(part.file_size > MAX_SHARED_STRINGS_BYTES for part in shared)
            ):
                raise ApplicationError(
                    "The workbook is too large when unpacked "
                    f"(more than {MAX_UNPACKED_BYTES // (1024 * 1024)} MB, a sheet more than "
                    f"{MAX_PART_BYTES // (1024 * 1024)} MB or its texts more than "
                    f"{MAX_SHARED_STRINGS_BYTES // (1024 * 1024)} MB); save it as CSV or "
                    "split it.",
                    field="file",
                )
            for part in shared:
                _check_shared_strings(archive.open(part))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, zlib.error) as error:
        raise ApplicationError(
            f"The workbook cannot be read ({type(error).__name__}).", field="file"
        ) from None


def _check_shared_strings(stream: IO[bytes]) -> None:
    """Every shared text at most MAX_TEXT_CHARS long, read as a stream (one text at a time)."""
    try:
        for _event, element in ElementTree.iterparse(stream, events=("end",)):
            if element.tag.endswith("}t") and len(element.text or "") > MAX_TEXT_CHARS:
                raise ApplicationError(
                    f"The workbook has a text longer than {MAX_TEXT_CHARS:,} characters, more "
                    "than a spreadsheet cell holds.",
                    field="file",
                )
            if element.tag.endswith("}si"):
                element.clear()
    except ElementTree.ParseError:
        raise ApplicationError("The workbook cannot be read (ParseError).", field="file") from None


def _xlsx_records(content: bytes) -> Iterator[tuple[int, list[Any]]]:
    """(row number, cell values) for the workbook's first sheet, as wide as its header.

    The sheet is streamed (openpyxl's read-only mode): a row at a time, never the whole sheet.
    """
    _check_workbook_parts(content)
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as error:
        # openpyxl raises a dozen exception types on damaged files; all mean the same to the user.
        raise ApplicationError(
            f"The workbook cannot be read ({type(error).__name__}).", field="file"
        ) from None
    try:
        if not workbook.worksheets:
            raise ApplicationError("The workbook has no sheet.", field="file")
        sheet = workbook.worksheets[0]
        try:
            header = next(sheet.iter_rows(min_row=1, max_row=1, values_only=True), ())
            # Some writers declare the sheet 16,384 columns wide; read only what has a header.
            width = max((index + 1 for index, value in enumerate(header) if value), default=1)
            if width > MAX_COLUMNS:
                raise ApplicationError(_too_many_columns(width), field="file")
            rows = sheet.iter_rows(min_row=1, max_col=width, values_only=True)
            for number, values in enumerate(rows, start=1):
                yield number, list(values)
        except ApplicationError:
            raise
        except Exception as error:
            raise ApplicationError(
                f"The workbook cannot be read ({type(error).__name__}).", field="file"
            ) from None
    finally:
        workbook.close()


def _too_many_columns(count: int) -> str:
    return (
        f"The header has {count:,} columns, more than {MAX_COLUMNS} that an HR export needs; "
        "remove the columns you do not import."
    )


def _read_header(line: int, header: list[Any]) -> list[str]:
    if line != 1:
        raise ApplicationError("The first line must be the header.", field="file")
    if len(header) > MAX_COLUMNS:
        raise ApplicationError(_too_many_columns(len(header)), field="file")
    columns = []
    for value in header:
        name = re.sub(r"[\s\-]+", "_", _text(value).lower())
        columns.append(HEADER_ALIASES.get(name, name))
    seen: set[str] = set()
    for name in columns:
        if name and name in seen:
            raise ApplicationError(f'The column "{name}" appears twice.', field="file")
        seen.add(name)
    missing = [name for name in REQUIRED_COLUMNS if name not in seen]
    if missing:
        raise ApplicationError(
            "The header lacks the required column(s) " + ", ".join(missing) + ". "
            "Download the template to see every column.",
            field="file",
        )
    return columns


def _text(value: Any) -> str:
    """A cell as text, whether it came from a CSV (str) or a workbook (typed cell)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _clean_row(line: int, raw: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    values = {name: _text(value) for name, value in raw.items()}
    external_id = values.get("external_id", "")
    errors: list[dict[str, Any]] = []

    def fail(column: str, message: str) -> None:
        errors.append(row_error(line, column, message, external_id))

    for column, limit in MAX_LENGTHS.items():
        if len(values.get(column, "")) > limit:
            fail(column, f"Longer than {limit} characters.")
            values[column] = ""
    row: dict[str, Any] = {"line": line}
    for column in ("external_id", "full_name", "department", "job_title", "level", "site"):
        row[column] = values.get(column, "")
    row["manager_id"] = values.get("manager_id", "")
    if not external_id and "external_id" not in {error["field"] for error in errors}:
        fail("external_id", "The external id is required.")
    if not row["full_name"] and "full_name" not in {error["field"] for error in errors}:
        fail("full_name", "The name is required.")

    email = values.get("email", "").lower()
    row["email"] = ""
    if not email:
        if "email" not in {error["field"] for error in errors}:
            fail("email", "The e-mail address is required.")
    else:
        try:
            validate_email(email)
            row["email"] = email
        except ValidationError:
            fail("email", f'"{values["email"]}" is not a valid e-mail address.')

    time_zone = values.get("time_zone", "")
    row["time_zone"] = ""
    if time_zone:
        canonical = canonical_time_zone(time_zone)
        if canonical is None:
            fail("time_zone", f'"{time_zone}" is not an IANA time zone name (e.g. Europe/Paris).')
        else:
            row["time_zone"] = canonical

    for column in ("hire_date", "leaving_date", "job_change_date"):
        text = values.get(column, "")
        row[column] = None
        if text:
            try:
                row[column] = dt.date.fromisoformat(text).isoformat()
            except ValueError:
                fail(column, f'"{text}" is not a date in the form YYYY-MM-DD.')
    if row["hire_date"] and row["leaving_date"] and row["leaving_date"] < row["hire_date"]:
        fail("leaving_date", "The leaving date is before the hire date.")
    if row["hire_date"] and row["job_change_date"] and row["job_change_date"] < row["hire_date"]:
        fail("job_change_date", "The job change date is before the hire date.")

    row["languages"] = _split_languages(values.get("languages", ""))

    active = values.get("active", "").lower()
    row["is_active"] = True
    if active in FALSE_WORDS:
        row["is_active"] = False
    elif active and active not in TRUE_WORDS:
        fail("active", f'"{values["active"]}" is not true/false, yes/no or 1/0.')
    return row, errors


def _split_languages(text: str) -> list[str]:
    languages: list[str] = []
    seen: set[str] = set()
    for part in text.split(";"):
        language = " ".join(part.split())
        if language and language.lower() not in seen:
            seen.add(language.lower())
            languages.append(language)
    return languages
