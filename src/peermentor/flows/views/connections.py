"""Starting and ending a connection from its page: the workspace follows (plans made, meetings
cancelled) through engagement. Same addresses and names as the other connection pages."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from peermentor.accounts.http import AuthenticatedHttpRequest
from peermentor.connections import selectors
from peermentor.connections.forms import (
    CloseEarlyForm,
    CompleteForm,
)
from peermentor.connections.views import _form_page, _refuse_if_not_active
from peermentor.core.forms import handle_form, run_action
from peermentor.engagement import services as engagement


@login_required
@require_http_methods(["GET", "POST"])
def connection_complete(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    detail = selectors.connection_detail(viewer=request.user, pk=pk)
    if refusal := _refuse_if_not_active(request, detail):
        return refusal
    form = CompleteForm(request.POST or None)
    done = handle_form(
        request,
        form,
        lambda data: engagement.connection_complete(
            actor=request.user, connection=detail.connection, **data
        ),
        success="Connection completed. Each member can now reflect on it.",
        next_url=reverse("connection_detail", args=[pk]),
    )
    return done or _form_page(
        request,
        detail,
        form,
        title="Complete this connection",
        intro="Mark the connection as finished. Each member is then invited to reflect.",
        submit="Complete",
    )


@login_required
@require_http_methods(["GET", "POST"])
def connection_close(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    detail = selectors.connection_detail(viewer=request.user, pk=pk)
    if refusal := _refuse_if_not_active(request, detail):
        return refusal
    form = CloseEarlyForm(request.POST or None)
    done = handle_form(
        request,
        form,
        lambda data: engagement.connection_close_early(
            actor=request.user, connection=detail.connection, **data
        ),
        success="Connection closed. You can be matched again, and reflect on it.",
        next_url=reverse("connection_detail", args=[pk]),
    )
    return done or _form_page(
        request,
        detail,
        form,
        title="Close this connection early",
        intro="Closing ends the connection for every member. The reason is kept in its history.",
        submit="Close early",
        is_danger=True,
    )


@login_required
@require_POST
def connection_activate(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    detail = selectors.connection_detail(viewer=request.user, pk=pk)
    if not detail.is_manager:
        raise PermissionDenied("Only the program's managers start connections.")
    return run_action(
        request,
        lambda: engagement.connection_activate(actor=request.user, connection=detail.connection),
        success="Connection started.",
        next_url=reverse("connection_detail", args=[pk]),
    )


@login_required
@require_POST
def connection_cancel(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    detail = selectors.connection_detail(viewer=request.user, pk=pk)
    if not detail.is_manager:
        raise PermissionDenied("Only the program's managers drop proposals.")
    return run_action(
        request,
        lambda: engagement.connection_cancel(
            actor=request.user, connection=detail.connection, reason=request.POST.get("reason", "")
        ),
        success="Proposal dropped. Its members can be matched again.",
        next_url=reverse("connection_detail", args=[pk]),
    )
