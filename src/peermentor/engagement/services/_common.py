"""Helpers every engagement service shares: loading and locking, membership, input checks."""

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch

from peermentor.accounts.models import User
from peermentor.connections.models import Connection, ConnectionMember
from peermentor.core.errors import ApplicationError
from peermentor.engagement.permissions import can_write, workspace_member


def members_prefetch() -> Prefetch:
    return Prefetch(
        "members",
        queryset=ConnectionMember.objects.select_related(
            "participant__person__user", "participant__person__department"
        ).order_by("role", "id"),
    )


def lock_connection(connection: Connection | int) -> Connection:
    """The connection's row, locked (so its status cannot change under us), with its program
    and members loaded."""
    pk = connection if isinstance(connection, int) else connection.pk
    return (
        Connection.objects.select_for_update(of=("self",))
        .select_related("program")
        .prefetch_related(members_prefetch())
        .get(pk=pk)
    )


def load_connection(pk: int) -> Connection:
    return (
        Connection.objects.select_related("program").prefetch_related(members_prefetch()).get(pk=pk)
    )


def require_reader(actor: User, connection: Connection) -> ConnectionMember:
    member = workspace_member(actor, connection)
    if member is None:
        raise PermissionDenied("Only the connection's members may do this.")
    return member


def require_writer(actor: User, connection: Connection) -> ConnectionMember:
    """The actor's membership; refuses outsiders (PermissionDenied) and, with a message they
    can act on, members of a connection that is no longer active."""
    member = require_reader(actor, connection)
    if not can_write(member, connection):
        raise ApplicationError(
            f"This connection is {connection.get_status_display().lower()}: "
            "its workspace can be read but not changed."
        )
    return member


def clean_text(value: Any, *, field: str, label: str, max_length: int, required: bool) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if value is not None and not isinstance(value, str):
        raise ApplicationError(f"{label} must be text.", field=field)
    if required and not text:
        raise ApplicationError(f"{label} cannot be empty.", field=field)
    if len(text) > max_length:
        raise ApplicationError(
            f"{label} is too long: keep it under {max_length} characters.", field=field
        )
    return text


def clean_int(value: Any, *, field: str, label: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ApplicationError(f"{label} must be a whole number.", field=field)
    if not low <= value <= high:
        raise ApplicationError(f"{label} must be between {low} and {high}.", field=field)
    return value
