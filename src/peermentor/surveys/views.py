"""Survey pages: thin views that parse a form, call one service or selector, and render.

Managers' pages fetch through `get_program_for(write=True)` / `get_survey_for` (outsiders 404,
people who see the program but do not manage it 403). Participants' pages fetch through
`get_invitation_for`, which answers 404 to everyone but the invited person.
"""

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from peermentor.accounts.http import AuthenticatedHttpRequest
from peermentor.core.forms import FORM_ERRORS, error_message, handle_form, run_action
from peermentor.programs.permissions import get_program_for
from peermentor.surveys import selectors, services
from peermentor.surveys.forms import (
    AnswerForm,
    BreakdownForm,
    CloseForm,
    MoveForm,
    QuestionForm,
    SurveyForm,
    TemplateForm,
)


def _settings(form: SurveyForm) -> dict[str, Any]:
    data = dict(form.cleaned_data)
    data["is_anonymous"] = bool(data.get("is_anonymous"))
    return data


# --- managers ---------------------------------------------------------------------------------
@login_required
@require_GET
def survey_list(request: AuthenticatedHttpRequest, program_pk: int) -> HttpResponse:
    program = get_program_for(request.user, program_pk, write=True)
    rows = selectors.survey_list(viewer=request.user, program=program)
    templates = selectors.available_templates(program=program)
    return render(
        request,
        "surveys/survey_list.html",
        {
            "program": program,
            "rows": rows,
            "templates": templates,
            "template_form": TemplateForm(templates=templates),
        },
    )


@login_required
@require_POST
def survey_add_template(request: AuthenticatedHttpRequest, program_pk: int) -> HttpResponse:
    program = get_program_for(request.user, program_pk, write=True)
    templates = selectors.available_templates(program=program)
    form = TemplateForm(request.POST, templates=templates)
    done = handle_form(
        request,
        form,
        lambda data: services.survey_add_from_template(
            actor=request.user,
            program=program,
            template_key=data["template_key"],
            send_on=data["send_on"],
        ),
        success=lambda survey: f"“{survey.title}” added as a draft: check it, then open it.",
        next_url=lambda survey: reverse("survey_builder", args=[survey.pk]),
    )
    if done:
        return done
    rows = selectors.survey_list(viewer=request.user, program=program)
    return render(
        request,
        "surveys/survey_list.html",
        {"program": program, "rows": rows, "templates": templates, "template_form": form},
        status=400,
    )


