"""Who may see and change a connection's workspace. Pure predicates over loaded rows.

The workspace belongs to the connection's members alone: organisation admins and program
managers are not members, so they get 404 like any outsider (they never see notes). Callers
prefetch `members__participant__person` so these run no queries.
"""

from typing import Any

from peermentor.accounts.models import User
from peermentor.connections.models import (
    Connection,
    ConnectionKind,
    ConnectionMember,
    ConnectionStatus,
)
from peermentor.connections.permissions import member_for
from peermentor.enrollment.models import ParticipantRole
from peermentor.programs.permissions import can_manage_program

__all__ = ["can_manage_program", "member_for"]

# A workspace exists once people really were connected; a proposal has none yet.
WORKSPACE_STATUSES = (
    ConnectionStatus.ACTIVE,
    ConnectionStatus.COMPLETED,
    ConnectionStatus.CLOSED_EARLY,
)


def workspace_member(user: User, connection: Connection) -> ConnectionMember | None:
    """The viewer's membership if they may read the workspace, else None.

    Members read it while the connection is active (if they are still in it: someone who left
    a circle is out) and keep reading it after it ended, read-only.
    """
    if connection.status not in WORKSPACE_STATUSES:
        return None
    member = member_for(user, connection)
    if member is None:
        return None
    if connection.status == ConnectionStatus.ACTIVE and not member.is_current:
        return None
    return member


def can_write(member: ConnectionMember | None, connection: Connection) -> bool:
    """Members change the workspace (meetings, plan, notes, check-ins) while it is active."""
    return member is not None and member.is_current and connection.status == ConnectionStatus.ACTIVE


def is_host(member: ConnectionMember | None) -> bool:
    return member is not None and member.role == ParticipantRole.HOST


def is_shadow(member: ConnectionMember | None) -> bool:
    return member is not None and member.role == ParticipantRole.SHADOW


def is_facilitator(member: ConnectionMember | None) -> bool:
    return member is not None and member.role == ParticipantRole.FACILITATOR


def can_set_circle_open(
    user: User, connection: Connection, member: ConnectionMember | None
) -> bool:
    """Opening a circle to newcomers: the program's managers or the circle's facilitator."""
    if connection.kind != ConnectionKind.CIRCLE:
        return False
    return can_manage_program(user, connection.program) or (
        member is not None and is_facilitator(member) and member.is_current
    )


def can_cancel_session(user: User, member: ConnectionMember | None, session: Any) -> bool:
    """The member who planned the session, or the circle's facilitator."""
    if member is None or not member.is_current:
        return False
    return is_facilitator(member) or session.created_by_id == user.pk


def can_remove_resource(member: ConnectionMember | None, resource: Any) -> bool:
    """The member who shared the link, or the circle's facilitator."""
    if member is None or not member.is_current:
        return False
    return is_facilitator(member) or resource.added_by_id == member.participant_id
