"""What every form page does with a service: show its error beside the field, or report
success and redirect."""

from collections.abc import Callable, Mapping
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from peermentor.core.errors import ApplicationError

# What a service may raise that the form shows to the person who typed the input.
FORM_ERRORS = (ApplicationError, ValidationError)


def show_error(
    form: forms.Form, error: Exception, *, aliases: Mapping[str, str] | None = None
) -> None:
    """Attach a service's error to the form: beside its field when the form has one (a
    service field the form names differently is mapped through `aliases`), else on top.
    A ValidationError naming fields the form lacks shows each message with its field's label."""
    if isinstance(error, ApplicationError):
        field = (aliases or {}).get(error.field or "", error.field)
        form.add_error(field if field in form.fields else None, error.message)
        return
    if isinstance(error, ValidationError) and hasattr(error, "error_dict"):
        for name, field_messages in error.message_dict.items():
            if name in form.fields:
                form.add_error(name, field_messages)
            else:
                label = name.replace("_", " ").capitalize()
                form.add_error(None, [f"{label}: {message}" for message in field_messages])
        return
    form.add_error(None, getattr(error, "messages", [str(error)]))


def handle_form(
    request: HttpRequest,
    form: forms.Form,
    call: Callable[[dict[str, Any]], Any],
    *,
    success: str | Callable[[Any], str],
    next_url: str | Callable[[Any], str],
    aliases: Mapping[str, str] | None = None,
) -> HttpResponse | None:
    """On a valid POST run `call(cleaned_data)`; redirect to `next_url` with the `success`
    message (either may be a function of what `call` returned), or put the service's error
    on the form and return None so the caller renders the form again."""
    if request.method != "POST" or not form.is_valid():
        return None
    try:
        result = call(form.cleaned_data)
    except FORM_ERRORS as error:
        show_error(form, error, aliases=aliases)
        return None
    messages.success(request, success(result) if callable(success) else success)
    return redirect(next_url(result) if callable(next_url) else next_url)


def error_message(error: Exception) -> str:
    """What a service's error says, for a message on the next page."""
    if isinstance(error, ApplicationError):
        return error.message
    return " ".join(getattr(error, "messages", [str(error)]))


def run_action(
    request: HttpRequest, call: Callable[[], Any], *, success: str, next_url: str
) -> HttpResponse:
    """A one-button POST: run `call`, say how it went (the service's error, or `success`),
    and redirect to `next_url`."""
    try:
        call()
    except FORM_ERRORS as error:
        messages.error(request, error_message(error))
    else:
        messages.success(request, success)
    return redirect(next_url)
