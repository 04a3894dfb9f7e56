"""Reading HR exports: file → normalised rows → a plan checked against the directory.

Nothing in this module writes. `services.people_import_preview` stores what `read_export`
returns; `services.people_import_apply` carries out what `plan_import` decides, after planning
again inside its transaction.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zoneinfo
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import openpyxl
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from peermentor.core.errors import ApplicationError
from peermentor.people.models import Department, Person, Site

MAX_ROWS = 100_000


@dataclass(frozen=True)
class Column:
    name: str
    is_required: bool
    description: str


# The order here is the order of the downloadable template and of docs/directory.md.
COLUMNS: tuple[Column, ...] = (
    Column("external_id", True, "The HR system's id for the person; unique in the file."),
    Column("full_name", True, "Name as shown in the directory."),
    Column("email", True, "Work e-mail address; unique."),
    Column("department", False, "Department name; created if new."),
    Column("job_title", False, "Job title."),
    Column("level", False, "Career level, e.g. L3."),
    Column("site", False, "Site (office) name; created if new."),
    Column("time_zone", False, "IANA name such as Europe/Paris; empty: the site's, else UTC."),
    Column("manager_id", False, "external_id of the manager, in the file or the directory."),
    Column("hire_date", False, "ISO date YYYY-MM-DD."),
    Column("leaving_date", False, "ISO date YYYY-MM-DD, not before hire_date."),
    Column("languages", False, 'Languages separated by ";", e.g. English; French.'),
    Column("active", False, "true/false, yes/no or 1/0; empty means true."),
)
COLUMN_NAMES = tuple(column.name for column in COLUMNS)
REQUIRED_COLUMNS = tuple(column.name for column in COLUMNS if column.is_required)
HEADER_ALIASES = {"is_active": "active", "timezone": "time_zone", "e_mail": "email"}
MAX_LENGTHS = {
    "external_id": 100,
    "full_name": 200,
    "email": 254,
    "department": 200,
    "job_title": 200,
    "level": 40,
    "site": 200,
    "manager_id": 100,
}
TRUE_WORDS = {"true", "yes", "1", "y"}
FALSE_WORDS = {"false", "no", "0", "n"}
# Fields a row sets on a Person (directory names; department/site/manager are keys, not ids).
PERSON_FIELDS = (
    "full_name",
    "email",
    "department",
    "job_title",
    "level",
    "site",
    "time_zone",
    "manager",
    "hire_date",
    "leaving_date",
    "languages",
    "is_active",
)
# Which file column feeds each Person field (is_active is always set: absent means active).
FIELD_COLUMN = {
    "full_name": "full_name",
    "email": "email",
    "department": "department",
    "job_title": "job_title",
    "level": "level",
    "site": "site",
    "manager": "manager_id",
    "hire_date": "hire_date",
    "leaving_date": "leaving_date",
    "languages": "languages",
}


def row_error(line: int, column: str, message: str, external_id: str = "") -> dict[str, Any]:
    return {"line": line, "field": column, "message": message, "external_id": external_id}


@dataclass
class ParsedExport:
    file_format: str
    columns: list[str]
    rows: list[dict[str, Any]]
    errors: list[dict[str, Any]]
    warnings: list[str]


@lru_cache(maxsize=1)
def _time_zones_by_lower_name() -> dict[str, str]:
    return {name.lower(): name for name in zoneinfo.available_timezones()}


def canonical_time_zone(name: str) -> str | None:
    return _time_zones_by_lower_name().get(name.strip().lower())


# --- reading the file ------------------------------------------------------------------------
def read_export(*, file_name: str, content: bytes) -> ParsedExport:
    """Every record of the file checked on its own: rows normalised, every bad one reported.

    Raises ApplicationError (field "file") when the file as a whole cannot be used: unreadable,
    no header, a required column missing, a column twice, no data rows or too many.
    """
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
    for line, values in records:
        if not any(_text(value) for value in values):
            continue
        if len(rows) >= MAX_ROWS:
            raise ApplicationError(
                f"The file has more than {MAX_ROWS:,} people; split it.", field="file"
            )
        if file_format == "csv" and len(values) > len(columns):
            extra = [value for value in values[len(columns) :] if _text(value)]
            if extra:
                errors.append(
                    row_error(
                        line,
                        "",
                        f"The row has {len(values)} values but the header has {len(columns)} "
                        "columns; a value containing a comma must be in double quotes.",
                        _text(values[known["external_id"]]),
                    )
                )
                continue
        raw = {
            name: values[index] if index < len(values) else None for name, index in known.items()
        }
        row, row_errors = _clean_row(line, raw)
        external_id, email = row["external_id"], row["email"]
        if external_id:
            if external_id in first_line_of_id:
                row_errors.append(
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
                row_errors.append(
                    row_error(
                        line,
                        "email",
                        f"{email} is already used on line {first_line_of_email[email]}.",
                        external_id,
                    )
                )
            else:
                first_line_of_email[email] = line
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


def _xlsx_records(content: bytes) -> Iterator[tuple[int, list[Any]]]:
    """(row number, cell values) for the workbook's active sheet."""
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as error:
        # openpyxl raises a dozen exception types on damaged files; all mean the same to the user.
        raise ApplicationError(
            f"The workbook cannot be read ({type(error).__name__}).", field="file"
        ) from None
    try:
        sheet = workbook.active
        if sheet is None:
            raise ApplicationError("The workbook has no sheet.", field="file")
        try:
            for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
                yield number, list(values)
        except ApplicationError:
            raise
        except Exception as error:
            raise ApplicationError(
                f"The workbook cannot be read ({type(error).__name__}).", field="file"
            ) from None
    finally:
        workbook.close()


