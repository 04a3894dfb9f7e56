"""The shape every figure takes: a titled table (what exports write and what the accessible
table behind each chart shows), an optional chart spec, and the small pure helpers that turn
grouped counts into percentiles and hide groups too small to show.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

ChartKind = Literal["bar", "stacked", "funnel", "line", "heatmap"]


@dataclass(frozen=True)
class ChartSpec:
    """How to draw a Table: which column labels the bars and which hold the values.

    bar/funnel: one value column; stacked: several (one segment each); line: the label column
    is the x axis, one line per value column; heatmap: the label column names the rows and the
    value columns are the matrix's columns. `aim` draws a dashed line at that value.
    """

    kind: ChartKind
    value_columns: tuple[int, ...] = (1,)
    label_column: int = 0
    aim: float | None = None
    aim_label: str = ""
    max_value: float | None = None
    unit: str = ""


class _Suppressed:
    """Marks a figure withheld because its group is smaller than the anonymity threshold."""

    def __repr__(self) -> str:
        return "SUPPRESSED"

    def __bool__(self) -> bool:
        return False


SUPPRESSED = _Suppressed()
HIDDEN = "hidden"


@dataclass
class Table:
    """One figure: `key` names its export (`export/<key>.csv`)."""

    key: str
    title: str
    description: str
    columns: list[str]
    rows: list[list[Any]]
    chart: ChartSpec | None = None
    note: str = ""
    empty_message: str = "Nothing to show yet."
    # Groups whose figures were hidden to protect small groups.
    hidden_groups: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def is_empty(self) -> bool:
        return not self.rows

    def as_lists(self) -> list[list[Any]]:
        """Rows with withheld figures written as "hidden" and missing ones as "", for exports
        and the data tables."""
        return [
            [HIDDEN if value is SUPPRESSED else ("" if value is None else value) for value in row]
            for row in self.rows
        ]


def percent(part: float, whole: float) -> float | None:
    """part / whole as a percentage rounded to one decimal, None when there is no whole."""
    if not whole:
        return None
    return round(100.0 * part / whole, 1)


def percentile(histogram: Iterable[tuple[float, int]], q: float) -> float | None:
    """The q-quantile (0..1) of the values a histogram of (value, count) pairs describes,
    interpolating linearly between the two nearest ranks (numpy's default method: the median
    of 2, 4, 10, 12 is 7). The database returns one row per distinct value, never one per
    person, so this stays cheap at any size."""
    bins = sorted((value, count) for value, count in histogram if count > 0)
    total = sum(count for _, count in bins)
    if total == 0:
        return None
    position = (total - 1) * q
    lower_rank, upper_rank = math.floor(position), math.ceil(position)
    fraction = position - lower_rank

    def value_at(rank: int) -> float:
        seen = 0
        for value, count in bins:
            seen += count
            if rank < seen:
                return float(value)
        return float(bins[-1][0])

    lower = value_at(lower_rank)
    upper = value_at(upper_rank)
    return round(lower + (upper - lower) * fraction, 1)


def mean_of(histogram: Iterable[tuple[float, int]]) -> float | None:
    bins = list(histogram)
    total = sum(count for _, count in bins)
    if total == 0:
        return None
    return round(sum(value * count for value, count in bins) / total, 1)


@dataclass
class Group:
    """A breakdown row before suppression. `size` is how many people the row describes;
    `counts` are additive (they can be summed over groups)."""

    name: str
    size: int
    counts: list[float]


def suppress_small_groups(
    groups: Sequence[Group],
    *,
    threshold: int,
    derive: Callable[[int, list[float]], list[Any]],
    combined_name: str = "Smaller groups combined",
) -> tuple[list[list[Any]], int]:
    """Breakdown rows in which no figure describes fewer than `threshold` people.

    Groups under the threshold are not shown on their own. So that their figures cannot be
    worked out by subtracting the shown groups from the program's total, the next smallest
    groups join them until the hidden groups hold at least `threshold` people together
    (complementary suppression). The hidden groups become one combined row, whose figures are
    shown when it is large enough and withheld otherwise (only possible when every group is
    small). `derive(size, counts)` turns a row's additive counts into the figures shown.
    Returns (rows [name, size, *figures], number of groups combined).
    """
    ordered = sorted(groups, key=lambda group: (group.size, group.name))
    hidden = [group for group in ordered if group.size < threshold]
    visible = [group for group in ordered if group.size >= threshold]
    hidden_size = sum(group.size for group in hidden)
    while hidden and hidden_size < threshold and visible:
        moved = visible.pop(0)
        hidden.append(moved)
        hidden_size += moved.size
    rows: list[list[Any]] = [
        [group.name, group.size, *derive(group.size, group.counts)]
        for group in sorted(visible, key=lambda group: (-group.size, group.name))
    ]
    if hidden:
        name = f"{combined_name} ({len(hidden)})"
        if hidden_size >= threshold:
            counts = [
                sum(values) for values in zip(*(group.counts for group in hidden), strict=True)
            ]
            rows.append([name, hidden_size, *derive(hidden_size, counts)])
        else:
            width = len(derive(1, list(hidden[0].counts)))
            rows.append([name, SUPPRESSED, *([SUPPRESSED] * width)])
    return rows, len(hidden)
