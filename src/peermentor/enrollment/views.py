"""Thin views: parse with a form, call one service or selector, render."""

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import SetPasswordForm
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from peermentor.accounts.http import AuthenticatedHttpRequest
from peermentor.accounts.models import User
from peermentor.core.errors import ApplicationError
from peermentor.core.htmx import redirect_back
from peermentor.core.pagination import PAGE_SIZE, paginate
from peermentor.enrollment import selectors, services
from peermentor.enrollment.forms import (
    INVITED,
    AcknowledgeForm,
    DecisionForm,
    EnrollForm,
    InviteForm,
    ParticipantFilterForm,
    ProfileForm,
    QuizForm,
)
from peermentor.enrollment.models import Invitation, Participant, ParticipantStatus
from peermentor.enrollment.permissions import (
    get_program_for,
    is_own_participation,
)
from peermentor.enrollment.tokens import invitation_from_token
from peermentor.programs.models import TrainingKind


def _posted(request: HttpRequest) -> QueryDict | None:
    """POST data for a bound form, even when empty (an empty QueryDict is falsy)."""
    return request.POST if request.method == "POST" else None


def _own_participation(request: AuthenticatedHttpRequest, pk: int) -> Participant:
    """The viewer's own participation: 404 if they may not see it, 403 if it isn't theirs."""
    participant = selectors.participation_for(viewer=request.user, pk=pk)
    if not is_own_participation(request.user, participant):
        raise PermissionDenied("Only the participant can do this.")
    return participant


def _after_progress(participant: Participant) -> str:
    """Where to go after a step: the next training module, else the participation page."""
    module = selectors.next_training_module(participant=participant)
    if module is not None:
        return reverse("participation_training", args=[participant.pk, module.pk])
    return reverse("participation_detail", args=[participant.pk])


