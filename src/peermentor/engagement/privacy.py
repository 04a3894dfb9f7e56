"""Engagement's part of a subject-access or erasure request (see core/privacy.py).

The workspace belongs to a connection's members (docs/engagement.md): administrators never read
notes, circle posts, check-ins or plan reflections, so an administrator's export of someone's
data says only how many there are. The person's own export has all of it.
"""

from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import Q

from peermentor.accounts.models import User
from peermentor.core.privacy import ERASED_TEXT, Record, records, withheld
from peermentor.engagement.models import (
    CalendarFeed,
    CheckIn,
    CirclePost,
    CircleResource,
    Meeting,
    Note,
    NoteVisibility,
    PlanItem,
    SessionRsvp,
)
from peermentor.enrollment.models import ParticipantRole
from peermentor.people.models import Person

MEETING_FIELDS = (
    "id",
    "connection",
    "title",
    "agenda",
    "location",
    "duration_minutes",
    "time_zone",
    "status",
    "starts_at",
    "created_at",
    "cancel_reason",
)
PLAN_ITEM_FIELDS = (
    "id",
    "kind",
    "title",
    "description",
    "due_on",
    "is_done",
    "done_at",
    "learning_goal",
    "reflection",
    "feedback",
    "created_at",
)


def _plan_items(person: Person, user: User | None) -> Q:
    written = Q(plan__connection__members__participant__person=person) & (
        Q(plan__connection__members__role=ParticipantRole.SHADOW) & ~Q(reflection="")
        | Q(plan__connection__members__role=ParticipantRole.HOST) & ~Q(feedback="")
    )
    if user is None:
        return written
    return written | Q(created_by=user) | Q(done_by=user)


def personal_data(*, person: Person, include_private: bool) -> dict[str, Any]:
    """What `person` wrote or did in their connections' workspaces: meetings they proposed,
    plan items they added, ticked off or reflected on, notes, check-ins, circle posts, shared
    links, session answers and whether they have a calendar feed (never its address)."""
    user = person.user
    meetings = Meeting.objects.filter(proposed_by=user) if user else Meeting.objects.none()
    plan_items = PlanItem.objects.filter(_plan_items(person, user)).distinct()
    notes = Note.objects.filter(author__person=person)
    check_ins = CheckIn.objects.filter(participant__person=person)
    posts = CirclePost.objects.filter(author__person=person)
    if not include_private:
        return {
            "meetings_proposed": [withheld(meetings.count(), "meetings")],
            "plan_items": [withheld(plan_items.count(), "plan items")],
            "notes": [withheld(notes.count(), "notes")],
            "check_ins": [withheld(check_ins.count(), "check-ins")],
            "circle_posts": [withheld(posts.count(), "circle posts")],
        }
    feed: list[Record] = []
    if user is not None:
        feed = records(CalendarFeed.objects.filter(user=user), ("created_at",))
    return {
        "meetings_proposed": records(meetings, MEETING_FIELDS),
        "plan_items": records(plan_items, PLAN_ITEM_FIELDS),
        "notes": records(notes, ("connection", "visibility", "body", "created_at", "updated_at")),
        "check_ins": records(
            check_ins, ("connection", "period", "due_on", "rating", "comment", "created_at")
        ),
        "circle_posts": records(posts, ("connection", "body", "created_at")),
        "circle_links_shared": records(
            CircleResource.objects.filter(added_by__person=person),
            ("connection", "title", "url", "created_at"),
        ),
        "circle_session_answers": records(
            SessionRsvp.objects.filter(participant__person=person),
            ("session", "is_attending", "updated_at"),
        ),
        "calendar_feed": feed,
    }


@transaction.atomic
def personal_data_erase(*, person: Person) -> None:
    """Afterwards every text `person` wrote in a workspace reads "(erased)" or is empty, and
    their calendar feed address no longer works. The rows stay (a partner's workspace still
    shows that a meeting was held or a note written, and health and counts do not change)."""
    user = person.user
    Note.objects.filter(author__person=person).update(body=ERASED_TEXT)
    CirclePost.objects.filter(author__person=person).update(body=ERASED_TEXT)
    CheckIn.objects.filter(participant__person=person).update(comment="")
    PlanItem.objects.filter(
        ~Q(reflection=""),
        plan__connection__members__participant__person=person,
        plan__connection__members__role=ParticipantRole.SHADOW,
    ).update(reflection=ERASED_TEXT)
    PlanItem.objects.filter(
        ~Q(feedback=""),
        plan__connection__members__participant__person=person,
        plan__connection__members__role=ParticipantRole.HOST,
    ).update(feedback=ERASED_TEXT)
    if user is None:
        return
    PlanItem.objects.filter(created_by=user).update(title=ERASED_TEXT, description="")
    Meeting.objects.filter(proposed_by=user).update(
        title=ERASED_TEXT, agenda="", location="", cancel_reason=""
    )
    CalendarFeed.objects.filter(user=user).delete()


@transaction.atomic
def private_notes_delete(*, ended_before: datetime) -> int:
    """Delete the private notes of connections that ended before `ended_before` (the retention
    rule; shared notes stay, they are the partners' too). Returns how many went; a second run
    finds none."""
    deleted, _ = Note.objects.filter(
        visibility=NoteVisibility.PRIVATE, connection__ended_at__lt=ended_before
    ).delete()
    return deleted
