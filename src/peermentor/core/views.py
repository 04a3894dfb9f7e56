from typing import Any, cast

from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """One home page per role: admins and managers see what needs them, participants what's next."""
    from peermentor.programs.selectors import home_context

    # login_required lets only signed-in users here; core sits below accounts and cannot name
    # the User model (the home summary moves up to flows, which can).
    context = home_context(user=cast(Any, request.user))
    return render(request, context.pop("template"), context)


def healthz(request: HttpRequest) -> JsonResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
