"""Pages of self-match: recommendations, sending and answering requests, the managers' list.

Thin: parse with a form, call one service or selector, render. htmx requests get the partial
that changed (a recommendation card, a request row); without JavaScript every action is a
normal form post that redirects back with a message.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from peermentor.accounts.http import AuthenticatedHttpRequest
from peermentor.core.errors import ApplicationError
from peermentor.core.forms import handle_form, show_error
from peermentor.core.htmx import is_htmx, redirect_back
from peermentor.programs.permissions import get_program_for
from peermentor.selfmatch import selectors, services
from peermentor.selfmatch.forms import (
    BlockForm,
    DeclineForm,
    RecommendationFilterForm,
    ReportForm,
    RequestSendForm,
    SelfMatchSettingsForm,
)
from peermentor.selfmatch.models import RequestStatus


# --- recommendations ------------------------------------------------------------------------
@login_required
@require_GET
def recommendations(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    program = selectors.get_self_match_program(request.user, pk)
    form = RecommendationFilterForm(request.GET)
    page = selectors.recommendations_page(
        viewer=request.user, program=program, filters=form.filters(), top=form.top()
    )
    context = {"program": program, "form": form, "page": page, "send_form": RequestSendForm()}
    if is_htmx(request) and request.headers.get("HX-Target") == "recommendation-list":
        return render(request, "selfmatch/_recommendation_list.html", context)
    return render(request, "selfmatch/recommendations.html", context)


@login_required
@require_POST
def request_send(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    program = selectors.get_self_match_program(request.user, pk)
    form = RequestSendForm(request.POST)
    back = reverse("match_recommendations", args=[program.pk])
    error = ""
    sent = None
    recipient = None
    if not form.is_valid():
        error = "; ".join(str(message) for errors in form.errors.values() for message in errors)
    else:
        recipient = selectors.participant_in(program=program, pk=form.cleaned_data["recipient"])
        if recipient is None:
            error = "That person is not taking part in this program."
        else:
            try:
                sent = services.request_send(
                    actor=request.user,
                    program=program,
                    recipient=recipient,
                    message=form.cleaned_data["message"],
                )
            except ApplicationError as problem:
                error = problem.message
    if is_htmx(request):
        # Always 200: htmx swaps nothing on a 4xx, and the card must show the refusal.
        return render(
            request,
            "selfmatch/_send_result.html",
            {
                "program": program,
                "sent": sent,
                "error": error,
                "recipient_id": request.POST.get("recipient", ""),
                "recipient_name": recipient.person.full_name if recipient else "them",
                "message": request.POST.get("message", ""),
            },
        )
    if sent is not None:
        messages.success(
            request,
            f"Request sent to {sent.recipient.person.full_name}. You will hear when they answer.",
        )
    else:
        messages.error(request, error)
    return redirect_back(request, back)


# --- my requests ----------------------------------------------------------------------------
@login_required
@require_GET
def request_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    result = selectors.my_requests(
        viewer=request.user,
        box=request.GET.get("box", "incoming"),
        page_number=request.GET.get("page"),
    )
    return render(
        request,
        "selfmatch/request_list.html",
        {"result": result, "decline_form": DeclineForm()},
    )


@login_required
@require_GET
def request_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    match_request = selectors.get_request_for(viewer=request.user, pk=pk)
    return render(
        request,
        "selfmatch/request_detail.html",
        {"match_request": match_request, "decline_form": DeclineForm()},
    )


def _after_action(request: AuthenticatedHttpRequest, pk: int, done: str) -> HttpResponse:
    """htmx: the request's row as it is now; otherwise back where the action came from."""
    if is_htmx(request):
        match_request = selectors.get_request_for(viewer=request.user, pk=pk)
        return render(
            request,
            "selfmatch/_request_row.html",
            {"match_request": match_request, "notice": done, "decline_form": DeclineForm()},
        )
    messages.success(request, done)
    return redirect_back(request, reverse("match_request_detail", args=[pk]))


def _refused(request: AuthenticatedHttpRequest, pk: int, error: ApplicationError) -> HttpResponse:
    """The refusal beside the request (htmx: in its row, with 200 so that htmx swaps it)."""
    if is_htmx(request):
        match_request = selectors.get_request_for(viewer=request.user, pk=pk)
        return render(
            request,
            "selfmatch/_request_row.html",
            {"match_request": match_request, "error": error.message, "decline_form": DeclineForm()},
        )
    messages.error(request, error.message)
    return redirect_back(request, reverse("match_request_detail", args=[pk]))


