"""Pages of the help network. Thin: parse, call one selector or service, render or redirect.

Outsiders get 404 from the selectors; people who may see but not do get 403 (the services
raise PermissionDenied); a request the service refuses comes back as a message or a field error.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from peermentor.accounts.http import AuthenticatedHttpRequest
from peermentor.core.errors import ApplicationError
from peermentor.core.forms import run_action, show_error
from peermentor.core.htmx import is_htmx
from peermentor.helpnetwork import selectors, services
from peermentor.helpnetwork.forms import (
    AnswerForm,
    AskForm,
    CloseForm,
    InviteForm,
    OfferForm,
    ThankForm,
)


def _ask_url(pk: int) -> str:
    return reverse("help_ask_detail", args=[pk])


@login_required
@require_GET
def help_home(request: AuthenticatedHttpRequest) -> HttpResponse:
    return render(
        request, "helpnetwork/home.html", {"home": selectors.help_home(viewer=request.user)}
    )


@login_required
@require_http_methods(["GET", "POST"])
def help_ask_create(request: AuthenticatedHttpRequest, program_pk: int) -> HttpResponse:
    access = selectors.get_help_program_for(viewer=request.user, pk=program_pk, take_part=True)
    form = AskForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            ask = services.help_ask_create(
                actor=request.user,
                program=access.program,
                skill=form.cleaned_data["skill"],
                description=form.cleaned_data["description"],
                preferred_times=form.preferred_times(),
                expires_in_days=form.cleaned_data["expires_in_days"],
            )
        except ApplicationError as error:
            show_error(form, error)
        else:
            messages.success(request, "Your ask is open. Invite people from the suggestions.")
            return redirect(_ask_url(ask.pk))
    return render(request, "helpnetwork/ask_form.html", {"form": form, "program": access.program})


@login_required
@require_GET
def help_asks(request: AuthenticatedHttpRequest, program_pk: int) -> HttpResponse:
    result = selectors.open_asks(
        viewer=request.user,
        program_pk=program_pk,
        skill_id=request.GET.get("skill"),
        page_number=request.GET.get("page"),
    )
    template = "helpnetwork/_ask_rows.html" if is_htmx(request) else "helpnetwork/asks.html"
    return render(request, template, {"result": result})


@login_required
@require_GET
def help_ask_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    page = selectors.ask_page(viewer=request.user, pk=pk)
    return render(
        request,
        "helpnetwork/ask_detail.html",
        {"page": page, "offer_form": OfferForm(), "answer_form": AnswerForm()},
    )


@login_required
@require_POST
def help_offer_create(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    access = selectors.get_ask_for(viewer=request.user, pk=pk)
    form = OfferForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
        return redirect(_ask_url(access.ask.pk))
    return run_action(
        request,
        lambda: services.help_offer_create(
            actor=request.user, ask=access.ask, message=form.cleaned_data["message"]
        ),
        success="Your offer is sent. You will hear when the asker chooses.",
        next_url=_ask_url(access.ask.pk),
    )


@login_required
@require_POST
def help_ask_invite(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    access = selectors.get_ask_for(viewer=request.user, pk=pk)
    if not access.is_asker:
        raise PermissionDenied("Only the asker invites people to help.")
    form = InviteForm(request.POST)
    helper = (
        selectors.program_participant(program=access.ask.program, pk=form.cleaned_data["helper"])
        if form.is_valid()
        else None
    )
    if helper is None:
        messages.error(request, "Choose someone from the suggestions.")
        return redirect(_ask_url(access.ask.pk))
    return run_action(
        request,
        lambda: services.help_ask_invite(actor=request.user, ask=access.ask, helper=helper),
        success=f"{helper.person.full_name} is invited to look at your ask.",
        next_url=_ask_url(access.ask.pk),
    )


@login_required
@require_http_methods(["GET", "POST"])
def help_ask_close(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    access = selectors.get_ask_for(viewer=request.user, pk=pk)
    if not (access.is_asker or access.is_manager):
        raise PermissionDenied("Only the asker or the program's managers may close this ask.")
    form = CloseForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.help_ask_close(
                actor=request.user, ask=access.ask, reason=form.cleaned_data["reason"]
            )
        except ApplicationError as error:
            show_error(form, error)
        else:
            messages.success(request, "The ask is closed.")
            return redirect(_ask_url(access.ask.pk))
    return render(request, "helpnetwork/close.html", {"form": form, "ask": access.ask})


@login_required
@require_POST
def help_offer_withdraw(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    access = selectors.get_offer_for(viewer=request.user, pk=pk)
    return run_action(
        request,
        lambda: services.help_offer_withdraw(actor=request.user, offer=access.offer),
        success="Your offer is withdrawn.",
        next_url=_ask_url(access.offer.ask_id),
    )


@login_required
@require_POST
def help_offer_accept(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    access = selectors.get_offer_for(viewer=request.user, pk=pk)
    try:
        connection = services.help_offer_accept(actor=request.user, offer=access.offer)
    except ApplicationError as error:
        messages.error(request, error.message)
        return redirect(_ask_url(access.offer.ask_id))
    messages.success(
        request,
        f"You and {access.offer.helper.person.full_name} are connected for a flash meeting.",
    )
    return redirect("workspace", pk=connection.pk)


@login_required
@require_http_methods(["GET", "POST"])
def help_ask_thank(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    access = selectors.get_ask_for(viewer=request.user, pk=pk)
    if not access.is_asker:
        raise PermissionDenied("Only the asker sends the thank-you.")
    form = ThankForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.help_thank(
                actor=request.user, ask=access.ask, message=form.cleaned_data["message"]
            )
        except ApplicationError as error:
            show_error(form, error)
        else:
            messages.success(request, "Your thank-you is sent.")
            return redirect(_ask_url(access.ask.pk))
    return render(request, "helpnetwork/thank.html", {"form": form, "ask": access.ask})


@login_required
@require_POST
def help_ongoing_propose(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    access = selectors.get_ask_for(viewer=request.user, pk=pk)
    return run_action(
        request,
        lambda: services.help_ongoing_propose(actor=request.user, ask=access.ask),
        success="Asked. You will hear when they answer.",
        next_url=_ask_url(access.ask.pk),
    )


@login_required
@require_POST
def help_ongoing_answer(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    access = selectors.get_ask_for(viewer=request.user, pk=pk)
    form = AnswerForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose yes or no.")
        return redirect(_ask_url(access.ask.pk))
    accept = form.cleaned_data["accept"]
    try:
        pair = services.help_ongoing_answer(actor=request.user, ask=access.ask, accept=accept)
    except ApplicationError as error:
        messages.error(request, error.message)
        return redirect(_ask_url(access.ask.pk))
    if accept:
        messages.success(request, "You are connected: plan your first meeting.")
        return redirect("workspace", pk=pair.pk)
    messages.success(request, "Declined. Thank you for answering.")
    return redirect(_ask_url(access.ask.pk))