# --- enrolling -------------------------------------------------------------------------------
@login_required
def program_enroll(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    program = get_program_for(request.user, pk)
    overview = selectors.enrollment_overview(viewer=request.user, program=program)
    form = EnrollForm(_posted(request), program=program)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            participant = services.participant_enroll(
                actor=request.user,
                program=program,
                track=form.cleaned_data.get("track"),
                role=form.cleaned_data.get("role"),
            )
        except ApplicationError as error:
            form.add_application_error(error)
            status = error.status
        else:
            if participant.status == ParticipantStatus.PENDING_APPROVAL:
                messages.success(request, "You're enrolled, waiting for your manager's approval.")
            else:
                messages.success(request, f"You're enrolled in {program.name}.")
            if program.questions.exists():
                return redirect("participation_profile", participant.pk)
            return redirect(_after_progress(participant))
    return render(
        request,
        "enrollment/program_enroll.html",
        {"program": program, "overview": overview, "form": form},
        status=status,
    )


# --- one participation --------------------------------------------------------------------------
@login_required
def participation_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    participant = selectors.participation_for(viewer=request.user, pk=pk)
    detail = selectors.participation_detail(viewer=request.user, participant=participant)
    return render(
        request,
        "enrollment/participation_detail.html",
        {"detail": detail, "participant": participant, "decision_form": DecisionForm()},
    )


@login_required
def participation_profile(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    participant = _own_participation(request, pk)
    if participant.status not in (ParticipantStatus.PENDING_APPROVAL, ParticipantStatus.ENROLLED):
        messages.error(request, "This participation has ended; enroll again to change it.")
        return redirect("participation_detail", participant.pk)
    form = ProfileForm(
        _posted(request),
        questions=list(participant.program.questions.all()),
        answers=selectors.participant_answers(participant=participant),
        default_time_zone=participant.person.time_zone or request.user.time_zone or "UTC",
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.answers_save(actor=request.user, participant=participant, data=form.answers)
        except ApplicationError as error:
            form.add_application_error(error)
        else:
            messages.success(request, "Your profile is saved.")
            return redirect(_after_progress(participant))
    return render(
        request,
        "enrollment/participation_profile.html",
        {"participant": participant, "form": form, "blocks": form.blocks()},
    )


@login_required
def participation_training(
    request: AuthenticatedHttpRequest, pk: int, module_pk: int
) -> HttpResponse:
    participant = _own_participation(request, pk)
    module = selectors.training_module_for(participant=participant, pk=module_pk)
    is_quiz = module.kind == TrainingKind.QUIZ and bool(module.quiz)
    form = (QuizForm if is_quiz else AcknowledgeForm)(
        _posted(request), **({"module": module} if is_quiz else {})
    )
    result = None
    if request.method == "POST" and form.is_valid():
        try:
            result = services.training_complete(
                actor=request.user,
                participant=participant,
                module=module,
                answers=form.answers() if isinstance(form, QuizForm) else None,
            )
        except ApplicationError as error:
            if isinstance(form, QuizForm):
                form.add_application_error(error)
            else:
                form.add_error(None, error.message)
        else:
            if result.is_passed:
                messages.success(request, f"“{module.title}” is done.")
                return redirect(_after_progress(participant))
    is_done = participant.training_completions.filter(module=module).exists()
    return render(
        request,
        "enrollment/participation_training.html",
        {
            "participant": participant,
            "module": module,
            "form": form,
            "is_quiz": is_quiz,
            "result": result,
            "wrong_fields": {f"question_{index}" for index in result.wrong_questions}
            if result
            else set(),
            "is_done": is_done,
        },
    )


def _safe_next(request: HttpRequest, default: str) -> str:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


@require_POST
@login_required
def participation_decide(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    participant = selectors.participation_for(viewer=request.user, pk=pk)
    target = _safe_next(request, reverse("participation_detail", args=[participant.pk]))
    form = DecisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose to approve or decline.")
        return redirect(target)
    decision = form.cleaned_data["decision"]
    service = (
        services.participant_approve if decision == "approve" else services.participant_decline
    )
    try:
        service(actor=request.user, participant=participant, reason=form.cleaned_data["reason"])
    except ApplicationError as error:
        messages.error(request, f"{participant.person.full_name}: {error.message}")
    else:
        verb = "approved" if decision == "approve" else "declined"
        messages.success(request, f"{participant.person.full_name} is {verb}.")
    return redirect(target)


# --- the program manager's pages ----------------------------------------------------------------
@login_required
def participant_list(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    program = get_program_for(request.user, pk, write=True)
    form = ParticipantFilterForm(request.GET or None, program=program)
    filters = form.cleaned_data if form.is_valid() else {}
    track = filters.get("track")
    participants = selectors.participant_list(
        viewer=request.user,
        program=program,
        status="" if filters.get("status") == INVITED else filters.get("status", ""),
        track_id=track.pk if track else None,
        readiness=filters.get("readiness", ""),
        search=filters.get("search", ""),
    )
    status = filters.get("status", "")
    if status == INVITED:
        participants = participants.none()
    page = paginate(request, participants)
    invited = None
    if status in ("", INVITED):
        invited = Paginator(
            selectors.invited_not_enrolled(
                viewer=request.user, program=program, search=filters.get("search", "")
            ),
            PAGE_SIZE,
        ).get_page(request.GET.get("invited_page"))
    requirements = selectors.program_requirements(program)
    rows = [
        (participant, selectors.participant_missing(participant, requirements))
        for participant in page
    ]
    return render(
        request,
        "enrollment/participant_list.html",
        {
            "program": program,
            "form": form,
            "page": page,
            "rows": rows,
            "requirements": requirements,
            "funnel": selectors.enrollment_funnel(program=program),
            "invited": invited,
            "show_participants": status != INVITED,
            "has_tracks": "track" in form.fields,
        },
    )


@login_required
def program_invite(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    program = get_program_for(request.user, pk, write=True)
    options = selectors.directory_filter_options()
    form = InviteForm(_posted(request), program=program, levels=options["levels"])
    preview = None
    status = 200
    if request.method == "POST" and form.is_valid():
        track = form.cleaned_data.get("track")
        if request.POST.get("action") == "send":
            try:
                report = services.invitations_send(
                    actor=request.user,
                    program=program,
                    people_filter=form.people_filter(),
                    track=track,
                )
            except ApplicationError as error:
                form.add_application_error(error)
                status = error.status
            else:
                messages.success(
                    request,
                    f"{report.invited} invitation{'s' if report.invited != 1 else ''} on the way"
                    + (f" ({report.reinvited} whose link had expired)" if report.reinvited else "")
                    + ". "
                    f"Skipped {report.already} already invited or taking part and "
                    f"{report.ineligible} not eligible.",
                )
                return redirect("participant_list", program.pk)
        else:
            preview = selectors.invitation_preview(
                viewer=request.user,
                program=program,
                track=track,
                people_filter=form.people_filter(),
            )
    return render(
        request,
        "enrollment/program_invite.html",
        {"program": program, "form": form, "preview": preview},
        status=status,
    )


# --- invitation links ---------------------------------------------------------------------------
def invitation_accept(request: HttpRequest, token: str) -> HttpResponse:
    """The link in the invitation e-mail: signs the person in (or lets them choose a password)
    and takes them to the program's enroll page."""
    try:
        invitation = invitation_from_token(token)
    except ApplicationError as error:
        return render(
            request, "enrollment/invitation_invalid.html", {"error": error}, status=error.status
        )
    enroll_url = reverse("program_enroll", args=[invitation.program_id])
    if request.user.is_authenticated:
        try:
            services.invitation_account_link(actor=request.user, invitation=invitation)
        except PermissionDenied:
            return render(
                request,
                "enrollment/invitation_wrong_account.html",
                {"invitation": invitation},
                status=403,
            )
        return redirect(enroll_url)
    account = selectors.invitation_account(invitation=invitation)
    if account is not None and account.has_usable_password():
        return redirect_to_login(request.get_full_path())
    person = invitation.person
    form = SetPasswordForm(
        account or User(email=person.email, full_name=person.full_name), _posted(request)
    )
    if request.method == "POST" and form.is_valid():
        try:
            user = services.invitation_account_claim(
                invitation=invitation, password=form.cleaned_data["new_password1"]
            )
        except ApplicationError as error:
            form.add_error("new_password1" if error.field else None, error.message)
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(request, "Your password is set and you are signed in.")
            return redirect(enroll_url)
    return render(
        request,
        "enrollment/invitation_set_password.html",
        {"invitation": invitation, "form": form},
    )


@login_required
@require_POST
def invitation_resend(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    invitation = get_object_or_404(Invitation.objects.select_related("program"), pk=pk)
    program = get_program_for(request.user, invitation.program_id, write=True)
    try:
        services.invitation_resend(actor=request.user, invitation=invitation)
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"Invitation sent again to {invitation.person.full_name}.")
    return redirect_back(
        request, reverse("participant_list", args=[program.pk]) + "?status=invited"
    )
