"""Enrollment over the API: a program's participants for its managers, one's own
participations, and enrolling in an open program."""

from __future__ import annotations

import datetime
from typing import Any, Literal

from ninja import Field, Query, Router, Schema, Status

from peermentor.accounts.http import AuthenticatedHttpRequest
from peermentor.core.api import ERRORS, READ_ERRORS, Id, Page, PageQuery, Ref, Text, paginate
from peermentor.core.errors import ApplicationError
from peermentor.enrollment import selectors, services
from peermentor.enrollment.models import Participant, ParticipantRole, ParticipantStatus
from peermentor.enrollment.permissions import get_program_for
from peermentor.programs.models import Format, ProgramStatus, Track

router = Router()


class ParticipantPersonOut(Schema):
    id: int
    full_name: str
    email: str
    department: Ref | None
    site: Ref | None


class ParticipantOut(Schema):
    id: int
    person: ParticipantPersonOut
    track: Ref | None
    role: ParticipantRole
    status: ParticipantStatus
    capacity: int
    is_profile_complete: bool
    is_training_complete: bool
    is_ready: bool
    ready_at: datetime.datetime | None
    enrolled_at: datetime.datetime
    missing: list[str] = Field(description="What still stands between them and matching.")


class ParticipantFilters(Schema):
    status: ParticipantStatus | None = None
    readiness: Literal["ready", "not_ready"] | None = None
    track_id: Id | None = None
    search: Text = Field("", max_length=200, description="Words in the name or e-mail.")


class ParticipantPage(Page[ParticipantOut]):
    requirements: dict[str, int] = Field(
        description="required_questions and required_modules of the program."
    )


@router.get(
    "/programs/{program_id}/participants",
    response={200: ParticipantPage, **READ_ERRORS},
    summary="A program's participants with their status and what is missing (its managers)",
)
def participant_list(
    request: AuthenticatedHttpRequest,
    program_id: int,
    filters: Query[ParticipantFilters],
    page: Query[PageQuery],
) -> dict[str, Any]:
    program = get_program_for(request.user, program_id, write=True)
    participants = selectors.participant_list(
        viewer=request.user,
        program=program,
        status=filters.status.value if filters.status else "",
        track_id=filters.track_id,
        readiness=filters.readiness or "",
        search=filters.search,
    )
    requirements = selectors.program_requirements(program)
    body = paginate(
        participants,
        page,
        requirements={
            "required_questions": requirements.required_questions,
            "required_modules": requirements.required_modules,
        },
    )
    for participant in body["items"]:
        participant.missing = selectors.participant_missing(participant, requirements)
    return body


class ProgramBriefOut(Schema):
    id: int
    name: str
    format: Format
    status: ProgramStatus


class ParticipationOut(Schema):
    id: int
    program: ProgramBriefOut
    track: Ref | None
    role: ParticipantRole
    status: ParticipantStatus
    is_profile_complete: bool
    is_training_complete: bool
    is_ready: bool
    enrolled_at: datetime.datetime
    next_step: str

    @staticmethod
    def resolve_next_step(participant: Participant) -> str:
        # A new participation has no connection yet; flows' "my participations" derives the
        # next step of a matched one from its connections.
        return selectors.next_step(participant)


class EnrollIn(Schema):
    role: ParticipantRole | None = Field(
        default=None, description="Needed when the format offers two roles (e.g. host or shadow)."
    )
    track: Id | None = Field(default=None, description="The track's id; needed when it has tracks.")


@router.post(
    "/programs/{program_id}/enroll",
    response={201: ParticipationOut, **ERRORS},
    summary="Enroll in a program open for enrollment",
    description=(
        "Enrolls the directory person linked to the caller's account. Programs that need a "
        'manager\'s approval answer with status "pending_approval".'
    ),
)
def enroll(
    request: AuthenticatedHttpRequest, program_id: int, payload: EnrollIn | None = None
) -> Status[Any]:
    # Every field is optional, so no body at all is as good as {}.
    payload = payload or EnrollIn()
    program = get_program_for(request.user, program_id)
    track = None
    if payload.track is not None:
        track = Track.objects.filter(pk=payload.track).first()
        if track is None:
            raise ApplicationError("Choose one of this program's tracks.", field="track")
    participant = services.participant_enroll(
        actor=request.user,
        program=program,
        track=track,
        role=payload.role.value if payload.role else None,
    )
    return Status(201, participant)