def _read_header(line: int, header: list[Any]) -> list[str]:
    if line != 1:
        raise ApplicationError("The first line must be the header.", field="file")
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

    for column in ("hire_date", "leaving_date"):
        text = values.get(column, "")
        row[column] = None
        if text:
            try:
                row[column] = dt.date.fromisoformat(text).isoformat()
            except ValueError:
                fail(column, f'"{text}" is not a date in the form YYYY-MM-DD.')
    if row["hire_date"] and row["leaving_date"] and row["leaving_date"] < row["hire_date"]:
        fail("leaving_date", "The leaving date is before the hire date.")

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


# --- planning against the directory ----------------------------------------------------------
@dataclass
class PlannedUpdate:
    pk: int
    row: dict[str, Any]
    # Directory field → new value, in plan terms (department/site are name keys, manager an id).
    changes: dict[str, Any]


@dataclass
class PlannedCreate:
    row: dict[str, Any]
    # Every directory field, in plan terms; the manager is set afterwards from `Plan.managers`.
    values: dict[str, Any]


@dataclass
class Plan:
    errors: list[dict[str, Any]] = field(default_factory=list)
    creates: list[PlannedCreate] = field(default_factory=list)
    updates: list[PlannedUpdate] = field(default_factory=list)
    unchanged: int = 0
    missing_active_pks: list[int] = field(default_factory=list)
    # Lower-case key → spelling to create, for departments and sites the directory lacks.
    new_departments: dict[str, str] = field(default_factory=dict)
    new_sites: dict[str, str] = field(default_factory=dict)
    # Each file row's wanted manager (external id or None) when the file has manager_id.
    managers: dict[str, str | None] = field(default_factory=dict)
    # Snapshot of the directory the plan was made against, for the apply step.
    existing: dict[str, dict[str, Any]] = field(default_factory=dict)

    def preview(self) -> dict[str, Any]:
        return {
            "creates": len(self.creates),
            "updates": len(self.updates),
            "unchanged": self.unchanged,
            "missing_active": len(self.missing_active_pks),
            "new_departments": sorted(self.new_departments.values()),
            "new_sites": sorted(self.new_sites.values()),
            "changes": [
                {
                    "line": update.row["line"],
                    "external_id": update.row["external_id"],
                    "full_name": update.row["full_name"],
                    "fields": [FIELD_COLUMN.get(name, name) for name in update.changes],
                }
                for update in self.updates[:200]
            ],
        }


