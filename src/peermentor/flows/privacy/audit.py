"""The organisation-wide audit log: every recorded state change, for organisation admins, with
filters and a CSV export. Events are read from core's AuditEvent; the actor is named by the
account (an erased person's events stay, under "Former employee #id")."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet

from peermentor.accounts.models import User
from peermentor.core.models import AuditEvent
from peermentor.core.selectors import AuditFilters, audit_log
from peermentor.people.permissions import is_org_admin

EXPORT_MAX_ROWS = 100_000
CSV_HEADERS = [
    "time (UTC)",
    "actor id",
    "actor",
    "action",
    "object type",
    "object id",
    "program id",
    "from",
    "to",
    "reason",
]
# A spreadsheet runs a cell that starts with one of these as a formula; reasons are typed by
# people (see people/exports.py).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def _safe(value: Any) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def audit_filters(data: dict[str, Any]) -> AuditFilters:
    """Filters from the filter form's cleaned data; an unknown actor e-mail matches nobody."""
    actor_id = None
    if data.get("actor"):
        actor_id = (
            User.objects.filter(email__iexact=data["actor"].strip())
            .values_list("pk", flat=True)
            .first()
            or -1
        )
    return AuditFilters(
        actor_id=actor_id,
        action=(data.get("action") or "").strip(),
        target_type=(data.get("target_type") or "").strip().lower(),
        target_id=data.get("target_id"),
        since=data.get("since"),
        until=data.get("until"),
    )


def audit_log_for(*, viewer: Any, filters: AuditFilters) -> QuerySet[AuditEvent]:
    if not is_org_admin(viewer):
        raise PermissionDenied("Only organisation admins read the organisation's audit log.")
    return audit_log(filters=filters)


def audit_log_csv(events: QuerySet[AuditEvent]) -> Iterator[str]:
    """The events as CSV lines, streamed (at most EXPORT_MAX_ROWS), every typed text
    neutralised so no cell runs as a formula."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    writer.writerow(CSV_HEADERS)
    yield flush()
    for event in events[:EXPORT_MAX_ROWS].iterator(chunk_size=2000):
        writer.writerow(
            [
                event.created_at.isoformat(),
                event.actor_id or "",
                _safe(str(event.actor) if event.actor else "system"),
                _safe(event.action),
                _safe(event.target_type),
                event.target_id,
                event.program_id or "",
                _safe(event.from_state),
                _safe(event.to_state),
                _safe(event.reason),
            ]
        )
        yield flush()
