"""Reading HR exports: file → normalised rows → a plan checked against the directory.

Nothing in this package writes. `services.people_import_preview` stores what
`reading.read_export` returns; `services.people_import_apply` carries out what
`planning.plan_import` decides, after planning again inside its transaction.
"""

from peermentor.people.hr_import.columns import COLUMN_NAMES, COLUMNS, Column
from peermentor.people.hr_import.planning import Plan, check_export, find_cycles, plan_import
from peermentor.people.hr_import.reading import ParsedExport, read_export

__all__ = [
    "COLUMNS",
    "COLUMN_NAMES",
    "Column",
    "ParsedExport",
    "Plan",
    "check_export",
    "find_cycles",
    "plan_import",
    "read_export",
]
