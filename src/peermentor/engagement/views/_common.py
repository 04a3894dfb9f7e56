"""Helpers the engagement views share: the generic form page, read-only refusal, redirects."""

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from peermentor.engagement.permissions import can_write


def require_writable(connection: Any, member: Any) -> None:
    """Members of an ended connection (or one who left a circle) read but do not write: 403."""
    if not can_write(member, connection):
        raise PermissionDenied("This workspace is read-only now.")


def workspace_url(connection_id: int, anchor: str = "") -> str:
    return reverse("workspace", args=[connection_id]) + (f"#{anchor}" if anchor else "")


def circle_url(connection_id: int, anchor: str = "") -> str:
    return reverse("circle_detail", args=[connection_id]) + (f"#{anchor}" if anchor else "")


def form_page(
    request: HttpRequest,
    *,
    form: forms.Form,
    title: str,
    submit: str,
    back_url: str,
    intro: str = "",
    is_danger: bool = False,
    context: dict[str, Any] | None = None,
    template: str = "engagement/form_page.html",
) -> HttpResponse:
    return render(
        request,
        template,
        {
            "form": form,
            "title": title,
            "intro": intro,
            "submit": submit,
            "back_url": back_url,
            "is_danger": is_danger,
            "action_url": request.get_full_path(),
            **(context or {}),
        },
    )


def invalid_action(request: HttpRequest, form: forms.Form, next_url: str) -> HttpResponse:
    errors = [str(e) for field_errors in form.errors.values() for e in field_errors]
    messages.error(request, " ".join(errors) or "Check your answer and try again.")
    return redirect(next_url)
