from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from django.db import models
from django.db.models import Q, QuerySet

from peermentor.core.models import AuditEvent


def audit_history(*, target: models.Model) -> QuerySet[AuditEvent]:
    return AuditEvent.objects.filter(
        target_type=target._meta.label_lower, target_id=target.pk
    ).select_related("actor")


def audit_events_about(
    *, actor_id: int | None, targets: list[tuple[str, list[int]]]
) -> QuerySet[AuditEvent]:
    """Events `actor_id` made, and events about any of `targets` ((type label, ids) pairs such
    as ("people.person", [12])), newest first: a person's part of the audit trail."""
    about = Q(pk__in=[])
    if actor_id is not None:
        about |= Q(actor_id=actor_id)
    for target_type, ids in targets:
        if ids:
            about |= Q(target_type=target_type, target_id__in=ids)
    return AuditEvent.objects.filter(about).select_related("actor")


@dataclass(frozen=True)
class AuditFilters:
    actor_id: int | None = None
    action: str = ""
    target_type: str = ""
    target_id: int | None = None
    since: date | None = None
    until: date | None = None


def audit_log(*, filters: AuditFilters) -> QuerySet[AuditEvent]:
    """The organisation's audit trail, newest first, narrowed by `filters` (days inclusive, in
    UTC). One query per page with the actor joined; callers check the viewer may see it."""
    events = AuditEvent.objects.select_related("actor")
    if filters.actor_id is not None:
        events = events.filter(actor_id=filters.actor_id)
    if filters.action:
        events = events.filter(action__startswith=filters.action)
    if filters.target_type:
        events = events.filter(target_type=filters.target_type)
    if filters.target_id is not None:
        events = events.filter(target_id=filters.target_id)
    # Ranges on the timestamp itself, so the created_at index answers them.
    if filters.since is not None:
        events = events.filter(created_at__gte=datetime.combine(filters.since, time(), UTC))
    if filters.until is not None:
        after = datetime.combine(filters.until + timedelta(days=1), time(), UTC)
        events = events.filter(created_at__lt=after)
    return events.order_by("-created_at", "-id")
