"""Server-rendered SVG charts: horizontal bars, funnel, stacked bars, a line with an aim line and
a heatmap. No JavaScript and no CDN; the page's CSP allows them because they use presentation
attributes, never `style`. Every chart is `role="img"` named by its <title> and <desc>, and the
page shows the same figures in a data table beside it (templates/insights/_figure.html).

Colours: every fill has at least 4.5:1 contrast with the white background and text is always
drawn in ink on white or on a cell light enough for 4.5:1 (WCAG 2 AA, 1.4.3 and 1.4.11).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from peermentor.insights.tables import SUPPRESSED, ChartSpec, Table

INK = "#1b1f24"
MUTED = "#4a5360"
GRID = "#d0d7de"
AXIS = "#6e7781"
AIM = "#a40e26"
PALETTE = ("#0b5cad", "#116329", "#7d4e00", "#6639ba", "#a40e26", "#0a6877", "#4a5360", "#8a2c6b")
# Named series keep one colour wherever they appear.
SEMANTIC = {
    "On track": "#116329",
    "Needs attention": "#a40e26",
    "Too early to tell": "#4a5360",
    "Active": "#0b5cad",
    "Completed": "#116329",
    "Closed early": "#a40e26",
    "Proposed": "#7d4e00",
    "Cancelled": "#4a5360",
}
# Heatmap: from a near-white blue to the darkest blue on which ink text keeps 4.5:1.
HEAT_LOW = (0xF0, 0xF5, 0xFB)
HEAT_HIGH = (0x5E, 0x95, 0xD0)

WIDTH = 680
ROW_HEIGHT = 26
LABEL_WIDTH = 210
FONT = 'font-family="system-ui, sans-serif" font-size="13"'


# --- colour arithmetic (WCAG relative luminance) ----------------------------------------------
def _channel(value: int) -> float:
    srgb = value / 255
    return srgb / 12.92 if srgb <= 0.03928 else ((srgb + 0.055) / 1.055) ** 2.4


def luminance(rgb: tuple[int, int, int]) -> float:
    red, green, blue = (_channel(value) for value in rgb)
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def contrast(first: tuple[int, int, int], second: tuple[int, int, int]) -> float:
    lighter, darker = sorted((luminance(first), luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def hex_to_rgb(colour: str) -> tuple[int, int, int]:
    value = colour.lstrip("#")
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)


def heat_colour(fraction: float) -> str:
    fraction = min(max(fraction, 0.0), 1.0)
    mixed = tuple(
        round(low + (high - low) * fraction) for low, high in zip(HEAT_LOW, HEAT_HIGH, strict=True)
    )
    return "#{:02x}{:02x}{:02x}".format(*mixed)


# --- helpers ------------------------------------------------------------------------------
def _number(value: Any) -> float | None:
    if value is None or value is SUPPRESSED or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    return None


def _shown(value: Any, unit: str = "") -> str:
    if value is SUPPRESSED:
        return "hidden"
    if value is None or value == "":
        return "—"
    text = f"{value:.1f}".rstrip("0").rstrip(".") if isinstance(value, float) else str(value)
    return f"{text}{unit}" if unit in ("%",) else (f"{text} {unit}" if unit else text)


def _clip(text: str, length: int = 30) -> str:
    return text if len(text) <= length else text[: length - 1] + "…"


# Average advance of a 13 px system-ui glyph, generous so a label never runs off the left edge.
CHAR_WIDTH = 7.4
LABEL_LINE_CHARS = 34
MAX_LABEL_LINES = 2


def _label_lines(text: str) -> list[str]:
    """A row label on at most two lines of LABEL_LINE_CHARS, broken between words; only a
    label longer than that is shortened (its full text stays in the <title> and the table)."""
    words, lines, line = text.split(), [], ""
    for word in words:
        candidate = f"{line} {word}".strip()
        if len(candidate) <= LABEL_LINE_CHARS or not line:
            line = candidate
        else:
            lines.append(line)
            line = word
    if line:
        lines.append(line)
    if len(lines) > MAX_LABEL_LINES:
        lines = [
            *lines[: MAX_LABEL_LINES - 1],
            _clip(" ".join(lines[MAX_LABEL_LINES - 1 :]), LABEL_LINE_CHARS),
        ]
    return [_clip(item, LABEL_LINE_CHARS) for item in lines] or [""]


class _RowLabels:
    """Row labels measured once: how wide the label column must be so that no label is cut,
    and how tall a row is (taller when a label takes two lines)."""

    def __init__(self, labels: Sequence[str]) -> None:
        self.lines = [_label_lines(label) for label in labels]
        longest = max((len(line) for lines in self.lines for line in lines), default=0)
        self.width = min(max(int(longest * CHAR_WIDTH) + 16, 96), int(WIDTH * 0.5))
        self.row_height = ROW_HEIGHT + (14 if any(len(lines) > 1 for lines in self.lines) else 0)

    def text(self, index: int, label: str, y: float) -> str:
        """The label of row `index`, right-aligned against the plot, centred on the row."""
        lines = self.lines[index]
        middle = y + self.row_height / 2 + 4.5
        first = middle - 7 * (len(lines) - 1)
        spans = "".join(
            f'<tspan x="{self.width - 8}" y="{first + 14 * k:.1f}">{escape(line)}</tspan>'
            for k, line in enumerate(lines)
        )
        return f'<text text-anchor="end" fill="{INK}"><title>{escape(label)}</title>{spans}</text>'


def _colour(name: str, index: int) -> str:
    return SEMANTIC.get(name, PALETTE[index % len(PALETTE)])


def _summary(table: Table, spec: ChartSpec, limit: int = 12) -> str:
    """The chart's figures in one sentence, for screen readers that read <desc>."""
    parts = []
    for row in table.rows[:limit]:
        values = ", ".join(
            f"{table.columns[column]} {_shown(row[column], spec.unit)}"
            for column in spec.value_columns
        )
        parts.append(f"{row[spec.label_column]}: {values}")
    more = f" and {len(table.rows) - limit} more rows" if len(table.rows) > limit else ""
    return "; ".join(parts) + more + "."


