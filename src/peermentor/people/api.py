"""The directory over the API, for organisation admins: people, and the HR import.

Thin: each endpoint parses with a schema (or the import's own upload form), calls one selector or
service of `people`, and serialises. Permission checks live in those selectors and services.
"""

from __future__ import annotations

import datetime
from typing import Any, Literal

from django.core.exceptions import PermissionDenied
from ninja import Field, Query, Router, Schema, Status

from peermentor.accounts.http import AuthenticatedHttpRequest
from peermentor.core.api import (
    ERRORS,
    READ_ERRORS,
    ErrorOut,
    Id,
    Page,
    PageQuery,
    PersonRef,
    Ref,
    Text,
    paginate,
)
from peermentor.core.errors import ApplicationError
from peermentor.people import selectors, services
from peermentor.people.forms import MAX_UPLOAD_BYTES, ImportUploadForm
from peermentor.people.permissions import can_import_people

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

router = Router()

# An invalid file can list a problem for every one of 20,000 rows: the batch shows the first
# ones, the errors endpoint pages through all of them.
ERRORS_SHOWN = 100


# --- the HR import ---------------------------------------------------------------------------
# Routes match in the order they are declared and "/{person_id}" would also take "/imports":
# the import routes come first.
class ImportProblemOut(Schema):
    line: int | None = None
    field: str | None = None
    message: str
    external_id: str | None = None


class ImportBatchOut(Schema):
    id: int
    status: Literal["ready", "invalid", "applied"]
    file_name: str
    file_format: str
    row_count: int
    columns: list[str]
    created_at: datetime.datetime
    error_count: int
    errors: list[ImportProblemOut] = Field(
        description=f"The first {ERRORS_SHOWN} problems; page through all of them at /errors."
    )
    warnings: list[Any]
    preview: dict[str, Any] = Field(description="What applying would do, as of the upload.")
    applied_at: datetime.datetime | None
    deactivate_missing: bool
    summary: dict[str, int] = Field(description="What applying did (empty until applied).")

    @staticmethod
    def resolve_error_count(batch: Any) -> int:
        return len(batch.errors)

    @staticmethod
    def resolve_errors(batch: Any) -> list[Any]:
        return batch.errors[:ERRORS_SHOWN]


class ImportApplyIn(Schema):
    deactivate_missing: bool = Field(
        default=False, description="Deactivate active people who are not in the file (leavers)."
    )


class ImportSummaryOut(Schema):
    created: int
    updated: int
    unchanged: int
    deactivated: int
    departments_created: int
    sites_created: int
    job_changes: int = Field(
        0, description="People whose department, job title or level changed (job history)."
    )


class ImportRejectedOut(ErrorOut):
    errors: list[ImportProblemOut]


# The upload is described here rather than taken as a `File` parameter: ninja would read the
# body before the endpoint runs, and only an organisation admin's upload should be read at all.
IMPORT_UPLOAD_BODY = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": ["file"],
                "properties": {
                    "file": {
                        "type": "string",
                        "format": "binary",
                        "description": (
                            "The HR export: a .csv (UTF-8) or .xlsx file with a header row, "
                            f"at most {MAX_UPLOAD_BYTES // (1024 * 1024)} MB."
                        ),
                    }
                },
            },
            "encoding": {"file": {"contentType": f"text/csv, {XLSX_CONTENT_TYPE}"}},
        }
    },
}


@router.post(
    "/imports",
    response={201: ImportBatchOut, **ERRORS, 413: ErrorOut},
    summary="Upload an HR export (CSV or XLSX) and get its preview",
    description=(
        "Checks every row against the directory and stores the result; nothing in the directory "
        'changes. A batch with status "ready" can be applied; "invalid" lists every bad row.'
    ),
    openapi_extra={"requestBody": IMPORT_UPLOAD_BODY},
)
def import_preview(request: AuthenticatedHttpRequest) -> Status[Any]:
    if not can_import_people(request.user):
        raise PermissionDenied("Only organisation administrators can import people.")
    form = ImportUploadForm(data={}, files=request.FILES)
    if not form.is_valid():
        raise ApplicationError(" ".join(str(error) for error in form.errors["file"]), field="file")
    upload = form.cleaned_data["file"]
    batch = services.people_import_preview(
        actor=request.user, file_name=upload.name or "upload", content=upload.read()
    )
    return Status(201, batch)


