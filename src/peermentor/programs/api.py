"""Programs over the API: the ones the viewer may see, one program, create from goals, move its
status. Fetching goes through `get_program_for` (404 outsiders, 403 read-only members)."""

from __future__ import annotations

import datetime
from typing import Any

from ninja import Field, Query, Router, Schema, Status

from peermentor.accounts.http import AuthenticatedHttpRequest
from peermentor.core.api import (
    ERRORS,
    READ_ERRORS,
    Id,
    Page,
    PageQuery,
    Ref,
    RequiredText,
    Text,
    paginate,
)
from peermentor.programs import services
from peermentor.programs.models import Format, Goal, ProgramStatus
from peermentor.programs.permissions import get_program_for
from peermentor.programs.selectors import program_detail, program_list

router = Router()


class ProgramOut(Schema):
    id: int
    name: str
    description: str
    goals: list[str]
    format: Format
    status: ProgramStatus
    sponsor: str
    theme: str
    enrollment_opens_on: datetime.date | None
    enrollment_closes_on: datetime.date | None
    starts_on: datetime.date | None
    planned_end_on: datetime.date | None
    is_self_enrollment_open: bool
    needs_manager_approval: bool
    is_self_match_enabled: bool
    group_size_min: int
    group_size_max: int
    has_facilitator: bool
    default_capacity: int


class ProgramListItemOut(ProgramOut):
    participant_count: int = Field(description="Enrolled or waiting for approval.")
    ready_count: int = Field(description="Enrolled with profile and training done.")
    pending_count: int = Field(description="Waiting for approval.")
    viewer_is_manager: bool
    viewer_is_participant: bool


class QuestionOut(Schema):
    key: str
    label: str
    help_text: str
    kind: str
    choices: list[Any]
    is_required: bool


class TrainingModuleOut(Schema):
    id: int
    title: str
    kind: str
    is_required: bool


class CountsOut(Schema):
    participant_count: int
    ready_count: int
    pending_count: int


class NextStepOut(Schema):
    text: str
    urgency: str = Field(description='"bad" needs action now, "warn" soon, "" nothing urgent.')


class ManagementOut(Schema):
    """What only the program's managers see."""

    counts: CountsOut
    next_step: NextStepOut
    allowed_transitions: list[ProgramStatus]
    tracks: list[Ref]
    manager_emails: list[str]
    matching_criteria: list[str]
    matching_constraints: list[str]


class ProgramDetailOut(ProgramOut):
    questions: list[QuestionOut]
    training_modules: list[TrainingModuleOut]
    is_participant: bool
    is_open_for_enrollment: bool
    can_manage: bool
    management: ManagementOut | None = Field(
        description="Counts, next step and settings; null unless the viewer manages it."
    )


def _detail_body(request: AuthenticatedHttpRequest, program: Any) -> dict[str, Any]:
    context = program_detail(viewer=request.user, program=program)
    body = {
        **ProgramOut.model_validate(program).model_dump(),
        "questions": context["questions"],
        "training_modules": context["training_modules"],
        "is_participant": context["is_participant"],
        "is_open_for_enrollment": context["is_open_for_enrollment"],
        "can_manage": context["can_manage"],
        "management": None,
    }
    if context["can_manage"]:
        body["management"] = {
            "counts": context["counts"],
            "next_step": context["next_step"],
            "allowed_transitions": context["transitions"],
            "tracks": context["tracks"],
            "manager_emails": [link.user.email for link in context["managers"]],
            "matching_criteria": context["policy"]["criteria"],
            "matching_constraints": context["policy"]["constraints"],
        }
    return body


class ProgramFilters(Schema):
    status: ProgramStatus | None = None
    search: Text = Field("", max_length=200, description="Words in the program's name.")


@router.get(
    "",
    response={200: Page[ProgramListItemOut], **READ_ERRORS},
    summary="Programs the viewer may see, with participant counts",
    description=(
        "Organisation admins see every program; program managers theirs; everyone the programs "
        "open for enrollment and those they take part in."
    ),
)
def program_list_endpoint(
    request: AuthenticatedHttpRequest, filters: Query[ProgramFilters], page: Query[PageQuery]
) -> dict[str, Any]:
    programs = program_list(
        viewer=request.user,
        status=filters.status.value if filters.status else None,
        search=filters.search,
    )
    return paginate(programs, page)


class EligibilityIn(Schema):
    department_ids: list[Id] = []
    site_ids: list[Id] = []
    levels: list[Text] = []
    min_tenure_months: int = Field(0, ge=0)


class ProgramCreateIn(Schema):
    name: RequiredText = Field(max_length=200)
    goals: list[Goal] = Field(
        description="At least one; they pre-fill everything else.",
        json_schema_extra={"minItems": 1},
    )
    format: Format | None = Field(None, description="Defaults to the goals' usual format.")
    description: Text = ""
    sponsor: Text = Field("", max_length=200)
    theme: Text = Field("", max_length=200)
    enrollment_opens_on: datetime.date | None = None
    enrollment_closes_on: datetime.date | None = None
    starts_on: datetime.date | None = None
    planned_end_on: datetime.date | None = None
    is_self_enrollment_open: bool = True
    needs_manager_approval: bool = False
    is_self_match_enabled: bool = False
    group_size_min: int | None = Field(None, ge=2, le=100)
    group_size_max: int | None = Field(None, ge=2, le=100)
    has_facilitator: bool = False
    default_capacity: int | None = Field(None, ge=1, le=100)
    anonymity_threshold: int = Field(5, ge=2, le=1000)
    eligibility: EligibilityIn | None = None


@router.post(
    "",
    response={201: ProgramDetailOut, **ERRORS},
    summary="Create a draft program from its goals (organisation admins)",
    description=(
        "The goals pre-fill the format, profile questions, training, matching rules and "
        "success metrics; all can be changed on the program's pages."
    ),
)
def program_create(request: AuthenticatedHttpRequest, payload: ProgramCreateIn) -> Status[Any]:
    data = payload.model_dump()
    # Plain strings, not enum members, go into the program's JSON fields and audit trail.
    data["goals"] = [goal.value for goal in payload.goals]
    data["format"] = payload.format.value if payload.format else None
    if payload.eligibility is not None:
        data["eligibility"] = payload.eligibility.model_dump(exclude_defaults=True)
    program = services.program_create(actor=request.user, **data)
    return Status(201, _detail_body(request, program))


@router.get(
    "/{program_id}",
    response={200: ProgramDetailOut, **READ_ERRORS},
    summary="One program: the public page, and its management data for its managers",
)
def program_get(request: AuthenticatedHttpRequest, program_id: int) -> dict[str, Any]:
    return _detail_body(request, get_program_for(request.user, program_id))
