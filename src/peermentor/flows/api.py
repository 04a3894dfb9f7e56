"""API endpoints of the cross-app use cases, mounted beside their app's routers under the same
paths and tags (api/main.py): publishing a run, closing a connection early, closing a program,
one's own participations with their connections, withdrawing, a person leaving."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from ninja import Field, Query, Router, Schema

from peermentor.accounts.http import AuthenticatedHttpRequest
from peermentor.accounts.models import User
from peermentor.connections import selectors as connection_selectors
from peermentor.connections.api import ConnectionDetailOut, detail_body
from peermentor.connections.models import ConnectionKind, ConnectionStatus, EndReason
from peermentor.connections.selectors import participation_states
from peermentor.core.api import ERRORS, READ_ERRORS, Page, PageQuery, RequiredText, Text, paginate
from peermentor.engagement import services as engagement
from peermentor.enrollment.api import ParticipationOut
from peermentor.enrollment.models import Participant
from peermentor.flows import program_close as program_close_flow
from peermentor.flows.publish import match_run_publish
from peermentor.matches.api import RunOut
from peermentor.matches.permissions import get_run_for
from peermentor.programs.api import ProgramDetailOut, _detail_body
from peermentor.programs.models import ProgramStatus
from peermentor.programs.permissions import get_program_for

matches = Router()
connections = Router()
enrollment = Router()
programs = Router()
people = Router()


class PublishOut(Schema):
    connection_count: int = Field(description="Connections the proposals became.")
    run: RunOut


@matches.post(
    "/runs/{run_id}/publish",
    response={200: PublishOut, **ERRORS},
    summary="Publish a finished run: every proposal not excluded becomes a connection",
    description=(
        "All or nothing, in one transaction; the people are told by e-mail afterwards. "
        "If anyone can no longer be placed, nothing is published and the message names them."
    ),
)
def run_publish(request: AuthenticatedHttpRequest, run_id: int) -> dict[str, Any]:
    run = get_run_for(request.user, run_id)
    count = match_run_publish(actor=request.user, run=run)
    return {"connection_count": count, "run": get_run_for(request.user, run_id)}


class CloseEarlyIn(Schema):
    reason_code: EndReason = Field(
        description="Why: no_time, not_a_good_fit, left_organisation, goals_met or other."
    )
    reason_text: Text = Field(
        "", max_length=2000, description='In a few words; needed with "other".'
    )


@connections.post(
    "/{connection_id}/close",
    response={200: ConnectionDetailOut, **ERRORS},
    summary="Close an active connection early, with a reason (members or managers)",
    description=(
        "Ends the connection for every member and frees them to be matched again; the reason "
        "is kept in its history. Only an active connection can close (409 otherwise)."
    ),
)
def connection_close(
    request: AuthenticatedHttpRequest, connection_id: int, payload: CloseEarlyIn
) -> Any:
    connection, _me, _is_manager = connection_selectors.get_connection_for(
        viewer=request.user, pk=connection_id
    )
    engagement.connection_close_early(
        actor=request.user,
        connection=connection,
        reason_code=payload.reason_code.value,
        reason_text=payload.reason_text,
    )
    return detail_body(
        connection_selectors.connection_detail(viewer=request.user, pk=connection_id)
    )


class ParticipationConnectionOut(Schema):
    id: int
    kind: ConnectionKind
    status: ConnectionStatus
    partners: list[str] = Field(description="The other members' names.")
    url: str = Field(description="The workspace (or circle) page on the site.")


class MyParticipationOut(ParticipationOut):
    connections: list[ParticipationConnectionOut] = Field(
        description="Proposed and active connections, then ended ones, most recent first."
    )
    next_step: str = Field(description="The same sentence as the home page's.")

    @staticmethod
    def resolve_next_step(participant: Any) -> str:
        return str(participant.next_step)


def _own_participations(viewer: User) -> QuerySet[Participant]:
    return (
        Participant.objects.filter(person__user_id=viewer.pk)
        .exclude(program__status=ProgramStatus.DRAFT)
        .select_related("program", "track")
        .order_by("-enrolled_at", "-pk")
    )


@enrollment.get(
    "/participations/mine",
    response={200: Page[MyParticipationOut], **READ_ERRORS},
    summary="The programs I take part in, my partners in each and what to do next",
)
def my_participations(request: AuthenticatedHttpRequest, page: Query[PageQuery]) -> dict[str, Any]:
    body = paginate(_own_participations(request.user), page)
    items = []
    for state in participation_states(body["items"]):
        participant = state.participant
        # The schema reads these two beside the participation's own fields.
        participant.__dict__.update(
            next_step=state.next_step,
            connections=[
                {
                    "id": brief.connection.pk,
                    "kind": brief.connection.kind,
                    "status": brief.connection.status,
                    "partners": brief.partner_names,
                    "url": brief.workspace_url,
                }
                for brief in state.connections
            ],
        )
        items.append(participant)
    body["items"] = items
    return body


class TransitionIn(Schema):
    to_status: ProgramStatus
    reason: RequiredText = Field(max_length=2000, description="Why: kept in the program's history.")


@programs.post(
    "/{program_id}/transition",
    response={200: ProgramDetailOut, **ERRORS},
    summary="Move the program to another status (its managers)",
    description=(
        "draft → enrolling → matching → running → closed, and one step back from enrolling or "
        "matching. A move the program's status does not allow answers 409. Closing completes "
        "every active connection, drops every proposal and cancels upcoming meetings in the "
        "same transaction, then sends the closing survey: see GET /programs/{id}/closure first."
    ),
)
def program_transition(
    request: AuthenticatedHttpRequest, program_id: int, payload: TransitionIn
) -> dict[str, Any]:
    program = get_program_for(request.user, program_id, write=True)
    program = program_close_flow.program_transition(
        actor=request.user,
        program=program,
        to_status=payload.to_status.value,
        reason=payload.reason,
    )
    return _detail_body(request, program)


class ClosureOut(Schema):
    active_connections: int = Field(description="Completed when the program closes.")
    proposals: int = Field(description="Dropped when the program closes.")
    upcoming_meetings: int = Field(description="Meetings and circle sessions cancelled.")
    closing_surveys: list[str] = Field(description="Titles of the surveys sent at closure.")


@programs.get(
    "/{program_id}/closure",
    response={200: ClosureOut, **READ_ERRORS},
    summary="What closing the program would do now (its managers)",
)
def program_closure(request: AuthenticatedHttpRequest, program_id: int) -> Any:
    program = get_program_for(request.user, program_id, write=True)
    return program_close_flow.closure_preview(program=program)
