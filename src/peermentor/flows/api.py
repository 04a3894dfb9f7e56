"""API endpoints of the cross-app use cases, mounted beside their app's routers under the same
paths and tags (api/main.py): publishing a run, closing a connection early."""

from __future__ import annotations

from typing import Any

from ninja import Field, Router, Schema

from peermentor.accounts.http import AuthenticatedHttpRequest
from peermentor.connections import selectors as connection_selectors
from peermentor.connections.api import ConnectionDetailOut, detail_body
from peermentor.connections.models import EndReason
from peermentor.core.api import ERRORS, Text
from peermentor.engagement import services as engagement
from peermentor.flows.publish import match_run_publish
from peermentor.matches.api import RunOut
from peermentor.matches.permissions import get_run_for

matches = Router()
connections = Router()


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
