"""Publishing a match run from its page (flows.publish). Same address and name as the other run
pages."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from peermentor.accounts.http import AuthenticatedHttpRequest
from peermentor.core.errors import ApplicationError
from peermentor.flows.publish import match_run_publish
from peermentor.matches import selectors
from peermentor.matches.permissions import get_run_for


@login_required
@require_http_methods(["GET", "POST"])
def run_publish(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    run = get_run_for(request.user, pk)
    if request.method == "POST":
        try:
            count = match_run_publish(actor=request.user, run=run)
        except ApplicationError as error:
            messages.error(request, error.message)
        else:
            messages.success(
                request,
                f"Published {count} connection{'s' if count != 1 else ''}; "
                "everyone in them is being told.",
            )
            return redirect("match_run_detail", pk=run.pk)
    counts = selectors.run_counts(viewer=request.user, run=run)
    return render(request, "matches/run_publish.html", {"run": run, "counts": counts})
