"""Program pages: thin views that parse a form, call one service or selector, and render.

Fetching goes through `get_program_for`, so outsiders get 404 and read-only members 403.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from peermentor.accounts.http import AuthenticatedHttpRequest
from peermentor.core.forms import handle_form, run_action
from peermentor.core.pagination import paginate
from peermentor.programs import services
from peermentor.programs.defaults import GOAL_DESCRIPTIONS, METRICS, program_defaults
from peermentor.programs.forms import (
    FIELD_ALIASES,
    GoalsForm,
    ManagerForm,
    ProgramCreateForm,
    ProgramEditForm,
    TrackForm,
    TransitionForm,
)
from peermentor.programs.models import (
    Format,
    Goal,
    ProgramStatus,
    Track,
)
from peermentor.programs.permissions import can_assign_managers, can_create_program, get_program_for
from peermentor.programs.selectors import program_detail, program_history, program_list


# --- list and create -------------------------------------------------------------------------
@login_required
@require_GET
def program_list_view(request: AuthenticatedHttpRequest) -> HttpResponse:
    status = request.GET.get("status") or ""
    search = request.GET.get("q") or ""
    page = paginate(request, program_list(viewer=request.user, status=status, search=search))
    return render(
        request,
        "programs/program_list.html",
        {
            "page": page,
            "status": status,
            "search": search,
            "query": urlencode({"status": status, "q": search}),
            "statuses": ProgramStatus.choices,
            "can_create": can_create_program(request.user),
        },
    )


def _preview_context(goals: list[str], program_format: str | None) -> dict[str, Any]:
    chosen_format = program_format if program_format in Format.values else None
    defaults = program_defaults(goals, chosen_format)
    return {
        "defaults": defaults,
        "format_label": Format(defaults.format).label,
        "metric_labels": [METRICS[m["key"]].label for m in defaults.success_metrics],
    }


@login_required
@require_http_methods(["GET", "POST"])
def program_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Step 1 picks goals (GET); step 2 shows the settings they pre-fill (GET with goals);
    posting step 2 creates the program."""
    if not can_create_program(request.user):
        raise PermissionDenied("Only organisation admins create programs.")
    if request.method == "POST":
        form = ProgramCreateForm(request.POST)
        done = handle_form(
            request,
            form,
            lambda data: services.program_create(
                actor=request.user, goals=data["goals"], **form.settings()
            ),
            success="Program created as a draft with suggested questions, training and matching "
            "rules. Review them, then open enrollment.",
            next_url=lambda program: reverse("program_detail", args=[program.pk]),
        )
        if done:
            return done
        goals = request.POST.getlist("goals")
        return render(
            request,
            "programs/program_create_settings.html",
            {"form": form, "goal_labels": _goal_labels(goals), **_preview(goals, request.POST)},
        )
    goals_form = GoalsForm(request.GET if "step" in request.GET else None)
    if not goals_form.is_valid():
        return render(
            request,
            "programs/program_create_goals.html",
            {
                "form": goals_form,
                "goal_options": [
                    (value, label, GOAL_DESCRIPTIONS[value], value in request.GET.getlist("goals"))
                    for value, label in Goal.choices
                ],
            },
        )
    goals = goals_form.cleaned_data["goals"]
    defaults = program_defaults(goals)
    form = ProgramCreateForm(
        initial={
            "goals": goals,
            "format": defaults.format,
            "default_capacity": defaults.default_capacity,
            "group_size_min": defaults.group_size[0],
            "group_size_max": defaults.group_size[1],
        }
    )
    return render(
        request,
        "programs/program_create_settings.html",
        {"form": form, "goal_labels": _goal_labels(goals), **_preview(goals, {})},
    )


def _goal_labels(goals: list[str]) -> list[str]:
    return [Goal(goal).label for goal in goals if goal in Goal.values]


def _preview(goals: list[str], data: Any) -> dict[str, Any]:
    goals = [goal for goal in goals if goal in Goal.values]
    return _preview_context(goals, data.get("format"))


@login_required
@require_GET
def program_defaults_preview(request: AuthenticatedHttpRequest) -> HttpResponse:
    """What a new program with these goals and format starts with (htmx partial)."""
    if not can_create_program(request.user):
        raise PermissionDenied("Only organisation admins create programs.")
    return render(
        request,
        "programs/_defaults_preview.html",
        _preview(request.GET.getlist("goals"), request.GET),
    )


# --- the program page -----------------------------------------------------------------------
def _render_detail(
    request: AuthenticatedHttpRequest,
    program: Any,
    *,
    transition_form: TransitionForm | None = None,
) -> HttpResponse:
    context = program_detail(viewer=request.user, program=program)
    context["transition_form"] = transition_form or TransitionForm()
    return render(request, "programs/program_detail.html", context)


