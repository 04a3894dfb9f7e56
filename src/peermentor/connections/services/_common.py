"""Helpers the connection services share: chunking, audit rows, locking, ending."""

from collections.abc import Iterable, Sequence
from typing import Any

from django.utils import timezone

from peermentor.accounts.models import User
from peermentor.connections.models import Connection, EndReason
from peermentor.core.errors import ApplicationError, full_clean
from peermentor.core.models import AuditEvent
from peermentor.core.services import audit_event, audit_record

# Keeps every IN (...) list well below SQLite's and PostgreSQL's bound-parameter limits.
CHUNK_SIZE = 900


def _chunks(values: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), CHUNK_SIZE):
        yield values[start : start + CHUNK_SIZE]


def _audit_row(
    *,
    actor: User | None,
    action: str,
    connection_id: int,
    program_id: int,
    from_state: str,
    to_state: str,
    reason: str = "",
    data: dict[str, Any] | None = None,
) -> AuditEvent:
    """An unsaved AuditEvent as core.services.audit_record writes it, for bulk_create."""
    return audit_event(
        actor=actor,
        action=action,
        target_type=Connection,
        target_id=connection_id,
        program_id=program_id,
        from_state=from_state,
        to_state=to_state,
        reason=reason,
        data=data,
    )


def _lock(connection: Connection) -> Connection:
    """The connection's row, locked, with its program and members (people included)."""
    return (
        Connection.objects.select_for_update(of=("self",))
        .select_related("program")
        .prefetch_related("members__participant__person")
        .get(pk=connection.pk)
    )


def _require_status(connection: Connection, allowed: Iterable[str], doing: str) -> None:
    if connection.status not in allowed:
        raise ApplicationError(
            f"This connection is {connection.get_status_display().lower()}: it cannot be {doing}."
        )


def _end(
    *,
    actor: User | None,
    connection: Connection,
    to_state: str,
    action: str,
    reason_code: str = "",
    reason_text: str = "",
) -> Connection:
    """Move a locked connection to an end state and free its members' places. What else must
    happen when a connection ends (its meetings cancelled) is the caller's: see
    engagement.services.connection_changes."""
    from_state = connection.status
    connection.status = to_state
    connection.ended_at = timezone.now()
    connection.end_reason = reason_code
    connection.end_reason_text = reason_text
    full_clean(connection, exclude=["program", "track", "created_by"])
    connection.save(
        update_fields=["status", "ended_at", "end_reason", "end_reason_text", "updated_at"]
    )
    connection.members.update(is_current=False)
    reason = reason_text or (EndReason(reason_code).label if reason_code else "")
    audit_record(
        actor=actor,
        action=action,
        target=connection,
        program_id=connection.program_id,
        from_state=from_state,
        to_state=to_state,
        reason=reason,
        data={"reason_code": reason_code} if reason_code else {},
    )
    return connection
