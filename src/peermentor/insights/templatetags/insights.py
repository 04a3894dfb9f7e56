from typing import Any

from django import template
from django.utils.formats import number_format

from peermentor.insights import charts
from peermentor.insights.tables import SUPPRESSED, Table

register = template.Library()


@register.filter
def figure(value: Any) -> str:
    """A figure as the pages show it: hidden figures say so, missing ones are a dash."""
    if value is SUPPRESSED:
        return "hidden"
    if value is None or value == "":
        return "—"
    if isinstance(value, float):
        return number_format(value, decimal_pos=1 if value != int(value) else 0)
    return str(value)


@register.filter
def figure_in(value: Any, unit: str = "") -> str:
    """A figure with its unit ("95 %", "3.5 meetings"); a hidden or missing one has none."""
    shown = figure(value)
    if value is SUPPRESSED or value is None or value == "" or not unit:
        return shown
    return f"{shown} {unit}"


@register.inclusion_tag("insights/_figure.html", takes_context=True)
def insights_figure(context: Any, table: Table, exportable: bool = True) -> dict[str, Any]:
    is_pdf = bool(context.get("is_pdf"))
    program = context.get("program")
    return {
        "table": table,
        "svg": charts.render(table, prefix="pdf-" if is_pdf else ""),
        "is_pdf": is_pdf,
        "program": program,
        "query": context.get("query", ""),
        "exportable": exportable and program is not None and not is_pdf,
    }