@router.get(
    "/imports/{batch_id}",
    response={200: ImportBatchOut, **READ_ERRORS},
    summary="One import: its preview, or what applying it did",
)
def import_detail(request: AuthenticatedHttpRequest, batch_id: int) -> Any:
    return selectors.import_batch_get(viewer=request.user, pk=batch_id)


@router.get(
    "/imports/{batch_id}/errors",
    response={200: Page[ImportProblemOut], **READ_ERRORS},
    summary="Every problem found in an import's file",
)
def import_errors(
    request: AuthenticatedHttpRequest, batch_id: int, page: Query[PageQuery]
) -> dict[str, Any]:
    batch = selectors.import_batch_get(viewer=request.user, pk=batch_id)
    return paginate(batch.errors, page)


@router.post(
    "/imports/{batch_id}/apply",
    response={200: ImportSummaryOut, **ERRORS, 409: ImportRejectedOut},
    summary="Apply a previewed import to the directory, all or nothing",
)
def import_apply(
    request: AuthenticatedHttpRequest, batch_id: int, payload: ImportApplyIn | None = None
) -> Any:
    payload = payload or ImportApplyIn()  # every field is optional: no body is as good as {}
    batch = selectors.import_batch_get(viewer=request.user, pk=batch_id)
    try:
        return services.people_import_apply(
            actor=request.user, batch=batch, deactivate_missing=payload.deactivate_missing
        )
    except services.ImportRejected as rejected:
        return Status(409, {"message": rejected.message, "field": None, "errors": rejected.errors})


# --- people --------------------------------------------------------------------------------
class SiteRef(Ref):
    time_zone: str


class PersonOut(Schema):
    id: int
    external_id: str
    full_name: str
    email: str
    department: Ref | None
    site: SiteRef | None
    job_title: str
    level: str
    time_zone: str
    manager: PersonRef | None
    hire_date: datetime.date | None
    leaving_date: datetime.date | None
    languages: list[str]
    is_active: bool
    has_account: bool

    @staticmethod
    def resolve_has_account(person: Any) -> bool:
        return person.user_id is not None


class PersonDetailOut(PersonOut):
    reporting_chain: list[PersonRef] = Field(description="Managers, the direct one first.")
    direct_report_count: int
    direct_reports: list[PersonRef] = Field(
        description=f"Direct reports by name (the first {selectors.REPORTS_SHOWN})."
    )


class PersonFilters(Schema):
    search: Text = Field("", max_length=200, description="Words in the name, e-mail or HR id.")
    department_id: Id | None = None
    site_id: Id | None = None
    level: Text = Field("", max_length=40)
    status: Literal["active", "inactive", "all"] = "active"


@router.get(
    "",
    response={200: Page[PersonOut], **READ_ERRORS},
    summary="List and search the directory",
)
def person_list(
    request: AuthenticatedHttpRequest, filters: Query[PersonFilters], page: Query[PageQuery]
) -> dict[str, Any]:
    people = selectors.person_list(
        viewer=request.user,
        search=filters.search,
        department_id=filters.department_id,
        site_id=filters.site_id,
        level=filters.level,
        is_active={"active": True, "inactive": False}.get(filters.status),
    )
    return paginate(people, page)


@router.get(
    "/{person_id}",
    response={200: PersonDetailOut, **READ_ERRORS},
    summary="One person, with their reporting line",
)
def person_detail(request: AuthenticatedHttpRequest, person_id: int) -> Any:
    detail = selectors.person_detail(viewer=request.user, pk=person_id)
    # The response schema reads the reporting line from the person as well.
    person: Any = detail.person
    person.reporting_chain = detail.reporting_chain
    person.direct_report_count = detail.report_count
    person.direct_reports = detail.reports
    return person
