"""E-mailing invitations (the task's work), apart from the services that enqueue the task: a task
module that imported the services would make the two import each other."""

from django.conf import settings
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from peermentor.enrollment.models import Invitation
from peermentor.enrollment.tokens import MAX_AGE, invitation_token
from peermentor.notifications.email import Email, emails_deliver, emails_queue


def _invitation_email(invitation: Invitation) -> Email:
    link = settings.SITE_URL + reverse("invitation_accept", args=[invitation_token(invitation)])
    context = {
        "invitation": invitation,
        "program": invitation.program,
        "person": invitation.person,
        "link": link,
        "valid_days": MAX_AGE.days,
    }
    return Email(
        to=invitation.person.email,
        subject=render_to_string("enrollment/email/invitation_subject.txt", context),
        body=render_to_string("enrollment/email/invitation_body.txt", context),
    )


def invitation_emails_send(*, invitation_ids: list[int]) -> int:
    """E-mail each listed invitation not mailed yet. Each row is claimed with a conditional
    UPDATE in the transaction that queues its e-mail, so two workers running the same batch
    never mail anyone twice and a crash loses nothing. Returns how many e-mails were sent now;
    one that fails is tried again by the periodic job (notifications/email.py)."""
    with transaction.atomic():
        invitations = Invitation.objects.filter(
            pk__in=invitation_ids, emailed_at__isnull=True
        ).select_related("program", "person", "track", "invited_by")
        claimed: list[Invitation] = []
        now = timezone.now()
        for invitation in invitations:
            if Invitation.objects.filter(pk=invitation.pk, emailed_at__isnull=True).update(
                emailed_at=now
            ):
                claimed.append(invitation)
        email_ids = emails_queue(
            emails=[_invitation_email(item) for item in claimed], purpose="enrollment.invitation"
        )
    return emails_deliver(email_ids=email_ids)
