"""The columns an HR export may have, and how the import names its complaints about them."""

from __future__ import annotations

import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

MAX_ROWS = 100_000
# Blank lines and rows a spreadsheet claims but leaves empty count too; this bounds the work.
MAX_LINES = 250_000
# What a file may be, so that a crafted one cannot tie up the server (issue 13): its size as
# uploaded; columns in the header (an HR export has a few dozen at most); cells read in all
# (lines times header width); for a workbook, its parts unpacked (a zip holds 400 MB of one
# repeated letter in 400 KB) and any one text (Excel's own limit for a cell).
MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_COLUMNS = 200
MAX_CELLS = 5_000_000
# (100,000 people fill a sheet of about 40 MB.) openpyxl scans a sheet once more when it does
# not state its dimension, so the sheet's size bounds that scan too.
MAX_UNPACKED_BYTES = 128 * 1024 * 1024
MAX_PART_BYTES = 64 * 1024 * 1024
MAX_SHARED_STRINGS_BYTES = 32 * 1024 * 1024
MAX_TEXT_CHARS = 32_767
# A spreadsheet may declare a million formatted but empty rows: reading stops (with a warning)
# after this many blank lines in a row rather than walking them all.
MAX_BLANK_RUN = 1_000


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
    Column(
        "job_change_date",
        False,
        "ISO date the current department, job title or level started; dates the job change "
        "the import records when one of them changes. Empty: the day of the import.",
    ),
)
COLUMN_NAMES = tuple(column.name for column in COLUMNS)
REQUIRED_COLUMNS = tuple(column.name for column in COLUMNS if column.is_required)
HEADER_ALIASES = {
    "is_active": "active",
    "timezone": "time_zone",
    "e_mail": "email",
    "last_job_change": "job_change_date",
    "last_job_change_date": "job_change_date",
}
# The fields whose change is a job change (a row of the person's job history).
JOB_FIELDS = ("department", "job_title", "level")
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


COLUMN_ORDER = {name: index for index, name in enumerate(COLUMN_NAMES)}


def sort_errors(errors: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(errors, key=lambda error: (error["line"], COLUMN_ORDER.get(error["field"], -1)))


@lru_cache(maxsize=1)
def _time_zones_by_lower_name() -> dict[str, str]:
    return {name.lower(): name for name in zoneinfo.available_timezones()}


def canonical_time_zone(name: str) -> str | None:
    return _time_zones_by_lower_name().get(name.strip().lower())