@login_required
@require_POST
def request_accept(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    match_request = selectors.get_request_for(viewer=request.user, pk=pk)
    try:
        match_request = services.request_accept(actor=request.user, request=match_request)
    except ApplicationError as error:
        return _refused(request, pk, error)
    if match_request.status != RequestStatus.ACCEPTED:
        return _refused(request, pk, ApplicationError(match_request.response_note))
    name = match_request.requester.person.full_name
    if not is_htmx(request) and match_request.connection_id:
        messages.success(request, f"You are now connected with {name}.")
        return redirect("connection_detail", pk=match_request.connection_id)
    return _after_action(request, pk, f"You are now connected with {name}.")


@login_required
@require_http_methods(["GET", "POST"])
def request_decline(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    match_request = selectors.get_request_for(viewer=request.user, pk=pk)
    if match_request.viewer_side != "recipient":
        raise PermissionDenied("Only the person who was asked can decline this request.")
    form = DeclineForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            services.request_decline(
                actor=request.user, request=match_request, note=form.cleaned_data["note"]
            )
        except ApplicationError as error:
            if not is_htmx(request):
                show_error(form, error)
            else:
                return _refused(request, pk, error)
        else:
            return _after_action(request, pk, "Request declined. They will be told.")
    return render(
        request,
        "selfmatch/action_form.html",
        {
            "match_request": match_request,
            "form": form,
            "title": "Decline the request",
            "button": "Decline",
            "action": reverse("match_request_decline", args=[pk]),
        },
        status=400 if request.method == "POST" else 200,
    )


@login_required
@require_POST
def request_withdraw(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    match_request = selectors.get_request_for(viewer=request.user, pk=pk)
    try:
        services.request_withdraw(actor=request.user, request=match_request)
    except ApplicationError as error:
        return _refused(request, pk, error)
    return _after_action(request, pk, "Request withdrawn.")


def _safety_page(
    request: AuthenticatedHttpRequest,
    pk: int,
    *,
    form_class: Any,
    service: Any,
    title: str,
    button: str,
    done: str,
    url_name: str,
    field: str,
    explanation: str,
) -> HttpResponse:
    match_request = selectors.get_request_for(viewer=request.user, pk=pk)
    if match_request.viewer_side is None:
        # Managers may look at a request; only its two people block or report.
        raise PermissionDenied("Only the two people in this request can do this.")
    form = form_class(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            service(actor=request.user, request=match_request, **{field: form.cleaned_data[field]})
        except ApplicationError as error:
            form.add_error(field, error.message)
        else:
            messages.success(request, done)
            return redirect("match_request_list")
    return render(
        request,
        "selfmatch/action_form.html",
        {
            "match_request": match_request,
            "form": form,
            "title": title,
            "button": button,
            "explanation": explanation,
            "action": reverse(url_name, args=[pk]),
            "is_danger": True,
        },
        status=400 if request.method == "POST" else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def request_block(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    return _safety_page(
        request,
        pk,
        form_class=BlockForm,
        service=services.request_block,
        title="Block this person",
        button="Block",
        done="Blocked. You will never be recommended to each other or matched again.",
        url_name="match_request_block",
        field="reason",
        explanation=(
            "They will not be told. You will never be recommended to each other or matched, "
            "in any program, and a waiting request between you is closed."
        ),
    )


@login_required
@require_http_methods(["GET", "POST"])
def request_report(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    return _safety_page(
        request,
        pk,
        form_class=ReportForm,
        service=services.request_report,
        title="Report a concern about this person",
        button="Send the report",
        done="Thank you. The organisation's administrators will look into it.",
        url_name="match_request_report",
        field="text",
        explanation=(
            "Only the organisation's administrators read reports. Reporting does not close the "
            "request: block the person as well if you never want to be matched with them."
        ),
    )


# --- managers -------------------------------------------------------------------------------
@login_required
@require_GET
def program_requests(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    program = get_program_for(request.user, pk, write=True)
    result = selectors.program_requests(
        viewer=request.user,
        program=program,
        status=request.GET.get("status", RequestStatus.PENDING),
        page_number=request.GET.get("page"),
    )
    return render(request, "selfmatch/program_requests.html", {"result": result})


@login_required
@require_http_methods(["GET", "POST"])
def self_match_settings(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    program = get_program_for(request.user, pk, write=True)
    current = services.self_match_settings_for(program)
    initial = {
        "request_expiry_days": current.request_expiry_days,
        "max_pending_incoming": current.max_pending_incoming,
        "max_pending_outgoing": current.max_pending_outgoing,
    }
    form = SelfMatchSettingsForm(
        request.POST if request.method == "POST" else None, initial=initial
    )
    saved = handle_form(
        request,
        form,
        lambda data: services.self_match_settings_update(
            actor=request.user, program=program, **data
        ),
        success="Request settings saved.",
        next_url=reverse("program_match_requests", args=[program.pk]),
    )
    if saved is not None:
        return saved
    return render(
        request,
        "selfmatch/settings.html",
        {"program": program, "form": form},
        status=400 if request.method == "POST" else 200,
    )