@login_required
@require_http_methods(["GET", "POST"])
def survey_create(request: AuthenticatedHttpRequest, program_pk: int) -> HttpResponse:
    program = get_program_for(request.user, program_pk, write=True)
    form = SurveyForm(request.POST or None)
    done = handle_form(
        request,
        form,
        lambda _: services.survey_create(actor=request.user, program=program, **_settings(form)),
        success="Survey created as a draft. Add its questions.",
        next_url=lambda survey: reverse("survey_builder", args=[survey.pk]),
    )
    return done or render(
        request,
        "surveys/survey_form.html",
        {"program": program, "form": form, "title": "New survey"},
        status=400 if form.errors else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def survey_edit(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    survey = selectors.get_survey_for(viewer=request.user, pk=pk)
    builder = selectors.survey_builder(viewer=request.user, survey=survey)
    form = SurveyForm(
        request.POST or None,
        initial=SurveyForm.initial_for(survey),
        is_sent=builder.has_invitations,
    )
    done = handle_form(
        request,
        form,
        lambda _: services.survey_update(actor=request.user, survey=survey, **_settings(form)),
        success="Survey settings saved.",
        next_url=reverse("survey_builder", args=[survey.pk]),
    )
    return done or render(
        request,
        "surveys/survey_form.html",
        {"program": survey.program, "survey": survey, "form": form, "title": "Survey settings"},
        status=400 if form.errors else 200,
    )


def _builder_page(
    request: AuthenticatedHttpRequest, survey: Any, question_form: QuestionForm, status: int = 200
) -> HttpResponse:
    builder = selectors.survey_builder(viewer=request.user, survey=survey)
    return render(
        request,
        "surveys/survey_builder.html",
        {
            "program": survey.program,
            "survey": survey,
            "builder": builder,
            "question_form": question_form,
            "close_form": CloseForm(),
        },
        status=status,
    )


@login_required
@require_GET
def survey_builder(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    survey = selectors.get_survey_for(viewer=request.user, pk=pk)
    return _builder_page(request, survey, QuestionForm())


@login_required
@require_http_methods(["GET", "POST"])
def survey_question_add(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    survey = selectors.get_survey_for(viewer=request.user, pk=pk)
    form = QuestionForm(request.POST or None)
    done = handle_form(
        request,
        form,
        lambda data: services.survey_question_add(
            actor=request.user,
            survey=survey,
            kind=data["kind"],
            text=data["text"],
            key=data["key"],
            help_text=data["help_text"],
            choices=form.choice_list(),
            is_required=data["is_required"],
        ),
        success="Question added.",
        next_url=reverse("survey_builder", args=[survey.pk]),
    )
    return done or _builder_page(request, survey, form, status=400 if form.errors else 200)


@login_required
@require_http_methods(["GET", "POST"])
def survey_question_edit(
    request: AuthenticatedHttpRequest, pk: int, question_pk: int
) -> HttpResponse:
    survey = selectors.get_survey_for(viewer=request.user, pk=pk)
    question = selectors.get_question_for(survey=survey, pk=question_pk)
    form = QuestionForm(request.POST or None, initial=QuestionForm.initial_for(question))
    done = handle_form(
        request,
        form,
        lambda data: services.survey_question_update(
            actor=request.user,
            question=question,
            text=data["text"],
            help_text=data["help_text"],
            is_required=data["is_required"],
            kind=data["kind"],
            choices=form.choice_list(),
            key=data["key"],
        ),
        success="Question saved.",
        next_url=reverse("survey_builder", args=[survey.pk]),
    )
    return done or render(
        request,
        "surveys/question_form.html",
        {"program": survey.program, "survey": survey, "question": question, "form": form},
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def survey_question_delete(
    request: AuthenticatedHttpRequest, pk: int, question_pk: int
) -> HttpResponse:
    survey = selectors.get_survey_for(viewer=request.user, pk=pk)
    question = selectors.get_question_for(survey=survey, pk=question_pk)
    return run_action(
        request,
        lambda: services.survey_question_delete(actor=request.user, question=question),
        success="Question removed.",
        next_url=reverse("survey_builder", args=[survey.pk]),
    )


@login_required
@require_POST
def survey_question_move(
    request: AuthenticatedHttpRequest, pk: int, question_pk: int
) -> HttpResponse:
    survey = selectors.get_survey_for(viewer=request.user, pk=pk)
    question = selectors.get_question_for(survey=survey, pk=question_pk)
    form = MoveForm(request.POST)
    direction = form.cleaned_data["direction"] if form.is_valid() else ""
    return run_action(
        request,
        lambda: services.survey_question_move(
            actor=request.user, question=question, direction=direction
        ),
        success="Question moved.",
        next_url=reverse("survey_builder", args=[survey.pk]),
    )


@login_required
@require_POST
def survey_open(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    survey = selectors.get_survey_for(viewer=request.user, pk=pk)
    return run_action(
        request,
        lambda: services.survey_open(actor=request.user, survey=survey),
        success=(
            "Survey open: people are asked as it falls due for them (the schedule runs hourly)."
        ),
        next_url=reverse("survey_builder", args=[survey.pk]),
    )


@login_required
@require_POST
def survey_close(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    survey = selectors.get_survey_for(viewer=request.user, pk=pk)
    form = CloseForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    return run_action(
        request,
        lambda: services.survey_close(actor=request.user, survey=survey, reason=reason),
        success="Survey closed: nobody else is asked, and answers can no longer change.",
        next_url=reverse("survey_builder", args=[survey.pk]),
    )


@login_required
@require_POST
def survey_delete(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    survey = selectors.get_survey_for(viewer=request.user, pk=pk)
    try:
        services.survey_delete(actor=request.user, survey=survey)
    except FORM_ERRORS as error:
        messages.error(request, error_message(error))
        return redirect("survey_builder", pk=survey.pk)
    messages.success(request, "Draft survey deleted.")
    return redirect("survey_list", program_pk=survey.program_id)


@login_required
@require_GET
def survey_results(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    survey = selectors.get_survey_for(viewer=request.user, pk=pk)
    form = BreakdownForm(request.GET or None)
    results = selectors.survey_results(viewer=request.user, survey=survey, breakdown=form.value())
    return render(
        request,
        "surveys/survey_results.html",
        {"program": survey.program, "survey": survey, "results": results, "form": form},
    )


@login_required
@require_GET
def survey_responses(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    survey = selectors.get_survey_for(viewer=request.user, pk=pk)
    found = selectors.named_responses(
        viewer=request.user, survey=survey, page_number=request.GET.get("page")
    )
    return render(
        request,
        "surveys/survey_responses.html",
        {
            "program": survey.program,
            "survey": survey,
            "page": found.page,
            "questions": found.questions,
        },
    )


# --- participants -----------------------------------------------------------------------------
@login_required
@require_GET
def my_surveys(request: AuthenticatedHttpRequest) -> HttpResponse:
    page = selectors.my_surveys(viewer=request.user, page_number=request.GET.get("page"))
    return render(request, "surveys/my_surveys.html", {"page": page})


@login_required
@require_http_methods(["GET", "POST"])
def survey_answer(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    own = selectors.get_invitation_for(viewer=request.user, pk=pk)
    if not own.may_change:
        if request.method == "POST":
            messages.error(request, "This survey is closed: answers can no longer change.")
        return redirect("survey_my_answers", pk=pk)
    form = AnswerForm(request.POST or None, questions=own.questions, values=own.values)
    done = handle_form(
        request,
        form,
        lambda _: services.survey_answer(
            actor=request.user, invitation=own.invitation, answers=form.answers()
        ),
        success="Thank you: your answers are saved. You can change them until the survey closes.",
        next_url=reverse("survey_my_answers", args=[pk]),
    )
    return done or render(
        request,
        "surveys/survey_answer.html",
        {"own": own, "form": form},
        status=400 if form.errors else 200,
    )


@login_required
@require_GET
def survey_my_answers(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    own = selectors.get_invitation_for(viewer=request.user, pk=pk)
    return render(request, "surveys/my_answers.html", {"own": own})
