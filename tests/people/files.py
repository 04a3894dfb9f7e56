"""HR export files built the way an HR system would write them: with tablib and openpyxl."""

from collections.abc import Iterable, Sequence
from typing import Any

import tablib

HEADERS = [
    "external_id",
    "full_name",
    "email",
    "department",
    "job_title",
    "level",
    "site",
    "time_zone",
    "manager_id",
    "hire_date",
    "leaving_date",
    "languages",
    "active",
]


def person_row(external_id: str, **values: Any) -> dict[str, Any]:
    row = {
        "external_id": external_id,
        "full_name": f"Person {external_id}",
        "email": f"{external_id.lower()}@example.com",
        "department": "Engineering",
        "job_title": "Engineer",
        "level": "L3",
        "site": "London",
        "time_zone": "Europe/London",
        "manager_id": "",
        "hire_date": "2021-03-01",
        "leaving_date": "",
        "languages": "English; French",
        "active": "yes",
    }
    row.update(values)
    return row


def dataset(rows: Iterable[dict[str, Any]], headers: Sequence[str] = HEADERS) -> tablib.Dataset:
    data = tablib.Dataset(headers=list(headers))
    for row in rows:
        data.append([row.get(header, "") for header in headers])
    return data


def csv_bytes(rows: Iterable[dict[str, Any]], headers: Sequence[str] = HEADERS) -> bytes:
    return dataset(rows, headers).export("csv").encode("utf-8")


def xlsx_bytes(rows: Iterable[dict[str, Any]], headers: Sequence[str] = HEADERS) -> bytes:
    return dataset(rows, headers).export("xlsx")
