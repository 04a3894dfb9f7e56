"""Pages of admin-led matching: settings with preview, runs, review and publishing.

Thin: parse with a form, call one service or selector, render. htmx requests get the partial
that changed; without JavaScript every action is a normal form post that redirects back.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from peermentor.accounts.http import AuthenticatedHttpRequest
from peermentor.core.errors import ApplicationError
from peermentor.core.htmx import is_htmx, redirect_back
from peermentor.core.pagination import paginate
from peermentor.matches import selectors, services
from peermentor.matches.adapter import MATCHABLE_FORMATS, stored_policy
from peermentor.matches.forms import ManualPairForm, SettingsForms, StartRunForm
from peermentor.matches.models import MatchRun
from peermentor.matches.permissions import get_managed_program, get_proposal_for, get_run_for
from peermentor.programs.models import Format, Track


def _track_of(program: Any, raw: Any) -> Track | None:
    if not raw:
        return None
    try:
        return program.tracks.get(pk=int(raw))
    except (Track.DoesNotExist, ValueError, TypeError):
        raise Http404("No such track.") from None


# --- settings ------------------------------------------------------------------------------------
@login_required
@require_http_methods(["GET", "POST"])
def settings_page(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    program = get_managed_program(request.user, pk)
    if program.format not in MATCHABLE_FORMATS:
        raise Http404("This program is not matched by match runs.")
    track = _track_of(program, request.GET.get("track") or request.POST.get("track"))
    preview = None
    if request.method == "POST":
        forms = SettingsForms(program, stored_policy(program, track), data=request.POST)
        if forms.is_valid():
            try:
                if request.POST.get("action") == "preview":
                    preview = services.matching_preview(
                        actor=request.user, program=program, track=track, policy=forms.policy()
                    )
                else:
                    services.matching_settings_save(
                        actor=request.user,
                        program=program,
                        track=track,
                        policy=forms.policy(),
                        allow_repeat_pairs=forms.allow_repeat_pairs(),
                    )
                    messages.success(request, "Matching settings saved.")
                    url = reverse("match_settings", args=[program.pk])
                    return redirect(f"{url}?track={track.pk}" if track else url)
            except ApplicationError as error:
                forms.add_error(error.field, error.message)
    else:
        forms = SettingsForms(program, stored_policy(program, track))
    return render(
        request,
        "matches/settings.html",
        {
            "program": program,
            "track": track,
            "tracks": program.tracks.all(),
            "forms": forms,
            "preview": preview,
            "is_bipartite": program.format in (Format.SHADOWING, Format.BUDDIES),
        },
        status=200,
    )


# --- runs ----------------------------------------------------------------------------------
@login_required
@require_http_methods(["GET", "POST"])
def run_list(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    program = get_managed_program(request.user, pk)
    form = StartRunForm(request.POST if request.method == "POST" else None, program=program)
    if request.method == "POST" and form.is_valid():
        try:
            run = services.match_run_start(
                actor=request.user,
                program=program,
                track=form.cleaned_data.get("track"),
                seed=form.cleaned_data.get("seed"),
            )
        except ApplicationError as error:
            form.add_error(None, error.message)
        else:
            return redirect("match_run_detail", pk=run.pk)
    runs = paginate(request, selectors.run_list(viewer=request.user, program=program))
    return render(
        request,
        "matches/run_list.html",
        {
            "program": program,
            "form": form,
            "page": runs,
            "is_matchable": program.format in MATCHABLE_FORMATS,
        },
    )


def _run_context(request: AuthenticatedHttpRequest, run: Any) -> dict[str, Any]:
    context: dict[str, Any] = {"run": run, "program": run.program}
    if run.status == "succeeded":
        filters = selectors.ProposalFilters.from_query(request.GET)
        page = paginate(
            request, selectors.proposal_list(viewer=request.user, run=run, filters=filters)
        )
        query = request.GET.copy()
        query.pop("page", None)
        context.update(
            filters=filters,
            page=page,
            query=query.urlencode(),
            departments=selectors.run_departments(viewer=request.user, run=run),
            counts=selectors.run_counts(viewer=request.user, run=run),
            is_circles=run.program.format == Format.CIRCLES,
            here=request.get_full_path(),
        )
    return context


@login_required
@require_GET
def run_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    run = get_run_for(request.user, pk)
    return render(request, "matches/run_detail.html", _run_context(request, run))


@login_required
@require_GET
def run_status(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """The polled progress block; once the run is over the whole page reloads with results."""
    run = get_run_for(request.user, pk)
    response = render(request, "matches/_run_status.html", {"run": run})
    if not run.is_active and is_htmx(request):
        response["HX-Refresh"] = "true"
    return response


@login_required
@require_POST
def run_cancel(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    run = get_run_for(request.user, pk)
    try:
        services.match_run_cancel(actor=request.user, run=run)
        messages.success(request, "The run was cancelled.")
    except ApplicationError as error:
        messages.error(request, error.message)
    return redirect("match_run_detail", pk=run.pk)


@login_required
@require_POST
def run_rerun(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    run = get_run_for(request.user, pk)
    try:
        new_run = services.match_run_rerun(actor=request.user, run=run)
    except ApplicationError as error:
        messages.error(request, error.message)
        return redirect("match_run_detail", pk=run.pk)
    messages.success(request, "Re-running for everyone but the locked proposals.")
    return redirect("match_run_detail", pk=new_run.pk)


@login_required
@require_GET
def run_unmatched(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    run = get_run_for(request.user, pk)
    page = paginate(request, selectors.unmatched_list(viewer=request.user, run=run))
    return render(request, "matches/run_unmatched.html", {"run": run, "page": page})


# --- review ----------------------------------------------------------------------------------
def _proposal_action(request: AuthenticatedHttpRequest, pk: int, action: str) -> HttpResponse:
    proposal = get_proposal_for(request.user, pk)
    value = request.POST.get("value") == "on"
    try:
        if action == "lock":
            proposal = services.proposal_set_locked(
                actor=request.user, proposal=proposal, is_locked=value
            )
        else:
            proposal = services.proposal_set_excluded(
                actor=request.user, proposal=proposal, is_excluded=value
            )
        error = ""
    except ApplicationError as failure:
        error = failure.message
    if is_htmx(request):
        # The row, and the run's summary swapped out of band: its totals changed with the edit.
        row = selectors.proposal_row(viewer=request.user, proposal=proposal)
        run = MatchRun.objects.select_related("program").get(pk=proposal.run_id)
        return render(
            request,
            "matches/_proposal_row_and_summary.html",
            {
                "proposal": row,
                "run": run,
                "counts": selectors.run_counts(viewer=request.user, run=run),
                "error": error,
                "here": request.POST.get("next", ""),
                "oob": True,
            },
        )
    if error:
        messages.error(request, error)
    return redirect_back(request, reverse("match_run_detail", args=[proposal.run_id]))


@login_required
@require_POST
def proposal_lock(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    return _proposal_action(request, pk, "lock")


@login_required
@require_POST
def proposal_exclude(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    return _proposal_action(request, pk, "exclude")


def _manual_form(request: AuthenticatedHttpRequest, run: Any, data: Any) -> ManualPairForm:
    return ManualPairForm(
        data,
        participants=selectors.pairable_participants(viewer=request.user, run=run),
        is_circles=run.program.format == Format.CIRCLES,
    )


PICKERS = ("first", "second")


def _picker(
    request: AuthenticatedHttpRequest, run: Any, form: ManualPairForm, name: str, data: Any
) -> dict[str, Any]:
    """One person picker: its label, search text, the person chosen and who matches."""
    data = data or {}
    chosen: Any = None
    if form.is_bound and not form.errors.get(name) and form.cleaned_data.get(name):
        chosen = form.cleaned_data[name]
    elif str(data.get(name, "")).isdigit():
        chosen = int(data[name])
    search = selectors.pairable_search(
        viewer=request.user, run=run, query=data.get(f"{name}_q", ""), chosen=chosen
    )
    return {
        "name": name,
        "label": form.fields[name].label,
        "search": search,
        "errors": form.errors.get(name) if form.is_bound else None,
        "limit": selectors.SEARCH_LIMIT,
    }


@login_required
@require_http_methods(["GET", "POST"])
def manual_pair(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Two person pickers (search by name or e-mail, at most 20 shown), the live check, and
    confirm. Without JavaScript, "Search" re-renders the page with the matches."""
    run = get_run_for(request.user, pk)
    data = request.POST if request.method == "POST" else (request.GET or None)
    # Searching, or a link that names one person, shows the pickers without "required" errors.
    searching = data is not None and (
        data.get("action") == "search"
        or (request.method == "GET" and not (data.get("first") and data.get("second")))
    )
    form = _manual_form(request, run, None if searching else data)
    check = None
    if form.is_bound and form.is_valid():
        first, second = form.cleaned_data["first"], form.cleaned_data["second"]
        if request.method == "POST" and request.POST.get("action") == "confirm":
            try:
                services.proposal_create_manual(
                    actor=request.user, run=run, first=first, second=second
                )
            except ApplicationError as error:
                form.add_error(None, error.message)
            else:
                messages.success(request, "Matched by hand; the proposal is locked.")
                return redirect("match_run_detail", pk=run.pk)
        check = selectors.manual_pair_check(
            viewer=request.user, run=run, first=first, second=second
        )
    pickers = [_picker(request, run, form, name, data) for name in PICKERS]
    first, second = (picker["search"].chosen for picker in pickers)
    if check is None and searching and first is not None and second is not None:
        check = selectors.manual_pair_check(
            viewer=request.user, run=run, first=first, second=second
        )
    return render(
        request,
        "matches/manual_pair.html",
        {"run": run, "form": form, "check": check, "pickers": pickers},
    )


@login_required
@require_GET
def manual_pair_search(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """The people of the run matching `<field>_q` for one picker (`field` = first|second),
    with the one chosen kept first (htmx partial; at most 20)."""
    run = get_run_for(request.user, pk)
    name = request.GET.get("field", "")
    if name not in PICKERS:
        return HttpResponseBadRequest("Say which person you are choosing: first or second.")
    form = _manual_form(request, run, None)
    picker = _picker(request, run, form, name, request.GET)
    return render(request, "matches/_person_choices.html", {"run": run, "picker": picker})


@login_required
@require_GET
def manual_pair_check(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """The live score, reasons and warnings of a pair being chosen (htmx partial)."""
    run = get_run_for(request.user, pk)
    form = _manual_form(request, run, request.GET)
    check = None
    if form.is_valid():
        check = selectors.manual_pair_check(
            viewer=request.user,
            run=run,
            first=form.cleaned_data["first"],
            second=form.cleaned_data["second"],
        )
    return render(request, "matches/_pair_check.html", {"run": run, "check": check})
