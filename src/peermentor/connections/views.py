"""Connection pages: thin views that parse a form, call one service or selector, and render.

Fetching goes through `get_connection_for` (members and the program's managers; everyone else
gets 404) and `get_program_for` (program pages); a viewer who may see a connection but not do
the thing asked gets 403.
"""

from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from peermentor.accounts.http import AuthenticatedHttpRequest
from peermentor.connections import selectors, services
from peermentor.connections.forms import (
    BlockForm,
    ExtendForm,
    ReflectionForm,
    ReportForm,
    ReviewForm,
)
from peermentor.connections.models import ConnectionStatus, ReportStatus
from peermentor.core.errors import ApplicationError
from peermentor.core.forms import handle_form
from peermentor.core.htmx import is_htmx


@login_required
@require_GET
def my_connections(request: AuthenticatedHttpRequest) -> HttpResponse:
    page = selectors.my_connections(viewer=request.user, page_number=request.GET.get("page"))
    return render(request, "connections/my_connections.html", {"page": page})


@login_required
@require_GET
def connection_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    detail = selectors.connection_detail(viewer=request.user, pk=pk)
    return render(request, "connections/connection_detail.html", {"detail": detail})


@login_required
@require_GET
def connection_history(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    detail = selectors.connection_history(viewer=request.user, pk=pk)
    return render(request, "connections/connection_history.html", {"detail": detail})


# --- actions on one connection ----------------------------------------------------------------
def _form_page(
    request: HttpRequest,
    detail: selectors.ConnectionDetail,
    form: forms.Form,
    *,
    title: str,
    intro: str,
    submit: str,
    is_danger: bool = False,
) -> HttpResponse:
    template = (
        "connections/_action_panel.html" if is_htmx(request) else "connections/action_form.html"
    )
    context = {
        "detail": detail,
        "form": form,
        "title": title,
        "intro": intro,
        "submit": submit,
        "is_danger": is_danger,
        "action_url": request.path,
    }
    return render(request, template, context)


def _refuse_if_not_active(request: HttpRequest, detail: selectors.ConnectionDetail) -> Any:
    if detail.connection.status != ConnectionStatus.ACTIVE:
        messages.error(
            request,
            f"This connection is {detail.connection.get_status_display().lower()}: "
            "only an active connection can end.",
        )
        return redirect("connection_detail", pk=detail.connection.pk)
    return None


@login_required
@require_http_methods(["GET", "POST"])
def connection_extend(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    detail = selectors.connection_detail(viewer=request.user, pk=pk)
    if not detail.is_manager:
        raise PermissionDenied("Only the program's managers extend connections.")
    initial = {"planned_end_on": detail.connection.planned_end_on}
    form = ExtendForm(request.POST or None, initial=initial)
    done = handle_form(
        request,
        form,
        lambda data: services.connection_extend(
            actor=request.user, connection=detail.connection, **data
        ),
        success="Planned end moved.",
        next_url=reverse("connection_detail", args=[pk]),
    )
    return done or _form_page(
        request,
        detail,
        form,
        title="Extend this connection",
        intro="Give the connection a later planned end.",
        submit="Extend",
    )


@login_required
@require_http_methods(["GET", "POST"])
def connection_reflect(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    detail = selectors.connection_detail(viewer=request.user, pk=pk)
    if not detail.is_member:
        raise PermissionDenied("Only the connection's members reflect on it.")
    if not detail.may_reflect:
        messages.info(
            request,
            "You have already shared your reflection."
            if detail.my_reflection
            else "Reflections open once the connection has ended.",
        )
        return redirect("connection_detail", pk=pk)
    form = ReflectionForm(request.POST or None)
    done = handle_form(
        request,
        form,
        lambda data: services.reflection_submit(
            actor=request.user, connection=detail.connection, **data
        ),
        success="Thank you for your reflection.",
        next_url=reverse("connection_detail", args=[pk]),
    )
    return done or _form_page(
        request,
        detail,
        form,
        title="Reflect on this connection",
        intro="A few lines for yourself and, if you agree, for the program report.",
        submit="Share reflection",
    )


def _partners(detail: selectors.ConnectionDetail) -> dict[int, Any]:
    return {m.participant.person.pk: m.participant.person for m in detail.partners}


@login_required
@require_http_methods(["GET", "POST"])
def connection_block(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    detail = selectors.connection_detail(viewer=request.user, pk=pk)
    if not detail.is_member:
        raise PermissionDenied("Only the connection's members can block one another.")
    people = _partners(detail)
    form = BlockForm(
        request.POST or None, people=[(pk, person.full_name) for pk, person in people.items()]
    )
    done = handle_form(
        request,
        form,
        lambda data: services.block_person(
            actor=request.user,
            blocked=people[data["person"]],
            reason=data["reason"],
            connection=detail.connection,
        ),
        success="Done. You will not be matched with this person again.",
        next_url=reverse("connection_detail", args=[pk]),
    )
    if done:
        return done
    one_to_one = len(detail.partners) == 1 and detail.connection.is_current
    return _form_page(
        request,
        detail,
        form,
        title="Block someone",
        intro=(
            "You will never be proposed to this person again, in any program."
            + (" This also ends this connection." if one_to_one else "")
        ),
        submit="Block",
        is_danger=True,
    )


@login_required
@require_http_methods(["GET", "POST"])
def connection_report(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    detail = selectors.connection_detail(viewer=request.user, pk=pk)
    if not detail.is_member:
        raise PermissionDenied("Only the connection's members report from it.")
    people = _partners(detail)
    form = ReportForm(
        request.POST or None, people=[(pk, person.full_name) for pk, person in people.items()]
    )
    done = handle_form(
        request,
        form,
        lambda data: services.report_person(
            actor=request.user,
            reported=people[data["person"]],
            text=data["text"],
            connection=detail.connection,
        ),
        success="Thank you. The program team will look at your report.",
        next_url=reverse("connection_detail", args=[pk]),
    )
    return done or _form_page(
        request,
        detail,
        form,
        title="Report a concern",
        intro="Tell the program team about behaviour that worried you.",
        submit="Send report",
    )


# --- safety reports -----------------------------------------------------------------------------
@login_required
@require_GET
def report_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    status = request.GET.get("status", ReportStatus.OPEN)
    if status not in ReportStatus.values:
        status = ""
    page = selectors.report_list(
        viewer=request.user, status=status or None, page_number=request.GET.get("page")
    )
    return render(
        request,
        "connections/report_list.html",
        {
            "page": page,
            "status": status,
            "statuses": ReportStatus.choices,
            "query": urlencode({"status": status}),
        },
    )


@login_required
@require_POST
def report_review(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    report = selectors.get_report_for(viewer=request.user, pk=pk)
    form = ReviewForm(request.POST)
    if form.is_valid():
        try:
            services.report_review(actor=request.user, report=report, **form.cleaned_data)
        except ApplicationError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, "Report marked as reviewed.")
    else:
        problems = [str(problem) for problem in form.errors.get("note", [])]
        messages.error(request, " ".join(problems) or "Check the note.")
    return redirect("report_list")
