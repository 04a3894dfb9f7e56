"""Admin-led matching over the API, for a program's managers: start a match run, poll it,
read its proposals and who was left out, cancel it, publish it.

A run works in the background: `POST .../runs` answers 201 with a queued run at once; poll
`GET /matches/runs/{id}` until its status is succeeded, failed or cancelled.
"""

from __future__ import annotations

import datetime
from typing import Any, Literal

from ninja import Field, Query, Router, Schema, Status

from peermentor.accounts.http import AuthenticatedHttpRequest
from peermentor.core.api import (
    ERRORS,
    READ_ERRORS,
    Id,
    Page,
    PageQuery,
    PersonRef,
    Ref,
    paginate,
)
from peermentor.core.errors import ApplicationError
from peermentor.enrollment.models import ParticipantRole
from peermentor.matches import selectors, services
from peermentor.matches.models import RunStatus
from peermentor.matches.permissions import get_managed_program, get_run_for
from peermentor.programs.models import Track

router = Router()


class RunOut(Schema):
    id: int
    program_id: int
    track: Ref | None
    parent_id: int | None = Field(description="The run this one re-matched the rest of.")
    status: RunStatus
    progress: float = Field(description="Fraction done, 0 to 1.")
    stage: str
    seed: int
    created_at: datetime.datetime
    started_at: datetime.datetime | None
    finished_at: datetime.datetime | None
    participant_count: int
    placed_count: int
    unmatched_count: int
    proposal_count: int
    total_score: float | None = Field(
        description="Of the proposals as they stand (not excluded), after any hand edit."
    )
    upper_bound: float | None = Field(description="A certified bound on the best total score.")
    gap: float | None = Field(description="(upper_bound - total_score) / upper_bound.")
    engine_total_score: float | None = Field(
        description="The engine's result before any hand edit (the certified one)."
    )
    is_certified_result: bool = Field(
        description="False once hand edits changed the proposals from the engine's result."
    )
    engine_seconds: float | None
    error_message: str = Field(description="Why a failed run failed.")
    published_at: datetime.datetime | None
    is_active: bool = Field(description="Queued or running: poll again.")


@router.get(
    "/programs/{program_id}/runs",
    response={200: Page[RunOut], **READ_ERRORS},
    summary="A program's match runs, newest first",
)
def run_list(
    request: AuthenticatedHttpRequest, program_id: int, page: Query[PageQuery]
) -> dict[str, Any]:
    program = get_managed_program(request.user, program_id)
    return paginate(selectors.run_list(viewer=request.user, program=program), page)


class RunStartIn(Schema):
    track: Id | None = Field(default=None, description="A track's id: match only that track.")
    seed: int | None = Field(
        default=None,
        ge=0,
        le=2**31 - 1,
        description="The same settings and seed give the same result.",
    )


@router.post(
    "/programs/{program_id}/runs",
    response={201: RunOut, **ERRORS},
    summary="Start a match run (it runs in the background)",
    description=(
        "Matches the participants who are ready, with the program's matching settings. One run "
        "at a time per program (or track); poll the run until it is no longer active."
    ),
)
def run_start(
    request: AuthenticatedHttpRequest, program_id: int, payload: RunStartIn | None = None
) -> Status[Any]:
    payload = payload or RunStartIn()  # every field is optional: no body is as good as {}
    program = get_managed_program(request.user, program_id)
    track = None
    if payload.track is not None:
        track = Track.objects.filter(pk=payload.track).first()
        if track is None:
            raise ApplicationError("Choose one of this program's tracks.", field="track")
    run = services.match_run_start(
        actor=request.user, program=program, track=track, seed=payload.seed
    )
    return Status(201, run)


class RunCountsOut(Schema):
    total: int
    locked: int
    excluded: int
    manual: int
    with_warnings: int


class RunDetailOut(RunOut):
    proposal_counts: RunCountsOut | None = Field(description="Once the run has succeeded.")


@router.get(
    "/runs/{run_id}",
    response={200: RunDetailOut, **READ_ERRORS},
    summary="A match run's status and progress; its summary once it has finished",
)
def run_get(request: AuthenticatedHttpRequest, run_id: int) -> dict[str, Any]:
    run = get_run_for(request.user, run_id)
    body = RunOut.model_validate(run).model_dump()
    body["proposal_counts"] = (
        selectors.run_counts(viewer=request.user, run=run)
        if run.status == RunStatus.SUCCEEDED
        else None
    )
    return body


@router.post(
    "/runs/{run_id}/cancel",
    response={200: RunOut, **ERRORS},
    summary="Cancel a queued or running run; it writes nothing",
)
def run_cancel(request: AuthenticatedHttpRequest, run_id: int) -> Any:
    run = get_run_for(request.user, run_id)
    return services.match_run_cancel(actor=request.user, run=run)


class ProposalMemberOut(Schema):
    participant_id: int
    person: PersonRef
    # Not constrained in the database: a plain string, so an odd value can't become a 500.
    role: str = Field(description="One of: " + ", ".join(ParticipantRole.values) + ".")
    department: str | None
    site: str | None
    reasons: str

    @staticmethod
    def resolve_person(member: Any) -> Any:
        return member.participant.person

    @staticmethod
    def resolve_department(member: Any) -> str | None:
        department = member.participant.person.department
        return department.name if department else None

    @staticmethod
    def resolve_site(member: Any) -> str | None:
        site = member.participant.person.site
        return site.name if site else None


class ProposalOut(Schema):
    id: int
    score: float
    reasons: str = Field(description="Why, in plain language.")
    is_locked: bool
    is_excluded: bool
    is_manual: bool
    warnings: list[Any] = Field(description="Rules a pair made by hand breaks.")
    members: list[ProposalMemberOut]

    @staticmethod
    def resolve_members(proposal: Any) -> list[Any]:
        return list(proposal.members.all())


class ProposalFilters(Schema):
    sort: Literal["-score", "score"] = "-score"
    department_id: Id | None = Field(None, description="Someone in it is from this department.")
    warnings: Literal["yes", "no"] | None = None
    state: Literal["locked", "excluded", "manual", "open"] | None = None


@router.get(
    "/runs/{run_id}/proposals",
    response={200: Page[ProposalOut], **READ_ERRORS},
    summary="A finished run's proposals with score and reasons",
)
def proposal_list(
    request: AuthenticatedHttpRequest,
    run_id: int,
    filters: Query[ProposalFilters],
    page: Query[PageQuery],
) -> dict[str, Any]:
    run = get_run_for(request.user, run_id)
    proposals = selectors.proposal_list(
        viewer=request.user,
        run=run,
        filters=selectors.ProposalFilters(
            sort=filters.sort,
            department_id=filters.department_id,
            warnings=filters.warnings or "",
            state=filters.state or "",
        ),
    )
    return paginate(proposals, page)


class UnmatchedOut(Schema):
    participant_id: int
    person: PersonRef
    department: str | None
    reason: str

    @staticmethod
    def resolve_person(entry: Any) -> Any:
        return entry.participant.person

    @staticmethod
    def resolve_department(entry: Any) -> str | None:
        department = entry.participant.person.department
        return department.name if department else None


@router.get(
    "/runs/{run_id}/unmatched",
    response={200: Page[UnmatchedOut], **READ_ERRORS},
    summary="Everyone a run left out, and why",
)
def unmatched_list(
    request: AuthenticatedHttpRequest, run_id: int, page: Query[PageQuery]
) -> dict[str, Any]:
    run = get_run_for(request.user, run_id)
    return paginate(selectors.unmatched_list(viewer=request.user, run=run), page)
