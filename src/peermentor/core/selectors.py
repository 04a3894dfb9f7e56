from django.db import models
from django.db.models import QuerySet

from peermentor.core.models import AuditEvent


def audit_history(*, target: models.Model) -> QuerySet[AuditEvent]:
    return AuditEvent.objects.filter(
        target_type=target._meta.label_lower, target_id=target.pk
    ).select_related("actor")
