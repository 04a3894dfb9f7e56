"""CSV files the import pages offer for download, written with tablib."""

from typing import Any

import tablib

from peermentor.people.hr_import import COLUMN_NAMES

# A spreadsheet runs a cell that starts with one of these as a formula; HR data is untrusted.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def _safe(value: Any) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def template_csv() -> str:
    """The header row of an importable file, every column in the documented order."""
    return tablib.Dataset(headers=list(COLUMN_NAMES)).export("csv")


def errors_csv(errors: list[dict[str, Any]]) -> str:
    """Every bad row of an import, to fix the file line by line in a spreadsheet."""
    dataset = tablib.Dataset(headers=["line", "field", "external_id", "message"])
    for error in errors:
        dataset.append(
            [
                error["line"],
                _safe(error["field"]),
                _safe(error["external_id"]),
                _safe(error["message"]),
            ]
        )
    return dataset.export("csv")
