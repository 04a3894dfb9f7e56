"""E-mails to the members of a published run (sent from tasks)."""

from __future__ import annotations

from collections.abc import Sequence

from django.conf import settings
from django.db import transaction
from django.db.models import Prefetch
from django.template.loader import render_to_string
from django.utils import timezone

from peermentor.matches.models import (
    ProposalMember,
)
from peermentor.notifications.email import Email, emails_deliver, emails_queue


def match_notifications_send(*, run_id: int, member_ids: Sequence[int]) -> int:
    """E-mail each named member (once: a retried batch skips those already told) who they were
    matched with and why. Returns how many e-mails were sent now; one that fails stays queued
    and is tried again by the periodic job (notifications/email.py)."""
    with transaction.atomic():
        pending = list(
            ProposalMember.objects.filter(
                pk__in=list(member_ids), run_id=run_id, notified_at__isnull=True
            ).values_list("pk", flat=True)
        )
        if not pending:
            return 0
        # The claim and the queued e-mails commit together: a retried batch finds them told.
        ProposalMember.objects.filter(pk__in=pending, notified_at__isnull=True).update(
            notified_at=timezone.now()
        )
        members = (
            ProposalMember.objects.filter(pk__in=pending)
            .select_related("participant__person", "run__program")
            .prefetch_related(
                Prefetch(
                    "proposal__members",
                    queryset=ProposalMember.objects.select_related("participant__person").order_by(
                        "id"
                    ),
                )
            )
            .order_by("id")
        )
        emails = []
        for member in members:
            person = member.participant.person
            others = [other for other in member.proposal.members.all() if other.pk != member.pk]
            body = render_to_string(
                "matches/email_matched.txt",
                {
                    "person": person,
                    "program": member.run.program,
                    "others": others,
                    "reasons": member.proposal.reasons,
                    "connections_url": f"{settings.SITE_URL}/connections/",
                },
            )
            emails.append(
                Email(
                    to=person.email,
                    subject=f"You have been matched in {member.run.program.name}",
                    body=body,
                )
            )
        email_ids = emails_queue(emails=emails, purpose="matches.matched")
    return emails_deliver(email_ids=email_ids)
