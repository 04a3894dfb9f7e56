from typing import Any

from django.db import models

from peermentor.core.models import AuditEvent


def audit_record(
    *,
    actor: Any,
    action: str,
    target: models.Model,
    program_id: int | None = None,
    from_state: str = "",
    to_state: str = "",
    reason: str = "",
    data: dict[str, Any] | None = None,
) -> AuditEvent:
    """Record one state change. Call inside the service's transaction so both commit or neither."""
    return AuditEvent.objects.create(
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        action=action,
        target_type=target._meta.label_lower,
        target_id=target.pk,
        program_id=program_id,
        from_state=from_state,
        to_state=to_state,
        reason=reason,
        data=data or {},
    )
