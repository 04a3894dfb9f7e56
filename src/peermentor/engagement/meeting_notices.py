"""Sending meetings' calendar invitations and cancellations by e-mail (the tasks' work).

Apart from services/meetings.py, which enqueues the tasks that call these: a task module that
imported the services would make the two import each other."""

from collections.abc import Sequence
from datetime import datetime
from typing import cast

from django.conf import settings
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from peermentor.core.timezones import zone, zone_name_for
from peermentor.engagement import ics
from peermentor.engagement.models import (
    InvitationMethod,
    Meeting,
    MeetingNotice,
    MeetingStatus,
)
from peermentor.notifications.email import Attachment, Email, emails_deliver, emails_queue


# --- invitation e-mails -----------------------------------------------------------------------
def _invitation_emails(meeting: Meeting, method: str) -> list[Email]:
    calendar = Attachment(
        filename="invite.ics",
        content=ics.meeting_invitation(meeting, method=method).decode("utf-8"),
        subtype="calendar",
        params={"method": method},
    )
    link = settings.SITE_URL + reverse("workspace", args=[meeting.connection_id])
    emails = []
    people = ics.attendees(meeting.connection)
    for person in people:
        zone_name = zone_name_for(person=person)
        context = {
            "meeting": meeting,
            "person": person,
            "method": method,
            # Invitations go out for scheduled meetings, which have a start.
            "local_start": cast(datetime, meeting.starts_at).astimezone(zone(zone_name)),
            "zone_name": zone_name,
            "others": [p for p in people if p.pk != person.pk],
            "link": link,
        }
        # Templates show aware times in the active zone: make it the recipient's.
        with timezone.override(zone(zone_name)):
            subject = render_to_string("engagement/email/invitation_subject.txt", context)
            body = render_to_string("engagement/email/invitation_body.txt", context)
        emails.append(Email(to=person.email, subject=subject, body=body, attachments=[calendar]))
    return emails


def meeting_invitation_send(*, meeting_id: int, sequence: int, method: str) -> int:
    """E-mail the invitation (or cancellation) for this version of the meeting to every current
    member, once: the send is claimed with a unique row first, so a retried task sends nothing
    twice; an invitation overtaken by a newer version is skipped. Returns e-mails sent."""
    meeting = (
        Meeting.objects.select_related("proposed_by", "connection")
        .prefetch_related("connection__members__participant__person__user")
        .filter(pk=meeting_id)
        .first()
    )
    if meeting is None or meeting.starts_at is None:
        return 0
    if method == InvitationMethod.REQUEST and (
        meeting.sequence != sequence or meeting.status != MeetingStatus.SCHEDULED
    ):
        return 0
    try:
        # The claim and the queued e-mails commit together; one that fails is tried again by
        # the periodic job (notifications/email.py).
        with transaction.atomic():
            MeetingNotice.objects.create(meeting=meeting, sequence=sequence, method=method)
            email_ids = emails_queue(
                emails=_invitation_emails(meeting, method), purpose=f"engagement.meeting_{method}"
            )
    except IntegrityError:
        return 0
    return emails_deliver(email_ids=email_ids)


def meeting_cancellations_send(*, versions: Sequence[Sequence[int]]) -> int:
    """E-mail METHOD:CANCEL for each (meeting id, sequence), as meeting_invitation_send does
    (each claimed once). One failing meeting does not keep the others from being sent; the
    first error is raised at the end so the task shows as failed. Returns e-mails sent."""
    sent = 0
    failure: Exception | None = None
    for meeting_id, sequence in versions:
        try:
            sent += meeting_invitation_send(
                meeting_id=meeting_id, sequence=sequence, method=InvitationMethod.CANCEL
            )
        except Exception as error:
            failure = failure or error
    if failure is not None:
        raise failure
    return sent
