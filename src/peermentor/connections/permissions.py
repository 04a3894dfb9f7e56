"""Pure predicates: who may do what with a connection. Views turn them into 404 or 403.

Members are read from `connection.members.all()`, so callers prefetch
`members__participant__person` to keep these free of queries.
"""

from typing import Any

from peermentor.accounts.models import User
from peermentor.connections.models import Connection, ConnectionMember
from peermentor.programs.permissions import can_manage_program

__all__ = ["can_manage_program"]


def member_for(user: User, connection: Connection) -> ConnectionMember | None:
    """The viewer's own ConnectionMember row in `connection`, or None."""
    if not getattr(user, "is_authenticated", False):
        return None
    for member in connection.members.all():
        if member.participant.person.user_id == user.pk:
            return member
    return None


def is_member(user: User, connection: Connection) -> bool:
    return member_for(user, connection) is not None


def can_view_connection(user: User, connection: Connection, *, is_manager: bool) -> bool:
    """Members see their connection; the program's managers and org admins see its workflow."""
    return is_manager or is_member(user, connection)


def can_end_connection(user: User, connection: Connection, *, is_manager: bool) -> bool:
    """Complete or close early: any member (it takes one to stop meeting) or a manager."""
    return is_manager or is_member(user, connection)


def can_reflect(user: User, connection: Connection) -> bool:
    """Reflections are the members' own; managers never write or read them."""
    return is_member(user, connection)


def can_block_or_report_from(user: User, connection: Connection) -> bool:
    return is_member(user, connection)


def can_review_report(user: User, report: Any) -> bool:
    """Safety reports: organisation admins, and the managers of the program it came from."""
    if getattr(user, "is_org_admin", False) and user.is_active:
        return True
    return report.program_id is not None and can_manage_program(user, report.program)
