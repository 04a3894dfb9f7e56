"""The state machine of one connection: start, drop, complete, close early, extend, reflect;
and ending every connection of someone who leaves."""

from dataclasses import dataclass
from datetime import date

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone

from peermentor.accounts.models import User
from peermentor.connections.models import (
    Connection,
    ConnectionKind,
    ConnectionMember,
    ConnectionSource,
    ConnectionStatus,
    EndReason,
    Reflection,
)
from peermentor.connections.permissions import can_manage_program, member_for
from peermentor.connections.services._common import _end, _lock, _require_status
from peermentor.core.errors import ApplicationError, full_clean
from peermentor.core.services import audit_record
from peermentor.enrollment.models import Participant


@dataclass(frozen=True)
class ConnectionsLeft:
    """What participant_connections_end changed."""

    ended_ids: list[int]
    left_circle_ids: list[int]
    reason: str

    @property
    def count(self) -> int:
        return len(self.ended_ids) + len(self.left_circle_ids)


EARLY_CLOSE_REASONS = tuple(r for r in EndReason.values if r != EndReason.COMPLETED_NATURALLY)
COMPLETE_REASONS = (EndReason.COMPLETED_NATURALLY, EndReason.GOALS_MET)


def _may_act_for_self_made(actor: User, connection: Connection) -> bool:
    """Members act on connections they made themselves (requests, help-network offers)."""
    return connection.source in (
        ConnectionSource.SELF_MATCH,
        ConnectionSource.HELP_NETWORK,
    ) and bool(member_for(actor, connection))


@transaction.atomic
def connection_activate(*, actor: User, connection: Connection) -> Connection:
    """Afterwards the connection is active, started now, with the program's planned end
    unless it had its own. (Its engagement plan is the caller's: engagement's connection_activate
    does both.)"""
    connection = _lock(connection)
    if not (
        can_manage_program(actor, connection.program) or _may_act_for_self_made(actor, connection)
    ):
        raise PermissionDenied("Only the program's managers may start this connection.")
    _require_status(connection, [ConnectionStatus.PROPOSED], "started")
    connection.status = ConnectionStatus.ACTIVE
    connection.started_at = timezone.now()
    if connection.planned_end_on is None:
        connection.planned_end_on = connection.program.planned_end_on
    full_clean(connection, exclude=["program", "track", "created_by"])
    connection.save(update_fields=["status", "started_at", "planned_end_on", "updated_at"])
    audit_record(
        actor=actor,
        action="connection.activated",
        target=connection,
        program_id=connection.program_id,
        from_state=ConnectionStatus.PROPOSED,
        to_state=ConnectionStatus.ACTIVE,
    )
    return connection


@transaction.atomic
def connection_cancel(*, actor: User, connection: Connection, reason: str = "") -> Connection:
    """Afterwards the proposal is cancelled and its members are free to be matched again."""
    connection = _lock(connection)
    if not (
        can_manage_program(actor, connection.program) or _may_act_for_self_made(actor, connection)
    ):
        raise PermissionDenied("Only the program's managers may drop this proposal.")
    _require_status(connection, [ConnectionStatus.PROPOSED], "cancelled")
    return _end(
        actor=actor,
        connection=connection,
        to_state=ConnectionStatus.CANCELLED,
        action="connection.cancelled",
        reason_text=reason.strip(),
    )


@transaction.atomic
def connection_complete(
    *,
    actor: User,
    connection: Connection,
    reason_code: str = EndReason.COMPLETED_NATURALLY,
    reason_text: str = "",
) -> Connection:
    """Afterwards the active connection is completed, its members are free, and each member
    may write a reflection."""
    connection = _lock(connection)
    if not (can_manage_program(actor, connection.program) or member_for(actor, connection)):
        raise PermissionDenied("Only its members or the program's managers may complete it.")
    _require_status(connection, [ConnectionStatus.ACTIVE], "completed")
    if reason_code not in COMPLETE_REASONS:
        raise ApplicationError(
            "Choose how it ended: completed naturally or goals met.", field="reason_code"
        )
    return _end(
        actor=actor,
        connection=connection,
        to_state=ConnectionStatus.COMPLETED,
        action="connection.completed",
        reason_code=reason_code,
        reason_text=reason_text.strip(),
    )


@transaction.atomic
def connection_close_early(
    *, actor: User, connection: Connection, reason_code: str, reason_text: str = ""
) -> Connection:
    """Afterwards the active connection is closed early with its reason recorded, its members
    can be re-matched, and each member may write a reflection."""
    connection = _lock(connection)
    if not (can_manage_program(actor, connection.program) or member_for(actor, connection)):
        raise PermissionDenied("Only its members or the program's managers may close it.")
    _require_status(connection, [ConnectionStatus.ACTIVE], "closed early")
    if reason_code not in EARLY_CLOSE_REASONS:
        raise ApplicationError("Choose why the connection is closing.", field="reason_code")
    reason_text = reason_text.strip()
    if reason_code == EndReason.OTHER and not reason_text:
        raise ApplicationError("Say in a few words why it is closing.", field="reason_text")
    return _end(
        actor=actor,
        connection=connection,
        to_state=ConnectionStatus.CLOSED_EARLY,
        action="connection.closed_early",
        reason_code=reason_code,
        reason_text=reason_text,
    )


