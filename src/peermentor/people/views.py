from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from peermentor.accounts.http import AuthenticatedHttpRequest
from peermentor.core.errors import ApplicationError
from peermentor.core.pagination import paginate
from peermentor.core.permissions import require
from peermentor.people import selectors, services
from peermentor.people.exports import errors_csv, template_csv
from peermentor.people.forms import DirectoryFilterForm, ImportApplyForm, ImportUploadForm
from peermentor.people.hr_import import COLUMNS
from peermentor.people.permissions import can_browse_directory, can_import_people

ERRORS_PER_PAGE = 100


@require_GET
@login_required
def person_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    require(can_browse_directory(request.user))
    form = DirectoryFilterForm(request.GET or None, levels=selectors.level_options())
    people = selectors.person_list(viewer=request.user, **form.filters())
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "people/person_list.html",
        {"form": form, "page": paginate(request, people), "query": query.urlencode()},
    )


@require_GET
@login_required
def person_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    require(can_browse_directory(request.user))
    detail = selectors.person_detail(viewer=request.user, pk=pk)
    return render(request, "people/person_detail.html", {"detail": detail, "person": detail.person})


@require_http_methods(["GET", "POST"])
@login_required
def people_import(request: AuthenticatedHttpRequest) -> HttpResponse:
    require(can_import_people(request.user))
    # An empty POST is still a submission: bind the form so it reports the missing file.
    is_post = request.method == "POST"
    form = ImportUploadForm(request.POST if is_post else None, request.FILES if is_post else None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            batch = services.people_import_preview(
                actor=request.user, file_name=upload.name, content=upload.read()
            )
        except ApplicationError as error:
            form.add_error("file", error.message)
        else:
            return redirect("people_import_preview", batch_pk=batch.pk)
    return render(
        request,
        "people/import.html",
        {
            "form": form,
            "columns": COLUMNS,
            "batches": selectors.import_batch_list(viewer=request.user),
        },
        status=400 if form.errors else 200,
    )


@require_http_methods(["GET", "POST"])
@login_required
def import_preview(request: AuthenticatedHttpRequest, batch_pk: int) -> HttpResponse:
    require(can_import_people(request.user))
    batch = selectors.import_batch_get(viewer=request.user, pk=batch_pk)
    form = ImportApplyForm(request.POST if request.method == "POST" else None)
    errors = batch.errors
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            summary = services.people_import_apply(
                actor=request.user,
                batch=batch,
                deactivate_missing=form.cleaned_data["deactivate_missing"],
            )
        except services.ImportRejected as rejected:
            messages.error(request, rejected.message)
            errors, status = rejected.errors, 409
        except ApplicationError as error:
            messages.error(request, error.message)
            return redirect("people_import_preview", batch_pk=batch.pk)
        else:
            messages.success(
                request,
                "Imported: {created} created, {updated} updated, {unchanged} unchanged, "
                "{deactivated} deactivated.".format(**summary),
            )
            return redirect("people_import_preview", batch_pk=batch.pk)
    error_page = Paginator(errors, ERRORS_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "people/import_preview.html",
        {"batch": batch, "form": form, "error_page": error_page, "error_count": len(errors)},
        status=status,
    )


@require_GET
@login_required
def import_errors(request: AuthenticatedHttpRequest, batch_pk: int) -> HttpResponse:
    require(can_import_people(request.user))
    batch = selectors.import_batch_get(viewer=request.user, pk=batch_pk)
    response = HttpResponse(errors_csv(batch.errors), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="import-{batch.pk}-problems.csv"'
    return response


@require_GET
@login_required
def import_template(request: AuthenticatedHttpRequest) -> HttpResponse:
    require(can_import_people(request.user))
    response = HttpResponse(template_csv(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="peermentor-people-template.csv"'
    return response
