"""Percentiles from grouped counts, small-group suppression, charts and exports."""

import csv
import io
import re

import numpy as np
import openpyxl
import pytest

from peermentor.insights import charts
from peermentor.insights.exports import export
from peermentor.insights.tables import (
    SUPPRESSED,
    ChartSpec,
    Group,
    Table,
    mean_of,
    percentile,
    suppress_small_groups,
)


@pytest.mark.parametrize(
    "values",
    [[7], [2, 4, 10, 12], [1, 1, 1, 9], [0, 3, 3, 3, 8, 30, 31], list(range(1, 101)), [5, 5]],
)
@pytest.mark.parametrize("q", [0.5, 0.75, 0.9])
def test_percentile_from_a_histogram_equals_numpy_on_the_raw_values(values, q):
    histogram = {}
    for value in values:
        histogram[value] = histogram.get(value, 0) + 1
    assert percentile(histogram.items(), q) == round(float(np.percentile(values, q * 100)), 1)


def test_percentile_and_mean_of_nothing():
    assert percentile([], 0.5) is None
    assert percentile([(3, 0)], 0.5) is None
    assert mean_of([]) is None
    assert mean_of([(0, 2), (3, 1)]) == 1.0


def _rate(size, counts):
    return [int(counts[0]), round(100 * counts[0] / size, 1)]


def test_groups_below_the_threshold_are_combined():
    groups = [Group("Eng", 10, [6]), Group("Legal", 2, [2]), Group("Ops", 4, [1])]
    rows, hidden = suppress_small_groups(groups, threshold=5, derive=_rate)
    # Legal (2) and Ops (4) are small; together 6 >= 5, so their sum can be shown.
    assert rows == [["Eng", 10, 6, 60.0], ["Smaller groups combined (2)", 6, 3, 50.0]]
    assert hidden == 2


def test_a_lone_small_group_takes_the_next_smallest_with_it():
    # Hiding only Legal would let anyone compute it as total minus Eng minus Sales.
    groups = [Group("Eng", 10, [6]), Group("Sales", 6, [3]), Group("Legal", 2, [2])]
    rows, hidden = suppress_small_groups(groups, threshold=5, derive=_rate)
    assert rows == [["Eng", 10, 6, 60.0], ["Smaller groups combined (2)", 8, 5, 62.5]]
    assert hidden == 2


def test_everything_small_is_withheld():
    rows, hidden = suppress_small_groups(
        [Group("A", 1, [1]), Group("B", 2, [0])], threshold=5, derive=_rate
    )
    assert rows == [["Smaller groups combined (2)", SUPPRESSED, SUPPRESSED, SUPPRESSED]]
    assert hidden == 2


def test_no_group_is_hidden_when_all_are_large_enough():
    groups = [Group("A", 5, [5]), Group("B", 7, [0])]
    rows, hidden = suppress_small_groups(groups, threshold=5, derive=_rate)
    assert rows == [["B", 7, 0, 0.0], ["A", 5, 5, 100.0]]
    assert hidden == 0


def _table(kind="bar", **spec):
    return Table(
        key="demo",
        title="Match rate <by> team",
        description="Share matched.",
        columns=["Team", "Rate", "Other"],
        rows=[["Eng & Ops", 75.0, 3], ["Sales", SUPPRESSED, 2], ["Legal", None, 1]],
        chart=ChartSpec(kind=kind, value_columns=spec.pop("value_columns", (1,)), **spec),
    )


@pytest.mark.parametrize("kind", ["bar", "funnel", "stacked", "line", "heatmap"])
def test_every_chart_is_a_named_image_with_escaped_text(kind):
    svg = str(charts.render(_table(kind, aim=70.0, aim_label="Aim 70 %"), prefix="x-"))
    assert svg.startswith("<svg")
    assert 'role="img"' in svg
    assert 'aria-labelledby="x-chart-demo-title"' in svg
    assert 'aria-describedby="x-chart-demo-desc"' in svg
    assert '<title id="x-chart-demo-title">Match rate &lt;by&gt; team</title>' in svg
    assert "Eng &amp; Ops" in svg
    assert "<by>" not in svg
    # The CSP allows no inline style: presentation attributes only.
    assert "style=" not in svg


def test_the_description_reads_out_the_figures():
    svg = str(charts.render(_table("bar", unit="%")))
    description = re.search(r"<desc[^>]*>(.*)</desc>", svg).group(1)
    assert "Eng &amp; Ops: Rate 75%" in description
    assert "Sales: Rate hidden" in description


def test_aim_line_is_drawn():
    svg = str(charts.render(_table("line", aim=70.0, aim_label="Aim 70 %", max_value=100.0)))
    assert 'stroke-dasharray="6 4"' in svg
    assert "Aim 70 %" in svg


def test_no_chart_for_an_empty_table():
    table = _table()
    table.rows = []
    assert charts.render(table) == ""


def test_chart_colours_meet_wcag_aa():
    white = (255, 255, 255)
    ink = charts.hex_to_rgb(charts.INK)
    for colour in (*charts.PALETTE, *charts.SEMANTIC.values(), charts.AIM):
        assert charts.contrast(charts.hex_to_rgb(colour), white) >= 4.5, colour
    # Heatmap cells carry ink text, so even the darkest cell keeps 4.5:1 with it.
    for step in range(11):
        cell = charts.hex_to_rgb(charts.heat_colour(step / 10))
        assert charts.contrast(cell, ink) >= 4.5, step


def test_csv_export_writes_hidden_figures_as_hidden():
    content = export(_table(), "csv").decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(content)))
    assert rows == [
        ["Team", "Rate", "Other"],
        ["Eng & Ops", "75.0", "3"],
        ["Sales", "hidden", "2"],
        ["Legal", "", "1"],
    ]


def test_csv_export_defuses_formulas():
    table = _table()
    table.rows = [['=HYPERLINK("http://evil")', 1, 2], ["-5", 1, 2]]
    rows = list(csv.reader(io.StringIO(export(table, "csv").decode("utf-8-sig"))))
    assert rows[1][0] == '\'=HYPERLINK("http://evil")'
    assert rows[2][0] == "-5"


def test_xlsx_export_has_the_same_cells():
    workbook = openpyxl.load_workbook(io.BytesIO(export(_table(), "xlsx")))
    sheet = workbook.active
    assert [list(row) for row in sheet.iter_rows(values_only=True)] == [
        ["Team", "Rate", "Other"],
        ["Eng & Ops", 75.0, 3],
        ["Sales", "hidden", 2],
        ["Legal", None, 1],
    ]


def test_unknown_export_format_is_refused():
    with pytest.raises(ValueError, match="Unknown export format"):
        export(_table(), "pdf")