@transaction.atomic
def connection_extend(
    *, actor: User, connection: Connection, planned_end_on: date, reason: str
) -> Connection:
    """Afterwards the connection's planned end is the later `planned_end_on`."""
    connection = _lock(connection)
    if not can_manage_program(actor, connection.program):
        raise PermissionDenied("Only the program's managers may extend a connection.")
    _require_status(connection, [ConnectionStatus.PROPOSED, ConnectionStatus.ACTIVE], "extended")
    if not isinstance(planned_end_on, date):
        raise ApplicationError("Give the new planned end date.", field="planned_end_on")
    if planned_end_on <= timezone.localdate():
        raise ApplicationError("The new planned end must be in the future.", field="planned_end_on")
    previous = connection.planned_end_on
    if previous is not None and planned_end_on <= previous:
        raise ApplicationError(
            f"The new planned end must be after the current one ({previous:%d %b %Y}).",
            field="planned_end_on",
        )
    reason = reason.strip()
    if not reason:
        raise ApplicationError("Say why the connection is extended.", field="reason")
    connection.planned_end_on = planned_end_on
    full_clean(connection, exclude=["program", "track", "created_by"])
    connection.save(update_fields=["planned_end_on", "updated_at"])
    audit_record(
        actor=actor,
        action="connection.extended",
        target=connection,
        program_id=connection.program_id,
        from_state=connection.status,
        to_state=connection.status,
        reason=reason,
        data={
            "planned_end_on_before": previous.isoformat() if previous else None,
            "planned_end_on": planned_end_on.isoformat(),
        },
    )
    return connection


@transaction.atomic
def reflection_submit(
    *,
    actor: User,
    connection: Connection,
    went_well: str,
    learned: str,
    rating: int,
    may_quote: bool,
) -> Reflection:
    """Afterwards the actor's one reflection on the ended connection is stored; only they read
    its text, and the program report may quote it only if `may_quote`."""
    connection = _lock(connection)
    member = member_for(actor, connection)
    if member is None:
        raise PermissionDenied("Only the connection's members write reflections.")
    if not connection.is_ended:
        raise ApplicationError("Reflections open once the connection has ended.")
    if Reflection.objects.filter(connection=connection, participant_id=member.participant_id):
        raise ApplicationError("You have already shared your reflection on this connection.")
    if isinstance(rating, bool) or not isinstance(rating, int):
        raise ApplicationError("Rate it from 1 to 5.", field="rating")
    reflection = Reflection(
        connection=connection,
        participant_id=member.participant_id,
        went_well=went_well.strip(),
        learned=learned.strip(),
        rating=rating,
        may_quote=bool(may_quote),
    )
    full_clean(reflection, exclude=["connection", "participant"], validate_constraints=False)
    try:
        with transaction.atomic():
            reflection.save()
    except IntegrityError as error:
        raise ApplicationError("You have already shared your reflection.") from error
    audit_record(
        actor=actor,
        action="reflection.submitted",
        target=reflection,
        program_id=connection.program_id,
        # The text stays with its author: the trail records only that it was written.
        data={"connection_id": connection.pk, "may_quote": reflection.may_quote},
    )
    return reflection


@transaction.atomic
def participant_connections_end(
    *, actor: User | None, participant: Participant, reason_code: str, reason_text: str = ""
) -> "ConnectionsLeft":
    """Afterwards `participant` holds no current place: for someone who withdraws or leaves.

    Their proposals are cancelled and their active pairs, placements and flash meetings closed
    early with the reason; in a circle they leave and the circle goes on (it closes early when
    fewer than two members remain). Returns which connections ended and which circles they
    left, for the caller to keep the workspaces in step (engagement's version does).
    """
    if actor is not None and not (
        can_manage_program(actor, participant.program)
        or (getattr(actor, "is_authenticated", False) and participant.person.user_id == actor.pk)
    ):
        raise PermissionDenied("Only the participant or the program's managers may do this.")
    if reason_code not in EARLY_CLOSE_REASONS:
        raise ApplicationError("Choose why the connections are ending.", field="reason_code")
    reason_text = reason_text.strip()
    if reason_code == EndReason.OTHER and not reason_text:
        raise ApplicationError("Say in a few words why.", field="reason_text")
    connection_ids = sorted(
        ConnectionMember.objects.filter(participant=participant, is_current=True).values_list(
            "connection_id", flat=True
        )
    )
    reason = reason_text or EndReason(reason_code).label
    ended: list[int] = []
    left: list[int] = []
    for connection_id in connection_ids:
        connection = _lock(Connection(pk=connection_id))
        current = [m for m in connection.members.all() if m.is_current]
        if connection.status == ConnectionStatus.PROPOSED:
            _end(
                actor=actor,
                connection=connection,
                to_state=ConnectionStatus.CANCELLED,
                action="connection.cancelled",
                reason_text=reason,
            )
            ended.append(connection.pk)
        elif connection.kind == ConnectionKind.CIRCLE and len(current) > 2:
            ConnectionMember.objects.filter(connection=connection, participant=participant).update(
                is_current=False
            )
            audit_record(
                actor=actor,
                action="connection.member_left",
                target=connection,
                program_id=connection.program_id,
                from_state=connection.status,
                to_state=connection.status,
                reason=reason,
                data={"participant_id": participant.pk, "reason_code": reason_code},
            )
            left.append(connection.pk)
        else:
            _end(
                actor=actor,
                connection=connection,
                to_state=ConnectionStatus.CLOSED_EARLY,
                action="connection.closed_early",
                reason_code=reason_code,
                reason_text=reason_text,
            )
            ended.append(connection.pk)
    return ConnectionsLeft(ended_ids=ended, left_circle_ids=left, reason=reason)
