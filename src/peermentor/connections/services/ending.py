"""Ending many connections at once: a program closing, a track's connections completed together.

Bounded: a constant number of queries per 900 connections, however many there are."""

from collections.abc import Sequence

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from peermentor.accounts.models import User
from peermentor.connections.models import (
    Connection,
    ConnectionMember,
    ConnectionStatus,
    EndReason,
)
from peermentor.connections.permissions import can_manage_program
from peermentor.connections.services._common import CHUNK_SIZE, _audit_row, _chunks
from peermentor.connections.services.lifecycle import COMPLETE_REASONS
from peermentor.core.errors import ApplicationError
from peermentor.core.models import AuditEvent
from peermentor.programs.models import Program, Track


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
    """Afterwards every active connection of `program` (of `track`, or among `connection_ids`
    when given) is completed with `reason_code`, its members are free and each member may
    write a reflection, with an audit row each. Returns the ids completed (their meetings are
    the caller's: engagement's connections_complete_many cancels them).

    `actor` None is the system (the periodic job at a program's planned end)."""
    if actor is not None and not can_manage_program(actor, program):
        raise PermissionDenied("Only the program's managers may complete its connections.")
    if reason_code not in COMPLETE_REASONS:
        raise ApplicationError(
            "Choose how they ended: completed naturally or goals met.", field="reason_code"
        )
    active = Connection.objects.select_for_update().filter(
        program=program, status=ConnectionStatus.ACTIVE
    )
    if track is not None:
        active = active.filter(track=track)
    if connection_ids is None:
        ids = list(active.order_by("pk").values_list("pk", flat=True))
    else:
        ids = []
        for chunk in _chunks(sorted(set(connection_ids))):
            ids.extend(active.filter(pk__in=chunk).order_by("pk").values_list("pk", flat=True))
    now = timezone.now()
    reason_text = reason_text.strip()
    for chunk in _chunks(ids):
        Connection.objects.filter(pk__in=chunk).update(
            status=ConnectionStatus.COMPLETED,
            ended_at=now,
            end_reason=reason_code,
            end_reason_text=reason_text,
            updated_at=now,
        )
        ConnectionMember.objects.filter(connection_id__in=chunk).update(is_current=False)
    reason = reason_text or EndReason(reason_code).label
    AuditEvent.objects.bulk_create(
        [
            _audit_row(
                actor=actor,
                action="connection.completed",
                connection_id=pk,
                program_id=program.pk,
                from_state=ConnectionStatus.ACTIVE,
                to_state=ConnectionStatus.COMPLETED,
                reason=reason,
                data={"reason_code": reason_code, "bulk": True},
            )
            for pk in ids
        ],
        batch_size=CHUNK_SIZE,
    )
    return ids