def _open(table: Table, spec: ChartSpec, height: int, prefix: str) -> list[str]:
    ident = f"{prefix}chart-{table.key}"
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart chart-{spec.kind}" role="img" '
        f'aria-labelledby="{ident}-title" aria-describedby="{ident}-desc" '
        f'viewBox="0 0 {WIDTH} {height}" '
        f'width="100%" preserveAspectRatio="xMinYMin meet" {FONT}>',
        f'<title id="{ident}-title">{escape(table.title)}</title>',
        f'<desc id="{ident}-desc">{escape(table.description)} {escape(_summary(table, spec))}'
        "</desc>",
    ]


def _scale_max(table: Table, spec: ChartSpec, stacked: bool = False) -> float:
    if spec.max_value is not None:
        return spec.max_value
    best = 0.0
    for row in table.rows:
        values = [_number(row[column]) or 0.0 for column in spec.value_columns]
        best = max(best, sum(values) if stacked else max(values, default=0.0))
    if spec.aim is not None:
        best = max(best, spec.aim)
    return best or 1.0


# --- chart kinds ----------------------------------------------------------------------------
def _bars(table: Table, spec: ChartSpec, prefix: str, *, centred: bool = False) -> str:
    column = spec.value_columns[0]
    labels = _RowLabels([str(row[spec.label_column]) for row in table.rows])
    row_height, label_width = labels.row_height, labels.width
    top = 8
    height = top + len(table.rows) * row_height + (24 if spec.aim is not None else 8)
    # Room after the longest bar for its value ("100%", "27.5 days", "hidden").
    plot = WIDTH - label_width - 90
    biggest = _scale_max(table, spec)
    parts = _open(table, spec, height, prefix)
    for index, row in enumerate(table.rows):
        y = top + index * row_height
        label = str(row[spec.label_column])
        parts.append(labels.text(index, label, y))
        value = _number(row[column])
        length = 0.0 if value is None else max(plot * value / biggest, 1.0 if value else 0.0)
        x = label_width + ((plot - length) / 2 if centred else 0)
        bar_top = y + (row_height - (ROW_HEIGHT - 8)) / 2
        if length:
            parts.append(
                f'<rect x="{x:.1f}" y="{bar_top:.1f}" width="{length:.1f}" '
                f'height="{ROW_HEIGHT - 8}" '
                f'fill="{_colour(label, 0) if centred else PALETTE[0]}" rx="2"/>'
            )
        end = label_width + (plot if centred else length) + 6
        parts.append(
            f'<text x="{end:.1f}" y="{y + row_height / 2 + 4.5:.1f}" fill="{INK}">'
            f"{escape(_shown(row[column], spec.unit))}</text>"
        )
    if spec.aim is not None:
        x = label_width + plot * spec.aim / biggest
        bottom = top + len(table.rows) * row_height
        parts.append(
            f'<line x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{bottom}" stroke="{AIM}" '
            'stroke-width="2" stroke-dasharray="6 4"/>'
        )
        parts.append(
            f'<text x="{x:.1f}" y="{bottom + 16}" text-anchor="middle" fill="{AIM}">'
            f"{escape(spec.aim_label or _shown(spec.aim, spec.unit))}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def _legend(names: Sequence[str], y: int, x: float = LABEL_WIDTH) -> list[str]:
    parts = []
    for index, name in enumerate(names):
        parts.append(
            f'<rect x="{x:.1f}" y="{y}" width="12" height="12" fill="{_colour(name, index)}"/>'
            f'<text x="{x + 16:.1f}" y="{y + 11}" fill="{INK}">{escape(name)}</text>'
        )
        x += 28 + CHAR_WIDTH * len(name)
    return parts


def _stacked(table: Table, spec: ChartSpec, prefix: str) -> str:
    names = [table.columns[column] for column in spec.value_columns]
    labels = _RowLabels([str(row[spec.label_column]) for row in table.rows])
    row_height, label_width = labels.row_height, labels.width
    top = 28
    height = top + len(table.rows) * row_height + 8
    plot = WIDTH - label_width - 90
    biggest = _scale_max(table, spec, stacked=True)
    parts = _open(table, spec, height, prefix)
    parts.extend(_legend(names, 4, x=label_width))
    for index, row in enumerate(table.rows):
        y = top + index * row_height
        label = str(row[spec.label_column])
        parts.append(labels.text(index, label, y))
        bar_top = y + (row_height - (ROW_HEIGHT - 8)) / 2
        x = float(label_width)
        total = 0.0
        hidden = False
        for position, column in enumerate(spec.value_columns):
            value = _number(row[column])
            hidden = hidden or row[column] is SUPPRESSED
            if not value:
                continue
            total += value
            length = plot * value / biggest
            # A white edge keeps neighbouring segments apart whatever their colours.
            parts.append(
                f'<rect x="{x:.1f}" y="{bar_top:.1f}" width="{length:.1f}" '
                f'height="{ROW_HEIGHT - 8}" '
                f'fill="{_colour(names[position], position)}" stroke="#ffffff" '
                'stroke-width="1"/>'
            )
            x += length
        text = "hidden" if hidden else _shown(round(total, 1), spec.unit)
        parts.append(
            f'<text x="{x + 6:.1f}" y="{y + row_height / 2 + 4.5:.1f}" fill="{INK}">'
            f"{escape(text)}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def _line(table: Table, spec: ChartSpec, prefix: str) -> str:
    names = [table.columns[column] for column in spec.value_columns]
    left, right, top, bottom = 48, 24, 28, 40
    height = 240
    plot_width = WIDTH - left - right
    plot_height = height - top - bottom
    biggest = _scale_max(table, spec)
    parts = _open(table, spec, height, prefix)
    parts.extend(_legend(names, 4))
    for tick in range(5):
        tick_value = biggest * tick / 4
        y = top + plot_height - plot_height * tick / 4
        parts.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{WIDTH - right}" y2="{y:.1f}" stroke="{GRID}"/>'
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" fill="{MUTED}">'
            f"{escape(_shown(round(tick_value, 1), spec.unit))}</text>"
        )
    count = len(table.rows)
    step = plot_width / max(count - 1, 1)
    label_every = max(1, count // 8)
    for index, row in enumerate(table.rows):
        if index % label_every == 0 or index == count - 1:
            x = left + step * index if count > 1 else left + plot_width / 2
            # The last label ends at the plot's right edge instead of running past the frame.
            anchor = "end" if count > 1 and index == count - 1 else "middle"
            parts.append(
                f'<text x="{x:.1f}" y="{height - bottom + 18}" text-anchor="{anchor}" '
                f'fill="{MUTED}">{escape(_clip(str(row[spec.label_column]), 12))}</text>'
            )
    for position, column in enumerate(spec.value_columns):
        colour = _colour(names[position], position)
        points = []
        for index, row in enumerate(table.rows):
            value = _number(row[column])
            if value is None:
                continue
            x = left + step * index if count > 1 else left + plot_width / 2
            y = top + plot_height - plot_height * value / biggest
            points.append((x, y))
        if len(points) > 1:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
            parts.append(
                f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2.5"/>'
            )
        parts.extend(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{colour}"/>' for x, y in points
        )
    if spec.aim is not None:
        y = top + plot_height - plot_height * spec.aim / biggest
        parts.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{WIDTH - right}" y2="{y:.1f}" stroke="{AIM}" '
            'stroke-width="2" stroke-dasharray="6 4"/>'
            f'<text x="{WIDTH - right}" y="{y - 6:.1f}" text-anchor="end" fill="{AIM}">'
            f"{escape(spec.aim_label or _shown(spec.aim, spec.unit))}</text>"
        )
    parts.append(
        f'<line x1="{left}" y1="{top + plot_height}" x2="{WIDTH - right}" '
        f'y2="{top + plot_height}" stroke="{AXIS}"/>'
    )
    parts.append("</svg>")
    return "".join(parts)


def _heatmap(table: Table, spec: ChartSpec, prefix: str) -> str:
    columns = [table.columns[column] for column in spec.value_columns]
    count = max(len(columns), 1)
    cell = max(min((WIDTH - LABEL_WIDTH - 8) / count, 56.0), 22.0)
    header = 96
    height = header + len(table.rows) * cell + 8
    width = LABEL_WIDTH + cell * count + 8
    biggest = _scale_max(table, spec)
    parts = _open(table, spec, int(height), prefix)
    parts[0] = parts[0].replace(f'viewBox="0 0 {WIDTH} ', f'viewBox="0 0 {width:.0f} ')
    for index, name in enumerate(columns):
        x = LABEL_WIDTH + cell * index + cell / 2
        parts.append(
            f'<text transform="translate({x:.1f},{header - 6}) rotate(-45)" fill="{INK}">'
            f"<title>{escape(name)}</title>{escape(_clip(name, 14))}</text>"
        )
    for row_index, row in enumerate(table.rows):
        y = header + row_index * cell
        label = str(row[spec.label_column])
        parts.append(
            f'<text x="{LABEL_WIDTH - 8}" y="{y + cell / 2 + 4:.1f}" text-anchor="end" '
            f'fill="{INK}"><title>{escape(label)}</title>{escape(_clip(label))}</text>'
        )
        for index, column in enumerate(spec.value_columns):
            value = _number(row[column])
            x = LABEL_WIDTH + cell * index
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{cell:.1f}" height="{cell:.1f}" '
                f'fill="{heat_colour((value or 0) / biggest)}" stroke="{AXIS}" '
                'stroke-width="0.5"/>'
            )
            if value:
                parts.append(
                    f'<text x="{x + cell / 2:.1f}" y="{y + cell / 2 + 4:.1f}" '
                    f'text-anchor="middle" fill="{INK}">{escape(_shown(row[column]))}</text>'
                )
    parts.append("</svg>")
    return "".join(parts)


def render(table: Table, *, prefix: str = "") -> SafeString:
    """The table's chart as inline SVG ("" when it has no chart or no rows). `prefix` keeps
    element ids unique when a page shows a table twice."""
    spec = table.chart
    if spec is None or table.is_empty:
        return mark_safe("")
    if spec.kind == "bar":
        svg = _bars(table, spec, prefix)
    elif spec.kind == "funnel":
        svg = _bars(table, spec, prefix, centred=True)
    elif spec.kind == "stacked":
        svg = _stacked(table, spec, prefix)
    elif spec.kind == "line":
        svg = _line(table, spec, prefix)
    else:
        svg = _heatmap(table, spec, prefix)
    # Every piece of text above went through escape(); the markup is ours.
    return mark_safe(svg)
