"""Data-protection pages: a person's data export (theirs from Preferences, anyone's for
organisation admins from the directory), erasure, the retention rules and the audit log."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from peermentor.accounts.http import AuthenticatedHttpRequest
from peermentor.core.forms import handle_form
from peermentor.core.pagination import paginate
from peermentor.flows.privacy import audit, erasure, export, retention
from peermentor.flows.privacy.forms import AuditLogFilterForm, ErasureForm, RetentionPolicyForm
from peermentor.insights.pdf import PdfUnavailable, inline_stylesheets, render_pdf
from peermentor.people.models import Person
from peermentor.people.permissions import is_org_admin

FORMATS = ("json", "pdf")


def _require_admin(request: AuthenticatedHttpRequest) -> None:
    if not is_org_admin(request.user):
        raise PermissionDenied("Only organisation admins may open this page.")


def _own_person(request: AuthenticatedHttpRequest) -> Person:
    person = Person.objects.filter(user=request.user).first()
    if person is None:
        raise Http404("Your account has no directory entry.")
    return person


def _download(
    request: AuthenticatedHttpRequest, data: export.PersonExport, fmt: str
) -> HttpResponse:
    name = f"peermentor-personal-data-{data.person.pk}"
    if fmt == "json":
        response = HttpResponse(data.as_json(), content_type="application/json; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{name}.json"'
        return response
    if fmt == "pdf":
        html = render_to_string(
            "privacy/person_data_pdf.html",
            {"data": data, "stylesheets": inline_stylesheets()},
            request=request,
        )
        try:
            pdf = render_pdf(html)
        except PdfUnavailable as error:
            return HttpResponse(str(error), status=503, content_type="text/plain")
        response = HttpResponse(pdf, content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="{name}.pdf"'
        return response
    raise Http404("No such format.")


def _summary(
    request: AuthenticatedHttpRequest, data: export.PersonExport, urls: dict[str, str]
) -> HttpResponse:
    return render(
        request,
        "privacy/person_data.html",
        {"data": data, "urls": urls, "person": data.person, "is_own": data.is_complete},
    )


@require_GET
@login_required
def my_data(request: AuthenticatedHttpRequest) -> HttpResponse:
    person = _own_person(request)
    data = export.person_export(viewer=request.user, person=person)
    return _summary(
        request, data, {fmt: reverse("my_data_download", args=[fmt]) for fmt in FORMATS}
    )


@require_GET
@login_required
def my_data_download(request: AuthenticatedHttpRequest, fmt: str) -> HttpResponse:
    if fmt not in FORMATS:
        raise Http404("No such format.")
    person = _own_person(request)
    data = export.person_export(viewer=request.user, person=person)
    return _download(request, data, fmt)


@require_GET
@login_required
def person_data(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    _require_admin(request)
    person = get_object_or_404(Person, pk=pk)
    data = export.person_export(viewer=request.user, person=person)
    return _summary(
        request, data, {fmt: reverse("person_data_download", args=[pk, fmt]) for fmt in FORMATS}
    )


@require_GET
@login_required
def person_data_download(request: AuthenticatedHttpRequest, pk: int, fmt: str) -> HttpResponse:
    _require_admin(request)
    if fmt not in FORMATS:
        raise Http404("No such format.")
    person = get_object_or_404(Person, pk=pk)
    data = export.person_export(viewer=request.user, person=person)
    return _download(request, data, fmt)


@require_http_methods(["GET", "POST"])
@login_required
def person_erase(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    _require_admin(request)
    person = get_object_or_404(Person, pk=pk)
    preview = erasure.erasure_preview(actor=request.user, person=person)
    form = ErasureForm(request.POST or None)
    done = handle_form(
        request,
        form,
        lambda data: erasure.person_erase(actor=request.user, person=person, reason=data["reason"]),
        success=lambda erased: f"Erased: the directory now shows {erased.full_name}.",
        next_url=reverse("person_detail", args=[pk]),
    )
    return done or render(
        request,
        "privacy/person_erase.html",
        {
            "person": person,
            "preview": preview,
            "form": form,
            "is_self": person.user_id == request.user.pk,
        },
    )


@require_http_methods(["GET", "POST"])
@login_required
def retention_settings(request: AuthenticatedHttpRequest) -> HttpResponse:
    _require_admin(request)
    policy = retention.retention_policy()
    form = RetentionPolicyForm(
        request.POST or None,
        initial={
            "anonymise_leavers_after_months": policy.anonymise_leavers_after_months,
            "delete_private_notes_after_months": policy.delete_private_notes_after_months,
        },
    )
    done = handle_form(
        request,
        form,
        lambda data: retention.retention_policy_update(actor=request.user, **data),
        success="Retention rules saved: the periodic job applies them from its next run.",
        next_url=reverse("retention_settings"),
    )
    return done or render(request, "privacy/retention.html", {"form": form, "policy": policy})


def _audit_events(request: AuthenticatedHttpRequest) -> tuple[AuditLogFilterForm, object]:
    form = AuditLogFilterForm(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {}
    events = audit.audit_log_for(viewer=request.user, filters=audit.audit_filters(data))
    return form, events


@require_GET
@login_required
def audit_log(request: AuthenticatedHttpRequest) -> HttpResponse:
    _require_admin(request)
    form, events = _audit_events(request)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "privacy/audit_log.html",
        {"form": form, "page": paginate(request, events), "query": query.urlencode()},  # type: ignore[arg-type]
    )


@require_GET
@login_required
def audit_log_export(request: AuthenticatedHttpRequest) -> StreamingHttpResponse:
    _require_admin(request)
    _, events = _audit_events(request)
    response = StreamingHttpResponse(
        audit.audit_log_csv(events),  # type: ignore[arg-type]
        content_type="text/csv; charset=utf-8",
    )
    response["Content-Disposition"] = 'attachment; filename="peermentor-audit-log.csv"'
    return response
