"""A program's connections for its managers, with each one's health, last meeting, last check-in
and plan progress (engagement), filterable by health and "no meeting yet". Same address and
name as the other connection pages; the dashboard's "Needing attention" count links here."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from peermentor.accounts.http import AuthenticatedHttpRequest
from peermentor.connections import selectors
from peermentor.connections.forms import ConnectionFilterForm
from peermentor.core.htmx import is_htmx
from peermentor.engagement.selectors.activity import (
    ACTIVITY_FILTERS,
    activity_filter,
    connection_activity,
)
from peermentor.programs.permissions import get_program_for


class ConnectionActivityFilterForm(ConnectionFilterForm):
    health = forms.ChoiceField(
        label="Health",
        required=False,
        choices=[("", "Any"), *ACTIVITY_FILTERS.items()],
    )

    def filters(self) -> dict[str, Any]:
        filters = super().filters()
        filters["health"] = self.cleaned_data.get("health") or ""
        return filters


@login_required
@require_GET
def program_connections(request: AuthenticatedHttpRequest, program_pk: int) -> HttpResponse:
    program = get_program_for(request.user, program_pk, write=True)
    form = ConnectionActivityFilterForm(
        request.GET, tracks=selectors.program_tracks(program=program)
    )
    filters = form.filters()
    health = filters.pop("health")
    result = selectors.connection_list(
        viewer=request.user,
        program=program,
        page_number=request.GET.get("page"),
        condition=activity_filter(program.pk, health),
        **filters,
    )
    activity = connection_activity([c.pk for c in result.page.object_list])
    rows = [(connection, activity[connection.pk]) for connection in result.page.object_list]
    query = urlencode({k: v for k, v in request.GET.items() if k != "page" and v})
    template = (
        "connections/_connection_table.html"
        if is_htmx(request)
        else "connections/program_connections.html"
    )
    return render(request, template, {"result": result, "rows": rows, "form": form, "query": query})