def _key(name: str | None) -> str | None:
    return name.lower() if name else None


def _snapshot() -> tuple[dict[str, dict[str, Any]], dict[str, tuple[str, str]]]:
    """Every person (as plan-comparable values) and every site (key → name, time zone).

    Three queries whatever the size of the directory: the plan never asks per row.
    """
    department_names = dict(Department.objects.values_list("id", "name"))
    sites = {
        pk: (name, zone) for pk, name, zone in Site.objects.values_list("id", "name", "time_zone")
    }
    people = list(
        Person.objects.values(
            "id",
            "external_id",
            "full_name",
            "email",
            "department_id",
            "job_title",
            "level",
            "site_id",
            "time_zone",
            "manager_id",
            "hire_date",
            "leaving_date",
            "languages",
            "is_active",
        )
    )
    external_id_of = {person["id"]: person["external_id"] for person in people}
    existing = {}
    for person in people:
        department = department_names.get(person["department_id"])
        site = sites.get(person["site_id"])
        existing[person["external_id"]] = {
            "pk": person["id"],
            "full_name": person["full_name"],
            "email": person["email"],
            "department": _key(department),
            "job_title": person["job_title"],
            "level": person["level"],
            "site": _key(site[0]) if site else None,
            "time_zone": person["time_zone"],
            "manager": external_id_of.get(person["manager_id"]),
            "hire_date": person["hire_date"].isoformat() if person["hire_date"] else None,
            "leaving_date": person["leaving_date"].isoformat() if person["leaving_date"] else None,
            "languages": person["languages"] or [],
            "is_active": person["is_active"],
            "db": person,
        }
    site_by_key = {name.lower(): (name, zone) for name, zone in sites.values()}
    return existing, site_by_key


def plan_import(*, rows: Iterable[dict[str, Any]], columns: Iterable[str]) -> Plan:
    """What applying `rows` to the directory as it is now would do, and every row it would break.

    Checks that need the directory or the whole file: e-mail addresses held by people outside
    the file, managers that resolve nowhere, leaving before hire once merged with stored dates,
    and cycles in the manager graph that would result.
    """
    present = set(columns)
    plan = Plan()
    existing, site_by_key = _snapshot()
    plan.existing = existing
    department_keys = {name.lower() for name in Department.objects.values_list("name", flat=True)}
    email_owner = {person["email"].lower(): external_id for external_id, person in existing.items()}

    by_external_id: dict[str, dict[str, Any]] = {}
    for row in rows:
        if row["external_id"] and row["external_id"] not in by_external_id:
            by_external_id[row["external_id"]] = row

    def fail(row: dict[str, Any], column: str, message: str) -> None:
        plan.errors.append(row_error(row["line"], column, message, row["external_id"]))

    for external_id, row in by_external_id.items():
        current = existing.get(external_id)
        owner = email_owner.get(row["email"]) if row["email"] else None
        if owner and owner != external_id and owner not in by_external_id:
            fail(
                row,
                "email",
                f"{row['email']} belongs to {existing[owner]['full_name']} ({owner}), "
                "who is not in this file.",
            )
        manager = row["manager_id"] or None
        if "manager_id" in present:
            if manager == external_id:
                fail(row, "manager_id", "A person cannot be their own manager.")
            elif manager and manager not in by_external_id and manager not in existing:
                fail(
                    row,
                    "manager_id",
                    f"No person with external id {manager} in this file or the directory.",
                )
            # A self-reference is reported once above, not again as a cycle of one.
            plan.managers[external_id] = None if manager == external_id else manager

        wanted = _wanted_values(row, current, present, site_by_key, plan)
        # Only one of the two dates is in the row: the other one comes from the directory.
        if (
            wanted["hire_date"]
            and wanted["leaving_date"]
            and wanted["leaving_date"] < wanted["hire_date"]
            and not (row["hire_date"] and row["leaving_date"])
        ):
            fail(
                row,
                "leaving_date",
                f"The leaving date would be before the hire date ({wanted['hire_date']}).",
            )
        if current is None:
            plan.creates.append(PlannedCreate(row=row, values=wanted))
            continue
        changes = {
            name: value
            for name, value in wanted.items()
            if name != "manager" and current[name] != value
        }
        if "manager_id" in present and current["manager"] != manager:
            changes["manager"] = manager
        if changes:
            plan.updates.append(PlannedUpdate(pk=current["pk"], row=row, changes=changes))
        else:
            plan.unchanged += 1

    plan.missing_active_pks = [
        person["pk"]
        for external_id, person in existing.items()
        if person["is_active"] and external_id not in by_external_id
    ]
    _reject_manager_cycles(plan, existing, by_external_id)
    # A new name is only new if no row's spelling matched an existing one.
    plan.new_departments = {
        key: name for key, name in plan.new_departments.items() if key not in department_keys
    }
    plan.errors = sort_errors(plan.errors)
    return plan


