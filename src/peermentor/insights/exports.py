"""Tables as CSV and XLSX files (tablib), written exactly as the page shows them."""

from __future__ import annotations

import tablib

from peermentor.insights.tables import Table

CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def _cell(value: object) -> object:
    # A spreadsheet would run a text cell starting with one of these as a formula; group names
    # come from the directory, so quote them (OWASP CSV injection).
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        try:
            float(value)
        except ValueError:
            return "'" + value
    return value


def export(table: Table, file_format: str) -> bytes:
    """The table in `file_format` ("csv" or "xlsx"). CSV is UTF-8 with a byte-order mark so
    that spreadsheet programs read accents right."""
    dataset = tablib.Dataset(headers=table.columns, title=table.title[:31])
    for row in table.as_lists():
        dataset.append([_cell(value) for value in row])
    if file_format == "csv":
        return ("\ufeff" + dataset.export("csv")).encode("utf-8")
    if file_format == "xlsx":
        return dataset.export("xlsx")
    raise ValueError(f"Unknown export format {file_format!r}.")
