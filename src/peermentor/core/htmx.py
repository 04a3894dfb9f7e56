"""Where a request came from: htmx swaps and the page a button returns to."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme


def is_htmx(request: HttpRequest) -> bool:
    """An htmx request, answered with a partial rather than the whole page."""
    return request.headers.get("HX-Request") == "true"


def next_url(request: HttpRequest, default: str) -> str:
    """Where a button sends people back to: its `next` if that is a page of this site."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


def redirect_back(request: HttpRequest, default: str) -> HttpResponse:
    return redirect(next_url(request, default))