COLUMN_ORDER = {name: index for index, name in enumerate(COLUMN_NAMES)}


def sort_errors(errors: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(errors, key=lambda error: (error["line"], COLUMN_ORDER.get(error["field"], -1)))


def check_export(
    *, file_name: str, content: bytes
) -> tuple[ParsedExport, Plan, list[dict[str, Any]]]:
    """Read the file and plan it against the directory: the parse, the plan, and every bad row."""
    parsed = read_export(file_name=file_name, content=content)
    plan = plan_import(rows=parsed.rows, columns=parsed.columns)
    return parsed, plan, sort_errors(parsed.errors + plan.errors)


def _wanted_values(
    row: dict[str, Any],
    current: dict[str, Any] | None,
    present: set[str],
    site_by_key: dict[str, tuple[str, str]],
    plan: Plan,
) -> dict[str, Any]:
    """The person's directory values after the import: file columns win, absent ones keep."""
    wanted: dict[str, Any] = {}
    for name, column in FIELD_COLUMN.items():
        if name == "manager":
            continue
        if column in present or current is None:
            value = row.get(column)
            if name in {"department", "site"}:
                value = _key(value) if value else None
            elif name in {"job_title", "level", "full_name", "email"}:
                value = value or ""
            elif name == "languages":
                value = value or []
            wanted[name] = value
        else:
            wanted[name] = current[name]
    if row["department"] and "department" in present:
        plan.new_departments.setdefault(row["department"].lower(), row["department"])
    if row["site"] and "site" in present:
        key = row["site"].lower()
        if key not in site_by_key:
            plan.new_sites.setdefault(key, row["site"])
    if "time_zone" in present or current is None:
        site = site_by_key.get(wanted["site"]) if wanted["site"] else None
        wanted["time_zone"] = row["time_zone"] or (site[1] if site else "UTC")
    else:
        wanted["time_zone"] = current["time_zone"]
    wanted["is_active"] = row["is_active"]
    return wanted


def _reject_manager_cycles(
    plan: Plan, existing: dict[str, dict[str, Any]], by_external_id: dict[str, dict[str, Any]]
) -> None:
    manager_of = {external_id: person["manager"] for external_id, person in existing.items()}
    manager_of.update(plan.managers)
    for cycle in find_cycles(manager_of):
        start = cycle.index(min(cycle))
        ordered = cycle[start:] + cycle[:start]
        chain = " → ".join([*ordered, ordered[0]])
        for external_id in ordered:
            if external_id in by_external_id:
                plan.errors.append(
                    row_error(
                        by_external_id[external_id]["line"],
                        "manager_id",
                        f"The managers would form a cycle (each reports to the next): {chain}.",
                        external_id,
                    )
                )


def find_cycles(parent: dict[str, str | None]) -> list[list[str]]:
    """Every cycle in a graph where each node has at most one parent, each cycle once."""
    done: set[str] = set()
    cycles: list[list[str]] = []
    for start in parent:
        if start in done:
            continue
        position: dict[str, int] = {}
        path: list[str] = []
        node: str | None = start
        while node is not None and node not in done and node not in position:
            position[node] = len(path)
            path.append(node)
            node = parent.get(node)
        if node is not None and node in position:
            cycles.append(path[position[node] :])
        done.update(path)
    return cycles
