"""Starting and ending connections with their workspaces kept in step.

Connections (the layer below) only changes the connection: its state, members and history.
Each function here calls that service and then does, in the same transaction, what a
connection's workspace needs when it starts or ends: a started connection gets its engagement
plan (so dashboards and nudges count it from the first day); an ended one has its upcoming
meetings and circle sessions cancelled (members get the calendar cancellation); someone who
leaves a circle that goes on frees their seat and their "yes" to upcoming sessions.

Every app above engagement (match runs, self-match, the help network, flows) starts and ends
connections through these functions, never through connections.services directly, so no
connection can start without a plan or end with meetings still scheduled.
"""

from collections.abc import Sequence

from django.db import transaction

from peermentor.accounts.models import User
from peermentor.connections import services as connections
from peermentor.connections.models import Connection, EndReason
from peermentor.engagement.services.circles import circle_member_left
from peermentor.engagement.services.meetings import meetings_cancel_for_ended
from peermentor.engagement.services.plans import plans_instantiate_many
from peermentor.enrollment.models import Participant
from peermentor.programs.models import Program, Track


@transaction.atomic
def connection_activate(*, actor: User, connection: Connection) -> Connection:
    """Afterwards the connection is active (connections.connection_activate) and has its plan."""
    connection = connections.connection_activate(actor=actor, connection=connection)
    plans_instantiate_many(actor=actor, connection_ids=[connection.pk])
    return connection


@transaction.atomic
def connections_activate_many(
    *,
    actor: User,
    program: Program,
    connection_ids: Sequence[int] | None = None,
    match_run_id: int | None = None,
) -> list[int]:
    """Afterwards every named proposal is active and has its plan, in bounded queries however
    many there are. Returns the ids started."""
    ids = connections.connections_activate_many(
        actor=actor, program=program, connection_ids=connection_ids, match_run_id=match_run_id
    )
    if ids:
        plans_instantiate_many(actor=actor, connection_ids=ids)
    return ids


def _cancel_meetings(actor: User | None, connection_ids: Sequence[int], reason: str) -> None:
    if connection_ids:
        meetings_cancel_for_ended(actor=actor, connection_ids=connection_ids, reason=reason)


def _reason(reason_code: str, reason_text: str) -> str:
    return reason_text.strip() or (EndReason(reason_code).label if reason_code else "")


@transaction.atomic
def connection_cancel(*, actor: User, connection: Connection, reason: str = "") -> Connection:
    """Afterwards the proposal is cancelled and nothing of it stays scheduled."""
    connection = connections.connection_cancel(actor=actor, connection=connection, reason=reason)
    _cancel_meetings(actor, [connection.pk], reason.strip())
    return connection


@transaction.atomic
def connections_cancel_many(
    *,
    actor: User | None,
    program: Program,
    connection_ids: Sequence[int] | None = None,
    match_run_id: int | None = None,
    reason: str = "",
) -> list[int]:
    """Afterwards every named proposal is cancelled and nothing of them stays scheduled."""
    ids = connections.connections_cancel_many(
        actor=actor,
        program=program,
        connection_ids=connection_ids,
        match_run_id=match_run_id,
        reason=reason,
    )
    _cancel_meetings(actor, ids, reason)
    return ids


@transaction.atomic
def connections_complete_many(
    *,
    actor: User | None,
    program: Program,
    track: Track | None = None,
    connection_ids: Sequence[int] | None = None,
    reason_code: str = EndReason.COMPLETED_NATURALLY,
    reason_text: str = "",
) -> list[int]:
    """Afterwards every active connection of `program` (of `track`, or among
    `connection_ids`) is completed (connections.connections_complete_many) and none of them has
    a meeting or circle session still to come. Bounded queries. Returns the ids completed."""
    ids = connections.connections_complete_many(
        actor=actor,
        program=program,
        track=track,
        connection_ids=connection_ids,
        reason_code=reason_code,
        reason_text=reason_text,
    )
    _cancel_meetings(actor, ids, _reason(reason_code, reason_text))
    return ids


@transaction.atomic
def connection_complete(
    *,
    actor: User,
    connection: Connection,
    reason_code: str = EndReason.COMPLETED_NATURALLY,
    reason_text: str = "",
) -> Connection:
    """Afterwards the connection is completed and its upcoming meetings are cancelled."""
    connection = connections.connection_complete(
        actor=actor, connection=connection, reason_code=reason_code, reason_text=reason_text
    )
    _cancel_meetings(actor, [connection.pk], _reason(reason_code, reason_text))
    return connection


@transaction.atomic
def connection_close_early(
    *, actor: User, connection: Connection, reason_code: str, reason_text: str = ""
) -> Connection:
    """Afterwards the connection is closed early with its reason and its upcoming meetings are
    cancelled."""
    connection = connections.connection_close_early(
        actor=actor, connection=connection, reason_code=reason_code, reason_text=reason_text
    )
    _cancel_meetings(actor, [connection.pk], _reason(reason_code, reason_text))
    return connection


@transaction.atomic
def participant_connections_end(
    *, actor: User | None, participant: Participant, reason_code: str, reason_text: str = ""
) -> int:
    """Afterwards `participant` holds no current place (connections.participant_connections_end),
    the connections that ended have nothing scheduled, and the circles that go on without them
    have their seat free and their answers to upcoming sessions withdrawn. Returns how many
    connections changed."""
    changed = connections.participant_connections_end(
        actor=actor, participant=participant, reason_code=reason_code, reason_text=reason_text
    )
    for connection_id in changed.left_circle_ids:
        circle_member_left(actor=actor, connection_id=connection_id, participant_id=participant.pk)
    _cancel_meetings(actor, changed.ended_ids, changed.reason)
    return changed.count
