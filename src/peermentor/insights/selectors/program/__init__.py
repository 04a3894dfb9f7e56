"""The program dashboard's figures, each one aggregate query (or a fixed few) whatever the size
of the program: counts with conditional aggregation, one row per group or per distinct value,
never a row per participant brought into Python.

`ProgramFigures(scope)` computes a figure when first asked and keeps it, so the dashboard asks
each query once and an export asks only for the table it writes.

The queries live in `queries.py`; the tables, by theme, in `matching_tables.py`,
`engagement_tables.py` and `satisfaction_tables.py`; `dashboard.py` puts them together.
"""

from peermentor.insights.selectors.program.dashboard import DASHBOARD_TABLES, ProgramFigures
from peermentor.insights.selectors.program.queries import MATCH_RATE_AIM

__all__ = ["DASHBOARD_TABLES", "MATCH_RATE_AIM", "ProgramFigures"]
