"""The connection workspace: meetings, plan, notes and check-ins. Members only (404 for
everyone else, organisation admins and program managers included)."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from peermentor.accounts.http import AuthenticatedHttpRequest
from peermentor.connections.models import ConnectionKind
from peermentor.core.forms import handle_form, run_action
from peermentor.engagement import ics, selectors, services
from peermentor.engagement.forms import (
    AssignmentForm,
    CheckInForm,
    DirectionForm,
    DoneForm,
    FeedbackForm,
    MeetingAcceptForm,
    MeetingProposeForm,
    MeetingRescheduleForm,
    NoteForm,
    OutcomeForm,
    PlanItemEditForm,
    PlanItemForm,
    ReasonForm,
    ReflectionForm,
)
from peermentor.engagement.models import Note, NoteVisibility, PlanItemKind
from peermentor.engagement.permissions import is_host, is_shadow
from peermentor.engagement.views._common import (
    form_page,
    invalid_action,
    require_writable,
    workspace_url,
)


@login_required
@require_GET
def workspace(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    connection, me = selectors.get_workspace_connection(viewer=request.user, pk=pk)
    data = selectors.workspace(viewer=request.user, connection=connection, me=me)
    if data.needs_plan and data.is_writable:
        # Connections activated before engagement existed (or by a path that did not copy the
        # plan) get theirs on first visit; the service is idempotent, so this runs once.
        services.plan_instantiate(connection=connection, actor=request.user)
        data = selectors.workspace(viewer=request.user, connection=connection, me=me)
    return render(
        request,
        "engagement/workspace.html",
        {
            "ws": data,
            "note_form": NoteForm(),
            "check_in_form": CheckInForm(),
            "plan_item_form": PlanItemForm(),
        },
    )


# --- meetings ---------------------------------------------------------------------------------
@login_required
@require_http_methods(["GET", "POST"])
def meeting_propose(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    connection, me = selectors.get_workspace_connection(viewer=request.user, pk=pk)
    require_writable(connection, me)
    if connection.kind == ConnectionKind.CIRCLE:
        raise Http404("Circles plan sessions on their circle page.")
    context = selectors.meeting_form_context(viewer=request.user, connection=connection, me=me)
    initial = {"option_1": request.GET["at"]} if request.GET.get("at") else {}
    form = MeetingProposeForm(request.POST or None, initial=initial, zone_name=context["my_zone"])
    done = handle_form(
        request,
        form,
        lambda data: services.meeting_propose(
            actor=request.user, connection=connection, **form.service_arguments()
        ),
        success="Meeting proposed. Your partner will pick one of the times.",
        next_url=workspace_url(connection.pk, "meetings"),
    )
    if done:
        return done
    return form_page(
        request,
        form=form,
        title="Propose a meeting",
        intro="Give one to three times that suit you; your partner accepts one.",
        submit="Propose",
        back_url=workspace_url(connection.pk, "meetings"),
        context={**context, "connection": connection},
        template="engagement/meeting_propose.html",
    )


@login_required
@require_POST
def meeting_accept(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    meeting, _ = selectors.get_meeting_for(viewer=request.user, pk=pk)
    next_url = workspace_url(meeting.connection_id, "meetings")
    form = MeetingAcceptForm(request.POST)
    if not form.is_valid():
        return invalid_action(request, form, next_url)
    return run_action(
        request,
        lambda: services.meeting_accept(
            actor=request.user, meeting=meeting, option_id=form.cleaned_data["option"]
        ),
        success="Meeting scheduled. A calendar invitation is on its way to each of you.",
        next_url=next_url,
    )


@login_required
@require_POST
def meeting_decline(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    meeting, _ = selectors.get_meeting_for(viewer=request.user, pk=pk)
    form = ReasonForm(request.POST)
    next_url = workspace_url(meeting.connection_id, "meetings")
    if not form.is_valid():
        return invalid_action(request, form, next_url)
    return run_action(
        request,
        lambda: services.meeting_decline(
            actor=request.user, meeting=meeting, reason=form.cleaned_data["reason"]
        ),
        success="You declined these times. Propose others that suit you both.",
        next_url=next_url,
    )


@login_required
@require_http_methods(["GET", "POST"])
def meeting_reschedule(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    meeting, me = selectors.get_meeting_for(viewer=request.user, pk=pk)
    require_writable(meeting.connection, me)
    form = MeetingRescheduleForm(
        request.POST or None,
        initial={"duration_minutes": meeting.duration_minutes, "location": meeting.location},
    )
    next_url = workspace_url(meeting.connection_id, "meetings")
    done = handle_form(
        request,
        form,
        lambda data: services.meeting_reschedule(actor=request.user, meeting=meeting, **data),
        success="Meeting moved. Everyone gets the updated invitation.",
        next_url=next_url,
    )
    return done or form_page(
        request,
        form=form,
        title=f"Move “{meeting.title}”",
        intro="Give the new time in your own time zone. Calendars update the same event.",
        submit="Move the meeting",
        back_url=next_url,
    )


@login_required
@require_http_methods(["GET", "POST"])
def meeting_cancel(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    meeting, _ = selectors.get_meeting_for(viewer=request.user, pk=pk)
    form = ReasonForm(request.POST or None)
    next_url = workspace_url(meeting.connection_id, "meetings")
    done = handle_form(
        request,
        form,
        lambda data: services.meeting_cancel(actor=request.user, meeting=meeting, **data),
        success="Meeting cancelled.",
        next_url=next_url,
    )
    return done or form_page(
        request,
        form=form,
        title=f"Cancel “{meeting.title}”",
        intro="Everyone in the connection is told; calendars remove the event.",
        submit="Cancel the meeting",
        back_url=next_url,
        is_danger=True,
    )


@login_required
@require_POST
def meeting_outcome(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    meeting, _ = selectors.get_meeting_for(viewer=request.user, pk=pk)
    form = OutcomeForm(request.POST)
    next_url = workspace_url(meeting.connection_id, "meetings")
    if not form.is_valid():
        return invalid_action(request, form, next_url)
    return run_action(
        request,
        lambda: services.meeting_log_outcome(
            actor=request.user, meeting=meeting, happened=form.cleaned_data["happened"]
        ),
        success="Thanks, noted.",
        next_url=next_url,
    )


@login_required
@require_GET
def meeting_invite(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    meeting, _ = selectors.get_meeting_for(viewer=request.user, pk=pk)
    if not meeting.has_invitation:
        raise Http404("This meeting has no time yet.")
    response = HttpResponse(ics.meeting_invitation(meeting), content_type="text/calendar")
    response["Content-Type"] = "text/calendar; charset=utf-8"
    response["Content-Disposition"] = f'attachment; filename="meeting-{meeting.pk}.ics"'
    return response


# --- plan -------------------------------------------------------------------------------------
@login_required
@require_http_methods(["GET", "POST"])
def plan_item_add(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    connection, me = selectors.get_workspace_connection(viewer=request.user, pk=pk)
    require_writable(connection, me)
    form = PlanItemForm(request.POST or None)
    next_url = workspace_url(connection.pk, "plan")
    done = handle_form(
        request,
        form,
        lambda data: services.plan_item_add(actor=request.user, connection=connection, **data),
        success="Added to your plan.",
        next_url=next_url,
    )
    return done or form_page(
        request, form=form, title="Add to the plan", submit="Add", back_url=next_url
    )


@login_required
@require_http_methods(["GET", "POST"])
def plan_item_edit(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    item, me = selectors.get_plan_item_for(viewer=request.user, pk=pk)
    connection = item.plan.connection
    require_writable(connection, me)
    form = PlanItemEditForm(
        request.POST or None,
        initial={"title": item.title, "description": item.description, "due_on": item.due_on},
    )
    next_url = workspace_url(connection.pk, "plan")
    done = handle_form(
        request,
        form,
        lambda data: services.plan_item_update(actor=request.user, item=item, **data),
        success="Plan item saved.",
        next_url=next_url,
    )
    return done or form_page(
        request, form=form, title=f"Edit “{item.title}”", submit="Save", back_url=next_url
    )


@login_required
@require_POST
def plan_item_done(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    item, _ = selectors.get_plan_item_for(viewer=request.user, pk=pk)
    form = DoneForm(request.POST)
    next_url = workspace_url(item.plan.connection_id, "plan")
    if not form.is_valid():
        return invalid_action(request, form, next_url)
    is_done = form.cleaned_data["is_done"]
    return run_action(
        request,
        lambda: services.plan_item_set_done(actor=request.user, item=item, is_done=is_done),
        success="Marked done." if is_done else "Marked not done.",
        next_url=next_url,
    )


@login_required
@require_POST
def plan_item_move(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    item, _ = selectors.get_plan_item_for(viewer=request.user, pk=pk)
    form = DirectionForm(request.POST)
    next_url = workspace_url(item.plan.connection_id, "plan")
    if not form.is_valid():
        return invalid_action(request, form, next_url)
    return run_action(
        request,
        lambda: services.plan_item_move(
            actor=request.user, item=item, direction=form.cleaned_data["direction"]
        ),
        success="Moved.",
        next_url=next_url,
    )


@login_required
@require_POST
def plan_item_remove(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    item, _ = selectors.get_plan_item_for(viewer=request.user, pk=pk)
    return run_action(
        request,
        lambda: services.plan_item_remove(actor=request.user, item=item),
        success="Removed from the plan.",
        next_url=workspace_url(item.plan.connection_id, "plan"),
    )


@login_required
@require_http_methods(["GET", "POST"])
def assignment_create(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    connection, me = selectors.get_workspace_connection(viewer=request.user, pk=pk)
    require_writable(connection, me)
    if connection.kind != ConnectionKind.SHADOWING:
        raise Http404("Assignments belong to job-shadowing placements.")
    if not is_host(me):
        raise PermissionDenied("The host offers assignments.")
    form = AssignmentForm(request.POST or None)
    next_url = workspace_url(connection.pk, "plan")
    done = handle_form(
        request,
        form,
        lambda data: services.assignment_create(actor=request.user, connection=connection, **data),
        success="Assignment offered.",
        next_url=next_url,
    )
    return done or form_page(
        request,
        form=form,
        title="Offer an assignment",
        intro="A concrete, low-risk task: what to do, how long it should take, by when, and "
        "what your shadow should learn from it.",
        submit="Offer the assignment",
        back_url=next_url,
    )


@login_required
@require_http_methods(["GET", "POST"])
def assignment_reflect(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    item, me = selectors.get_plan_item_for(viewer=request.user, pk=pk)
    connection = item.plan.connection
    require_writable(connection, me)
    if item.kind != PlanItemKind.ASSIGNMENT:
        raise Http404("Only assignments take a reflection.")
    if not is_shadow(me):
        raise PermissionDenied("The shadow reflects on an assignment.")
    form = ReflectionForm(request.POST or None, initial={"reflection": item.reflection})
    next_url = workspace_url(connection.pk, "plan")
    done = handle_form(
        request,
        form,
        lambda data: services.assignment_reflect(actor=request.user, item=item, **data),
        success="Reflection saved; the assignment is done.",
        next_url=next_url,
    )
    return done or form_page(
        request,
        form=form,
        title=f"Reflect on “{item.title}”",
        intro=f"What you should learn: {item.learning_goal}" if item.learning_goal else "",
        submit="Save my reflection",
        back_url=next_url,
    )


@login_required
@require_http_methods(["GET", "POST"])
def assignment_feedback(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    item, me = selectors.get_plan_item_for(viewer=request.user, pk=pk)
    connection = item.plan.connection
    require_writable(connection, me)
    if item.kind != PlanItemKind.ASSIGNMENT:
        raise Http404("Only assignments take feedback.")
    if not is_host(me):
        raise PermissionDenied("The host gives feedback.")
    form = FeedbackForm(request.POST or None, initial={"feedback": item.feedback})
    next_url = workspace_url(connection.pk, "plan")
    done = handle_form(
        request,
        form,
        lambda data: services.assignment_feedback(actor=request.user, item=item, **data),
        success="Feedback sent.",
        next_url=next_url,
    )
    return done or form_page(
        request,
        form=form,
        title=f"Feedback on “{item.title}”",
        intro=f"Your shadow's reflection: {item.reflection}" if item.reflection else "",
        submit="Send feedback",
        back_url=next_url,
    )


# --- notes ------------------------------------------------------------------------------------
@login_required
@require_http_methods(["GET", "POST"])
def note_create(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    connection, me = selectors.get_workspace_connection(viewer=request.user, pk=pk)
    require_writable(connection, me)
    form = NoteForm(request.POST or None)
    next_url = workspace_url(connection.pk, "notes")
    done = handle_form(
        request,
        form,
        lambda data: services.note_create(actor=request.user, connection=connection, **data),
        success="Note saved.",
        next_url=next_url,
    )
    return done or form_page(
        request, form=form, title="Write a note", submit="Save the note", back_url=next_url
    )


def _own_note(request: AuthenticatedHttpRequest, pk: int) -> Note:
    note, me = selectors.get_note_for(viewer=request.user, pk=pk)
    require_writable(note.connection, me)
    if note.author_id != me.participant_id:
        raise PermissionDenied("Only a note's author changes it.")
    return note


@login_required
@require_http_methods(["GET", "POST"])
def note_edit(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    note = _own_note(request, pk)
    form = NoteForm(
        request.POST or None, initial={"body": note.body, "visibility": note.visibility}
    )
    next_url = workspace_url(note.connection_id, "notes")
    done = handle_form(
        request,
        form,
        lambda data: services.note_update(actor=request.user, note=note, **data),
        success="Note saved.",
        next_url=next_url,
    )
    return done or form_page(
        request, form=form, title="Edit your note", submit="Save the note", back_url=next_url
    )


@login_required
@require_http_methods(["GET", "POST"])
def note_delete(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    note = _own_note(request, pk)
    next_url = workspace_url(note.connection_id, "notes")
    if request.method == "POST":
        return run_action(
            request,
            lambda: services.note_delete(actor=request.user, note=note),
            success="Note deleted.",
            next_url=next_url,
        )
    shared = note.visibility == NoteVisibility.SHARED
    return render(
        request,
        "engagement/confirm.html",
        {
            "title": "Delete this note?",
            "intro": "It is gone for good"
            + (", for everyone in the connection." if shared else "."),
            "quote": note.body,
            "submit": "Delete",
            "back_url": next_url,
            "action_url": request.path,
        },
    )


# --- check-ins --------------------------------------------------------------------------------
@login_required
@require_http_methods(["GET", "POST"])
def check_in(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    connection, me = selectors.get_workspace_connection(viewer=request.user, pk=pk)
    require_writable(connection, me)
    form = CheckInForm(request.POST or None)
    next_url = workspace_url(connection.pk, "check-in")
    done = handle_form(
        request,
        form,
        lambda data: services.check_in_submit(actor=request.user, connection=connection, **data),
        success="Thanks for checking in.",
        next_url=next_url,
    )
    return done or form_page(
        request,
        form=form,
        title="How is it going?",
        intro="A quick pulse for your connection. Your partner does not see your answer, and "
        "the program team only sees whether connections are on track.",
        submit="Check in",
        back_url=next_url,
    )
