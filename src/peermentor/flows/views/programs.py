"""Program pages whose actions span apps: moving its status (closing ends its connections),
copying a program, and its questions and training (whose changes re-check who is ready). Same
addresses and names as the other program pages."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from peermentor.accounts.http import AuthenticatedHttpRequest
from peermentor.core.errors import ApplicationError
from peermentor.core.forms import handle_form
from peermentor.core.htmx import is_htmx
from peermentor.flows import program_close as program_close_flow
from peermentor.flows import program_copy as program_copy_flow
from peermentor.flows import program_setup
from peermentor.programs import services
from peermentor.programs.forms import (
    CloseTrackForm,
    CopyForm,
    QuestionForm,
    TrainingModuleForm,
    TransitionForm,
)
from peermentor.programs.models import (
    ProfileQuestion,
    ProgramStatus,
    Track,
    TrainingModule,
)
from peermentor.programs.permissions import get_program_for
from peermentor.programs.transitions import allowed_transitions
from peermentor.programs.views import _render_detail


@login_required
@require_http_methods(["GET", "POST"])
def program_copy(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    program = get_program_for(request.user, pk, write=True)
    form = CopyForm(request.POST or None, initial={"name": f"{program.name} (next cohort)"})
    done = handle_form(
        request,
        form,
        lambda data: program_copy_flow.program_copy(
            actor=request.user, program=program, name=data["name"]
        ),
        success="Copied as a draft: set the new dates, then open enrollment.",
        next_url=lambda copied: reverse("program_detail", args=[copied.pk]),
    )
    return done or render(request, "programs/program_copy.html", {"program": program, "form": form})


# --- status -----------------------------------------------------------------------------------
@login_required
@require_POST
def program_transition(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """The program page's status buttons. Closing first shows what it will do
    (program_close)."""
    program = get_program_for(request.user, pk, write=True)
    # Closing first shows what it will do; a program that may not close yet gets the usual
    # refusal below, beside the reason typed.
    closing = request.POST.get("to_status") == ProgramStatus.CLOSED
    if closing and ProgramStatus.CLOSED in allowed_transitions(program):
        return program_close(request, pk)
    form = TransitionForm(request.POST)
    done = handle_form(
        request,
        form,
        lambda data: program_close_flow.program_transition(
            actor=request.user,
            program=program,
            to_status=data["to_status"],
            reason=data["reason"],
        ),
        success=lambda _: f"The program is now {program.get_status_display().lower()}.",
        next_url=reverse("program_detail", args=[program.pk]),
    )
    return done or _render_detail(request, program, transition_form=form)


@login_required
@require_http_methods(["GET", "POST"])
def program_close(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """What closing will do (connections completed, proposals dropped, meetings cancelled,
    surveys asked), then, once confirmed, all of it in one transaction."""
    program = get_program_for(request.user, pk, write=True)
    posted = request.POST if request.method == "POST" else None
    form = TransitionForm(
        posted if posted is not None and posted.get("confirm") else None,
        initial={"to_status": ProgramStatus.CLOSED, "reason": request.POST.get("reason", "")},
    )
    done = handle_form(
        request,
        form,
        lambda data: program_close_flow.program_close(
            actor=request.user, program=program, reason=data["reason"]
        ),
        success=lambda result: (
            f"The program is closed: {result.completed} connection"
            f"{'s' if result.completed != 1 else ''} completed, and their members asked to "
            "reflect."
        ),
        next_url=reverse("program_detail", args=[program.pk]),
    )
    return done or render(
        request,
        "programs/program_close.html",
        {
            "program": program,
            "form": form,
            "preview": program_close_flow.closure_preview(program=program),
            "tracks": list(program.tracks.all()),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def track_connections_complete(
    request: AuthenticatedHttpRequest, pk: int, track_pk: int
) -> HttpResponse:
    """Complete every active connection of one track at once (its members reflect)."""
    program = get_program_for(request.user, pk, write=True)
    track = get_object_or_404(Track, pk=track_pk, program=program)
    form = CloseTrackForm(request.POST or None)
    done = handle_form(
        request,
        form,
        lambda data: program_close_flow.track_connections_complete(
            actor=request.user, program=program, track=track, **data
        ),
        success=lambda count: (
            f"{count} connection{'s' if count != 1 else ''} of {track.name} completed."
        ),
        next_url=reverse("program_detail", args=[program.pk]),
    )
    return done or render(
        request,
        "programs/track_complete.html",
        {
            "program": program,
            "track": track,
            "form": form,
            "preview": program_close_flow.closure_preview(program=program, track=track),
        },
    )


# --- profile questions ----------------------------------------------------------------------
def _questions_context(program: Any, form: QuestionForm) -> dict[str, Any]:
    return {"program": program, "questions": list(program.questions.all()), "form": form}


@login_required
@require_http_methods(["GET", "POST"])
def program_questions(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    program = get_program_for(request.user, pk, write=True)
    form = QuestionForm(request.POST or None)
    done = handle_form(
        request,
        form,
        lambda _: program_setup.question_create(
            actor=request.user, program=program, **form.question_data()
        ),
        success="Question added.",
        next_url=reverse("program_questions", args=[program.pk]),
    )
    return done or render(request, "programs/questions.html", _questions_context(program, form))


@login_required
@require_http_methods(["GET", "POST"])
def program_question_edit(
    request: AuthenticatedHttpRequest, pk: int, question_pk: int
) -> HttpResponse:
    program = get_program_for(request.user, pk, write=True)
    question = get_object_or_404(ProfileQuestion, pk=question_pk, program=program)
    form = QuestionForm(request.POST or None, question=question)
    done = handle_form(
        request,
        form,
        lambda _: program_setup.question_update(
            actor=request.user, question=question, **form.question_data()
        ),
        success="Question saved.",
        next_url=reverse("program_questions", args=[program.pk]),
    )
    return done or render(
        request,
        "programs/question_edit.html",
        {"program": program, "question": question, "form": form},
    )


@login_required
@require_http_methods(["GET", "POST"])
def program_question_delete(
    request: AuthenticatedHttpRequest, pk: int, question_pk: int
) -> HttpResponse:
    program = get_program_for(request.user, pk, write=True)
    question = get_object_or_404(ProfileQuestion, pk=question_pk, program=program)
    if request.method == "POST":
        removed = program_setup.question_delete(actor=request.user, question=question)
        note = f" {removed} matching rule(s) that used it were removed too." if removed else ""
        messages.success(request, f"Question deleted.{note}")
        return redirect("program_questions", pk=program.pk)
    return render(
        request,
        "programs/confirm_delete.html",
        {
            "program": program,
            "thing": f"the question “{question.label}”",
            "consequence": "Its answers are deleted, and so are matching rules that use "
            f"“{question.key}”.",
            "cancel_url": reverse("program_questions", args=[program.pk]),
        },
    )


@login_required
@require_POST
def program_question_move(
    request: AuthenticatedHttpRequest, pk: int, question_pk: int
) -> HttpResponse:
    program = get_program_for(request.user, pk, write=True)
    question = get_object_or_404(ProfileQuestion, pk=question_pk, program=program)
    try:
        services.question_move(
            actor=request.user, question=question, direction=request.POST.get("direction", "")
        )
    except ApplicationError as error:
        messages.error(request, error.message)
    if is_htmx(request):
        return render(
            request,
            "programs/_question_list.html",
            _questions_context(program, QuestionForm()),
        )
    return redirect("program_questions", pk=program.pk)


# --- training -------------------------------------------------------------------------------
@login_required
@require_http_methods(["GET", "POST"])
def program_training(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    program = get_program_for(request.user, pk, write=True)
    form = TrainingModuleForm(request.POST or None)
    done = handle_form(
        request,
        form,
        lambda data: program_setup.training_module_create(
            actor=request.user, program=program, **data
        ),
        success="Training module added.",
        next_url=reverse("program_training", args=[program.pk]),
    )
    return done or render(
        request,
        "programs/training.html",
        {"program": program, "modules": program.training_modules.all(), "form": form},
    )


@login_required
@require_http_methods(["GET", "POST"])
def program_training_edit(
    request: AuthenticatedHttpRequest, pk: int, module_pk: int
) -> HttpResponse:
    program = get_program_for(request.user, pk, write=True)
    module = get_object_or_404(TrainingModule, pk=module_pk, program=program)
    form = TrainingModuleForm(request.POST or None, module=module)
    done = handle_form(
        request,
        form,
        lambda data: program_setup.training_module_update(
            actor=request.user, module=module, **data
        ),
        success="Training module saved.",
        next_url=reverse("program_training", args=[program.pk]),
    )
    return done or render(
        request,
        "programs/training_edit.html",
        {"program": program, "module": module, "form": form},
    )


@login_required
@require_http_methods(["GET", "POST"])
def program_training_delete(
    request: AuthenticatedHttpRequest, pk: int, module_pk: int
) -> HttpResponse:
    program = get_program_for(request.user, pk, write=True)
    module = get_object_or_404(TrainingModule, pk=module_pk, program=program)
    if request.method == "POST":
        program_setup.training_module_delete(actor=request.user, module=module)
        messages.success(request, "Training module deleted.")
        return redirect("program_training", pk=program.pk)
    return render(
        request,
        "programs/confirm_delete.html",
        {
            "program": program,
            "thing": f"the training module “{module.title}”",
            "consequence": "Completions recorded for it are deleted too.",
            "cancel_url": reverse("program_training", args=[program.pk]),
        },
    )
