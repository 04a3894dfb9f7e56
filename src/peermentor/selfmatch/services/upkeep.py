"""Upkeep of requests: expiry, and the program's self-match settings."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from peermentor.accounts.models import User
from peermentor.core.errors import full_clean
from peermentor.core.models import AuditEvent
from peermentor.core.services import audit_record
from peermentor.programs.models import Program
from peermentor.programs.permissions import can_manage_program
from peermentor.selfmatch.models import (
    MatchRequest,
    RequestStatus,
    SelfMatchSettings,
)
from peermentor.selfmatch.notices import notices_send_after_commit
from peermentor.selfmatch.services._common import AUDIT_TARGET


def self_match_settings_for(program: Program) -> SelfMatchSettings:
    """The program's settings, or unsaved defaults when none were saved (no write)."""
    found = SelfMatchSettings.objects.filter(program_id=program.pk).first()
    return found or SelfMatchSettings(program=program)


@transaction.atomic
def self_match_settings_update(
    *,
    actor: User,
    program: Program,
    request_expiry_days: int,
    max_pending_incoming: int,
    max_pending_outgoing: int,
) -> SelfMatchSettings:
    """Afterwards the program's requests expire after `request_expiry_days` (requests already
    sent keep their date) and nobody holds more than the given numbers of unanswered requests
    (requests already waiting are not touched)."""
    if not can_manage_program(actor, program):
        raise PermissionDenied("Only the program's managers can change how requests work.")
    settings, _ = SelfMatchSettings.objects.select_for_update().get_or_create(program=program)
    before = {
        "request_expiry_days": settings.request_expiry_days,
        "max_pending_incoming": settings.max_pending_incoming,
        "max_pending_outgoing": settings.max_pending_outgoing,
    }
    settings.request_expiry_days = request_expiry_days
    settings.max_pending_incoming = max_pending_incoming
    settings.max_pending_outgoing = max_pending_outgoing
    full_clean(settings, exclude=["program"])
    settings.save()
    audit_record(
        actor=actor,
        action="self_match.settings_updated",
        target=settings,
        program_id=program.pk,
        data={"before": before, "after": {key: getattr(settings, key) for key in before}},
    )
    return settings


def self_match_settings_copy(*, source: Program, target: Program) -> SelfMatchSettings | None:
    """For `programs.services.program_copy`: afterwards `target` asks as `source` does (expiry,
    pending limits). A source without saved settings uses the defaults, and so will the copy:
    nothing is written. The copy itself is audited by the caller (`program.created`)."""
    found = SelfMatchSettings.objects.filter(program_id=source.pk).first()
    if found is None:
        return None
    return SelfMatchSettings.objects.create(
        program=target,
        request_expiry_days=found.request_expiry_days,
        max_pending_incoming=found.max_pending_incoming,
        max_pending_outgoing=found.max_pending_outgoing,
    )


EXPIRE_BATCH = 500


def requests_expire(*, now: dt.datetime | None = None) -> int:
    """Afterwards no request is pending past its `expires_at`; the requesters are told by
    e-mail. Safe to run twice or on two workers at once: each request is claimed with a
    conditional UPDATE (pending → expired) in its own short transaction, and only the claimer
    audits and notifies it (holding one row at a time, it never deadlocks with an accept).
    Returns how many requests this call expired."""
    now = now or timezone.now()
    total = 0
    while True:
        due = list(
            MatchRequest.objects.filter(status=RequestStatus.PENDING, expires_at__lte=now)
            .order_by("pk")
            .values_list("pk", "program_id")[:EXPIRE_BATCH]
        )
        for pk, program_id in due:
            with transaction.atomic():
                claimed = MatchRequest.objects.filter(pk=pk, status=RequestStatus.PENDING).update(
                    status=RequestStatus.EXPIRED, responded_at=now
                )
                if claimed != 1:
                    continue
                AuditEvent.objects.create(
                    actor=None,
                    action="match_request.expired",
                    target_type=AUDIT_TARGET,
                    target_id=pk,
                    program_id=program_id,
                    from_state=RequestStatus.PENDING,
                    to_state=RequestStatus.EXPIRED,
                    reason="No answer before the request expired.",
                )
                notices_send_after_commit([pk])
            total += 1
        if len(due) < EXPIRE_BATCH:
            return total
