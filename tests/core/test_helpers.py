"""The helpers every app shares: the error contract, form pages, htmx, permission, tasks."""

import pytest
from django import forms
from django.contrib.messages import get_messages
from django.contrib.messages.storage.fallback import FallbackStorage
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.test import RequestFactory

from peermentor.core.errors import ApplicationError, application_error, full_clean
from peermentor.core.forms import handle_form, run_action, show_error
from peermentor.core.htmx import is_htmx, next_url, redirect_back
from peermentor.core.permissions import require
from peermentor.core.tasks import enqueue_on_commit


class NameForm(forms.Form):
    name = forms.CharField(max_length=10)
    departments = forms.CharField(required=False)


def _request(method: str = "get", data: dict | None = None, **headers: str):
    request = getattr(RequestFactory(), method)("/somewhere", data or {}, headers=headers)
    request.session = {}
    request._messages = FallbackStorage(request)
    return request


# --- errors ---------------------------------------------------------------------------------
def test_application_error_takes_the_first_field_error_beside_its_field():
    error = application_error(ValidationError({"name": ["Too long.", "Bad."], "other": ["No."]}))
    assert (error.message, error.field) == ("Too long.", "name")


def test_application_error_of_the_whole_object_has_no_field():
    error = application_error(ValidationError({"__all__": ["Dates overlap."]}))
    assert (error.message, error.field) == ("Dates overlap.", None)


def test_application_error_without_fields_joins_messages_beside_the_given_field():
    error = application_error(ValidationError(["Too short.", "Too common."]), field="password")
    assert (error.message, error.field) == ("Too short. Too common.", "password")


def test_full_clean_raises_the_application_error():
    class Thing:
        def full_clean(self, **options):
            assert options == {"exclude": ["x"]}
            raise ValidationError({"title": ["Required."]})

    with pytest.raises(ApplicationError) as raised:
        full_clean(Thing(), exclude=["x"])
    assert (raised.value.message, raised.value.field) == ("Required.", "title")


# --- form errors ----------------------------------------------------------------------------
def test_show_error_puts_an_application_error_beside_its_field():
    form = NameForm({"name": "Ana"})
    form.is_valid()
    show_error(form, ApplicationError("Taken.", field="name"))
    assert form.errors["name"] == ["Taken."]


def test_show_error_puts_an_unknown_field_on_top_and_follows_aliases():
    form = NameForm({"name": "Ana"})
    form.is_valid()
    show_error(form, ApplicationError("Nope.", field="missing"))
    show_error(
        form,
        ApplicationError("Pick one.", field="eligibility"),
        aliases={"eligibility": "departments"},
    )
    assert form.non_field_errors() == ["Nope."]
    assert form.errors["departments"] == ["Pick one."]


def test_show_error_labels_validation_errors_of_fields_the_form_lacks():
    form = NameForm({"name": "Ana"})
    form.is_valid()
    show_error(form, ValidationError({"name": ["Bad."], "start_date": ["Too early."]}))
    show_error(form, ValidationError("Plain."))
    assert form.errors["name"] == ["Bad."]
    assert form.non_field_errors() == ["Start date: Too early.", "Plain."]


# --- the form page skeleton -----------------------------------------------------------------
def test_handle_form_does_nothing_on_get_or_invalid_input():
    called = []
    assert handle_form(_request(), NameForm(), called.append, success="", next_url="/") is None
    form = NameForm({"name": "x" * 11})
    assert handle_form(_request("post"), form, called.append, success="", next_url="/") is None
    assert called == [] and form.errors["name"]


def test_handle_form_redirects_with_the_success_message():
    request = _request("post")
    response = handle_form(
        request,
        NameForm({"name": "Ana"}),
        lambda data: data["name"].upper(),
        success=lambda result: f"Hello {result}.",
        next_url=lambda result: f"/people/{result}/",
    )
    assert (response.status_code, response["Location"]) == (302, "/people/ANA/")
    assert [str(m) for m in get_messages(request)] == ["Hello ANA."]


def test_handle_form_shows_the_service_error_on_the_form():
    def refuse(data):
        raise ApplicationError("Taken.", field="name")

    request = _request("post")
    form = NameForm({"name": "Ana"})
    assert handle_form(request, form, refuse, success="Saved.", next_url="/") is None
    assert form.errors["name"] == ["Taken."]
    assert list(get_messages(request)) == []


def test_run_action_says_how_it_went_and_goes_back():
    def refuse():
        raise ValidationError(["Too late.", "Closed."])

    request = _request("post")
    assert run_action(request, lambda: None, success="Done.", next_url="/a/")["Location"] == "/a/"
    assert run_action(request, refuse, success="Done.", next_url="/b/")["Location"] == "/b/"
    assert [str(m) for m in get_messages(request)] == ["Done.", "Too late. Closed."]


# --- htmx and going back --------------------------------------------------------------------
def test_is_htmx():
    assert is_htmx(_request(HX_Request="true"))
    assert not is_htmx(_request())


def test_next_url_keeps_pages_of_this_site_only():
    assert next_url(_request("post", {"next": "/programs/1/"}), "/home/") == "/programs/1/"
    assert next_url(_request("post", {"next": "https://evil.example/"}), "/home/") == "/home/"
    assert next_url(_request("get", {"next": "/inbox/"}), "/home/") == "/inbox/"
    assert redirect_back(_request("post"), "/home/")["Location"] == "/home/"


# --- permission -----------------------------------------------------------------------------
def test_require_refuses_with_the_message():
    require(True, "unused")
    with pytest.raises(PermissionDenied, match="Managers only"):
        require(False, "Managers only.")


# --- tasks ----------------------------------------------------------------------------------
class FakeTask:
    def __init__(self) -> None:
        self.enqueued: list[dict] = []

    def enqueue(self, **kwargs):
        self.enqueued.append(kwargs)


@pytest.mark.django_db(transaction=True)
def test_enqueue_on_commit_waits_for_the_commit_and_forgets_a_rollback():
    task = FakeTask()
    with transaction.atomic():
        enqueue_on_commit(task, ids=[1, 2])
        assert task.enqueued == []
    assert task.enqueued == [{"ids": [1, 2]}]

    with pytest.raises(RuntimeError), transaction.atomic():
        enqueue_on_commit(task, ids=[3])
        raise RuntimeError
    assert task.enqueued == [{"ids": [1, 2]}]