@login_required
@require_GET
def program_detail_view(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    program = get_program_for(request.user, pk)
    return _render_detail(request, program)


@login_required
@require_http_methods(["GET", "POST"])
def program_edit(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    program = get_program_for(request.user, pk, write=True)
    form = ProgramEditForm(request.POST or None, program=program)
    done = handle_form(
        request,
        form,
        lambda _: services.program_update(
            actor=request.user, program=program, data=form.update_data()
        ),
        success="Program settings saved.",
        next_url=reverse("program_detail", args=[program.pk]),
        aliases=FIELD_ALIASES,
    )
    return done or render(request, "programs/program_edit.html", {"program": program, "form": form})


@login_required
@require_GET
def program_history_view(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    program = get_program_for(request.user, pk, write=True)
    page = paginate(request, program_history(viewer=request.user, program=program))
    return render(request, "programs/program_history.html", {"program": program, "page": page})


# --- tracks ---------------------------------------------------------------------------------
@login_required
@require_http_methods(["GET", "POST"])
def program_tracks(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    program = get_program_for(request.user, pk, write=True)
    form = TrackForm(request.POST or None)
    done = handle_form(
        request,
        form,
        lambda data: services.track_create(
            actor=request.user,
            program=program,
            name=data["name"],
            description=data["description"],
            eligibility=form.eligibility(),
        ),
        success="Track added.",
        next_url=reverse("program_tracks", args=[program.pk]),
        aliases=FIELD_ALIASES,
    )
    return done or render(
        request,
        "programs/tracks.html",
        {"program": program, "tracks": program.tracks.all(), "form": form},
    )


@login_required
@require_http_methods(["GET", "POST"])
def program_track_edit(request: AuthenticatedHttpRequest, pk: int, track_pk: int) -> HttpResponse:
    program = get_program_for(request.user, pk, write=True)
    track = get_object_or_404(Track, pk=track_pk, program=program)
    initial = {
        "name": track.name,
        "description": track.description,
        **TrackForm.initial_from(track.eligibility or {}),
    }
    form = TrackForm(request.POST or None, initial=initial)
    done = handle_form(
        request,
        form,
        lambda data: services.track_update(
            actor=request.user,
            track=track,
            name=data["name"],
            description=data["description"],
            eligibility=form.eligibility(),
        ),
        success="Track saved.",
        next_url=reverse("program_tracks", args=[program.pk]),
        aliases=FIELD_ALIASES,
    )
    return done or render(
        request, "programs/track_edit.html", {"program": program, "track": track, "form": form}
    )


@login_required
@require_http_methods(["GET", "POST"])
def program_track_delete(request: AuthenticatedHttpRequest, pk: int, track_pk: int) -> HttpResponse:
    program = get_program_for(request.user, pk, write=True)
    track = get_object_or_404(Track, pk=track_pk, program=program)
    if request.method == "POST":
        moved = services.track_delete(actor=request.user, track=track)
        messages.success(
            request,
            f"Track deleted; {moved} participant(s) are now in the program without a track.",
        )
        return redirect("program_tracks", pk=program.pk)
    return render(
        request,
        "programs/confirm_delete.html",
        {
            "program": program,
            "thing": f"the track “{track.name}”",
            "consequence": f"Its {track.participants.count()} participant(s) stay in the program "
            "without a track.",
            "cancel_url": reverse("program_tracks", args=[program.pk]),
        },
    )


# --- managers -------------------------------------------------------------------------------
@login_required
@require_http_methods(["GET", "POST"])
def program_managers(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    program = get_program_for(request.user, pk, write=True)
    form = ManagerForm(request.POST or None)
    done = handle_form(
        request,
        form,
        lambda data: services.program_manager_add(
            actor=request.user, program=program, email=data["email"]
        ),
        success=lambda _: f"{form.cleaned_data['email']} now manages this program.",
        next_url=reverse("program_managers", args=[program.pk]),
    )
    return done or render(
        request,
        "programs/managers.html",
        {
            "program": program,
            "managers": program.manager_links.select_related("user").order_by("added_at"),
            "form": form,
            "can_assign": can_assign_managers(request.user, program),
        },
    )


@login_required
@require_POST
def program_manager_remove(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    program = get_program_for(request.user, pk, write=True)
    email = request.POST.get("email", "")
    return run_action(
        request,
        lambda: services.program_manager_remove(actor=request.user, program=program, email=email),
        success=f"{email} no longer manages this program.",
        next_url=reverse("program_managers", args=[program.pk]),
    )
