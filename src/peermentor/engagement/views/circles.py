"""Circle pages: sessions and RSVPs, the discussion, shared links, joining and leaving."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from peermentor.accounts.http import AuthenticatedHttpRequest
from peermentor.core.errors import ApplicationError
from peermentor.core.forms import handle_form, run_action
from peermentor.engagement import ics, selectors, services
from peermentor.engagement.forms import OpennessForm, PostForm, ResourceForm, RsvpForm, SessionForm
from peermentor.engagement.permissions import can_set_circle_open
from peermentor.engagement.views._common import (
    circle_url,
    form_page,
    invalid_action,
    require_writable,
)
from peermentor.programs.permissions import get_program_for


@login_required
@require_GET
def circle_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    connection, me = selectors.get_circle_for(viewer=request.user, pk=pk)
    page = selectors.circle_page(
        viewer=request.user, connection=connection, me=me, page_number=request.GET.get("page")
    )
    return render(
        request,
        "engagement/circle_detail.html",
        {"circle": page, "post_form": PostForm(), "resource_form": ResourceForm()},
    )


@login_required
@require_http_methods(["GET", "POST"])
def circle_session_create(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    connection, me = selectors.get_circle_for(viewer=request.user, pk=pk)
    require_writable(connection, me)
    form = SessionForm(request.POST or None)
    next_url = circle_url(connection.pk, "sessions")
    done = handle_form(
        request,
        form,
        lambda data: services.circle_session_create(
            actor=request.user, connection=connection, **data
        ),
        success="Session planned.",
        next_url=next_url,
    )
    return done or form_page(
        request,
        form=form,
        title="Plan a session",
        intro="Give the time in your own time zone; everyone sees it in theirs.",
        submit="Plan the session",
        back_url=next_url,
    )


@login_required
@require_POST
def session_rsvp(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    session, _ = selectors.get_session_for(viewer=request.user, pk=pk)
    form = RsvpForm(request.POST)
    next_url = circle_url(session.connection_id, "sessions")
    if not form.is_valid():
        return invalid_action(request, form, next_url)
    attending = form.cleaned_data["is_attending"]
    return run_action(
        request,
        lambda: services.session_rsvp(actor=request.user, session=session, is_attending=attending),
        success="See you there." if attending else "Thanks for letting the circle know.",
        next_url=next_url,
    )


@login_required
@require_POST
def session_cancel(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    session, _ = selectors.get_session_for(viewer=request.user, pk=pk)
    return run_action(
        request,
        lambda: services.circle_session_cancel(actor=request.user, session=session),
        success="Session cancelled.",
        next_url=circle_url(session.connection_id, "sessions"),
    )


@login_required
@require_GET
def session_invite(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    session, _ = selectors.get_session_for(viewer=request.user, pk=pk)
    response = HttpResponse(ics.session_invitation(session))
    response["Content-Type"] = "text/calendar; charset=utf-8"
    response["Content-Disposition"] = f'attachment; filename="session-{session.pk}.ics"'
    return response


@login_required
@require_http_methods(["GET", "POST"])
def circle_post_create(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    connection, me = selectors.get_circle_for(viewer=request.user, pk=pk)
    require_writable(connection, me)
    form = PostForm(request.POST or None)
    next_url = circle_url(connection.pk, "discussion")
    done = handle_form(
        request,
        form,
        lambda data: services.circle_post_create(actor=request.user, connection=connection, **data),
        success="Message posted.",
        next_url=next_url,
    )
    return done or form_page(
        request, form=form, title="Post to the circle", submit="Post", back_url=next_url
    )


@login_required
@require_http_methods(["GET", "POST"])
def circle_resource_add(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    connection, me = selectors.get_circle_for(viewer=request.user, pk=pk)
    require_writable(connection, me)
    form = ResourceForm(request.POST or None)
    next_url = circle_url(connection.pk, "resources")
    done = handle_form(
        request,
        form,
        lambda data: services.circle_resource_add(
            actor=request.user, connection=connection, **data
        ),
        success="Link shared.",
        next_url=next_url,
    )
    return done or form_page(
        request, form=form, title="Share a link", submit="Share", back_url=next_url
    )


@login_required
@require_POST
def resource_remove(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    resource, _ = selectors.get_resource_for(viewer=request.user, pk=pk)
    return run_action(
        request,
        lambda: services.circle_resource_remove(actor=request.user, resource=resource),
        success="Link removed.",
        next_url=circle_url(resource.connection_id, "resources"),
    )


@login_required
@require_POST
def circle_join(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    connection = selectors.get_circle_to_join(viewer=request.user, pk=pk)
    try:
        services.circle_join(actor=request.user, connection=connection)
    except ApplicationError as error:
        messages.error(request, error.message)
        return redirect("open_circles", program_pk=connection.program_id)
    messages.success(request, "Welcome to the circle!")
    return redirect("circle_detail", pk=connection.pk)


@login_required
@require_http_methods(["GET", "POST"])
def circle_leave(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    connection, me = selectors.get_circle_for(viewer=request.user, pk=pk)
    require_writable(connection, me)
    if request.method == "POST":
        return run_action(
            request,
            lambda: services.circle_leave(actor=request.user, connection=connection),
            success="You left the circle.",
            next_url=reverse("open_circles", args=[connection.program_id]),
        )
    return render(
        request,
        "engagement/confirm.html",
        {
            "title": "Leave this circle?",
            "intro": "Your seat goes to someone else and your answers to upcoming sessions are "
            "withdrawn. What you posted stays for the others.",
            "submit": "Leave the circle",
            "back_url": circle_url(connection.pk),
            "action_url": request.path,
        },
    )


@login_required
@require_POST
def circle_set_open(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    connection, member = selectors.get_circle_to_open(viewer=request.user, pk=pk)
    if not can_set_circle_open(request.user, connection, member):
        raise PermissionDenied("Only the program's managers or the facilitator open a circle.")
    form = OpennessForm(request.POST)
    next_url = (
        circle_url(connection.pk)
        if member is not None and member.is_current
        else reverse("open_circles", args=[connection.program_id])
    )
    if not form.is_valid():
        return invalid_action(request, form, next_url)
    is_open = form.cleaned_data["is_open"]
    return run_action(
        request,
        lambda: services.circle_set_open(
            actor=request.user, connection=connection, is_open=is_open
        ),
        success="The circle is open to new members." if is_open else "The circle is closed.",
        next_url=next_url,
    )


@login_required
@require_GET
def open_circles(request: AuthenticatedHttpRequest, program_pk: int) -> HttpResponse:
    program = get_program_for(request.user, program_pk)
    result = selectors.open_circles(
        viewer=request.user, program=program, page_number=request.GET.get("page")
    )
    return render(request, "engagement/open_circles.html", {"result": result})
