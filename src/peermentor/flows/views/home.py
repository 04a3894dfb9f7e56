"""The home page: one per role (flows.home)."""

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render

from peermentor.accounts.http import AuthenticatedHttpRequest
from peermentor.flows.home import home_context


@login_required
def home(request: AuthenticatedHttpRequest) -> HttpResponse:
    """One home page per role: admins and managers see what needs them, participants what's next."""
    context = home_context(user=request.user)
    return render(request, context.pop("template"), context)
