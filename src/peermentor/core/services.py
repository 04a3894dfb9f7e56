from typing import Any, cast

from django.db import models

from peermentor.core.models import AuditEvent
from peermentor.core.types import AnyActor


def audit_event(
    *,
    actor: AnyActor,
    action: str,
    target_type: type[models.Model] | str,
    target_id: int,
    program_id: int | None = None,
    from_state: str = "",
    to_state: str = "",
    reason: str = "",
    data: dict[str, Any] | None = None,
) -> AuditEvent:
    """One state change as an unsaved row, for services that record many with bulk_create.
    `target_type` is the target's model (or its "app.model" label)."""
    return AuditEvent(
        # AUTH_USER_MODEL, which core cannot name (see core/types.py).
        actor=cast(Any, actor) if getattr(actor, "is_authenticated", False) else None,
        action=action,
        target_type=target_type if isinstance(target_type, str) else target_type._meta.label_lower,
        target_id=target_id,
        program_id=program_id,
        from_state=from_state,
        to_state=to_state,
        reason=reason,
        data=data or {},
    )


def audit_record(
    *,
    actor: AnyActor,
    action: str,
    target: models.Model,
    program_id: int | None = None,
    from_state: str = "",
    to_state: str = "",
    reason: str = "",
    data: dict[str, Any] | None = None,
) -> AuditEvent:
    """Record one state change. Call inside the service's transaction so both commit or neither."""
    event = audit_event(
        actor=actor,
        action=action,
        target_type=type(target),
        target_id=target.pk,
        program_id=program_id,
        from_state=from_state,
        to_state=to_state,
        reason=reason,
        data=data,
    )
    event.save()
    return event
