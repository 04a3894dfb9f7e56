"""The private calendar feed and the page to turn it on, rotate it or turn it off."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from peermentor.accounts.http import AuthenticatedHttpRequest
from peermentor.engagement import ics, selectors, services


@login_required
@require_http_methods(["GET", "POST"])
def calendar_settings(request: AuthenticatedHttpRequest) -> HttpResponse:
    new_url = ""
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "rotate":
            token = services.calendar_feed_rotate(actor=request.user)
            # Shown once, in this response only: the token itself is not stored.
            new_url = request.build_absolute_uri(reverse("calendar_feed", args=[token]))
        elif action == "revoke":
            services.calendar_feed_revoke(actor=request.user)
            messages.success(request, "Your calendar feed is turned off. The old address is dead.")
            return redirect("calendar_settings")
        else:
            messages.error(request, "Choose what to do with your calendar feed.")
            return redirect("calendar_settings")
    feed = selectors.calendar_feed_state(viewer=request.user)
    return render(request, "engagement/calendar_settings.html", {"feed": feed, "new_url": new_url})


@require_GET
def calendar_feed(request: HttpRequest, token: str) -> HttpResponse:
    """No sign-in: calendar programs fetch it with the secret address alone."""
    owner = selectors.feed_owner(token)
    if owner is None:
        raise Http404("No such calendar.")
    items = selectors.feed_items(user=owner)
    body = ics.feed(name="Peermentor", meetings=items.meetings, sessions=items.sessions)
    response = HttpResponse(body)
    response["Content-Type"] = "text/calendar; charset=utf-8"
    response["Cache-Control"] = "private, max-age=900"
    response["X-Robots-Tag"] = "noindex"
    return response
