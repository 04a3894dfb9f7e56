"""Insight pages: thin views that parse the filters, call one selector and render.

Program pages go through `get_program_for(write=True)`: outsiders get 404 and participants (who
may see the program but not its figures) 403. htmx requests for a dashboard get only the part
below the filters, so filtering swaps the figures in place; without JavaScript the same form is
a plain GET.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.text import slugify
from django.views.decorators.http import require_GET

from peermentor.accounts.http import AuthenticatedHttpRequest
from peermentor.core.htmx import is_htmx
from peermentor.insights import charts, selectors
from peermentor.insights.exports import CONTENT_TYPES, export
from peermentor.insights.forms import DashboardFilterForm
from peermentor.insights.pdf import PdfUnavailable, inline_stylesheets, render_pdf
from peermentor.programs.models import Program
from peermentor.programs.permissions import get_program_for


def _filtered(
    request: AuthenticatedHttpRequest, program: Program
) -> tuple[DashboardFilterForm, Any, str]:
    form = DashboardFilterForm(request.GET or None, program=program)
    scope = selectors.scope_for(viewer=request.user, program=program, **form.filters())
    query = urlencode({key: value for key, value in request.GET.items() if key in form.fields})
    return form, scope, query


def _page(
    request: AuthenticatedHttpRequest, pk: int, template: str, build: Any, **extra: Any
) -> HttpResponse:
    program = get_program_for(request.user, pk, write=True)
    form, scope, query = _filtered(request, program)
    context = {"program": program, "form": form, "query": query, **build(scope), **extra}
    if is_htmx(request):
        return render(request, f"insights/_{template}_body.html", context)
    return render(request, f"insights/{template}.html", context)


@login_required
@require_GET
def program_dashboard(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    def build(scope: Any) -> dict[str, Any]:
        return {"dashboard": selectors.program_dashboard(viewer=request.user, scope=scope)}

    return _page(request, pk, "dashboard", build)


@login_required
@require_GET
def program_outcomes(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    def build(scope: Any) -> dict[str, Any]:
        return {"tables": selectors.program_outcomes(viewer=request.user, scope=scope)}

    return _page(request, pk, "outcomes", build)


@login_required
@require_GET
def program_ties(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    def build(scope: Any) -> dict[str, Any]:
        return {"tables": selectors.program_ties(scope=scope)}

    return _page(request, pk, "ties", build)


@login_required
@require_GET
def program_export(
    request: AuthenticatedHttpRequest, pk: int, table: str, file_format: str
) -> HttpResponse:
    program = get_program_for(request.user, pk, write=True)
    if file_format not in CONTENT_TYPES or table not in selectors.EXPORTABLE:
        raise Http404("No such export.")
    _, scope, _ = _filtered(request, program)
    result = selectors.program_table(viewer=request.user, scope=scope, key=table)
    response = HttpResponse(export(result, file_format), content_type=CONTENT_TYPES[file_format])
    name = f"{slugify(program.name) or 'program'}-{table}-{timezone.localdate():%Y-%m-%d}"
    response["Content-Disposition"] = f'attachment; filename="{name}.{file_format}"'
    return response


def _report_context(request: AuthenticatedHttpRequest, pk: int) -> dict[str, Any]:
    program = get_program_for(request.user, pk, write=True)
    scope = selectors.scope_for(viewer=request.user, program=program)
    return {
        "program": program,
        "report": selectors.program_report(viewer=request.user, scope=scope),
    }


@login_required
@require_GET
def program_report(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    return render(request, "insights/report.html", _report_context(request, pk))


@login_required
@require_GET
def program_report_pdf(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    context = _report_context(request, pk)
    html = render_to_string(
        "insights/report_pdf.html",
        {**context, "inline_css": inline_stylesheets(), "is_pdf": True},
        request=request,
    )
    try:
        pdf = render_pdf(html)
    except PdfUnavailable as error:
        return HttpResponse(str(error), status=503, content_type="text/plain; charset=utf-8")
    response = HttpResponse(pdf, content_type="application/pdf")
    name = f"{slugify(context['program'].name) or 'program'}-report.pdf"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@login_required
@require_GET
def organisation_dashboard(request: AuthenticatedHttpRequest) -> HttpResponse:
    table = selectors.organisation_table(viewer=request.user)
    rows = list(zip(table.extra["program_ids"], table.as_lists(), strict=True))
    context = {"table": table, "rows": rows, "chart": charts.render(table)}
    return render(request, "insights/organisation.html", context)
