"""Everything stored about one person, gathered from every app's `privacy` module.

The person's own export (from Preferences) holds all of it. An organisation admin's export
(from the person's directory page) holds the same except what admins may never read anywhere in
the app: notes, circle posts, check-ins, reflections and survey answers, of which it gives the
counts (docs/privacy.md explains how to answer a subject-access request with both).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone

from peermentor.accounts import privacy as accounts_privacy
from peermentor.accounts.models import User
from peermentor.connections import privacy as connections_privacy
from peermentor.core.privacy import Record, plain
from peermentor.core.selectors import audit_events_about
from peermentor.engagement import privacy as engagement_privacy
from peermentor.enrollment import privacy as enrollment_privacy
from peermentor.helpnetwork import privacy as helpnetwork_privacy
from peermentor.notifications import privacy as notifications_privacy
from peermentor.people import privacy as people_privacy
from peermentor.people.models import Person
from peermentor.people.permissions import can_browse_directory
from peermentor.selfmatch import privacy as requests_privacy
from peermentor.surveys import privacy as surveys_privacy

AUDIT_EVENTS_MAX = 5000
AUDIT_FIELDS = (
    "created_at",
    "action",
    "target_type",
    "target_id",
    "from_state",
    "to_state",
    "reason",
)

# The sections of an export, in the order the summary shows them, with their headings.
SECTIONS: dict[str, str] = {
    "directory_entry": "Directory entry",
    "job_history": "Job history",
    "account": "Account",
    "sign_in_identities": "Single sign-on identities",
    "second_factors": "Two-factor authentication",
    "invitations": "Program invitations",
    "participations": "Programs taken part in",
    "profile_answers": "Profile answers",
    "training_completed": "Training completed",
    "connections": "Connections",
    "reflections": "Reflections",
    "blocks_made": "People you asked never to be matched with",
    "safety_reports_made": "Safety reports you made",
    "meetings_proposed": "Meetings you proposed",
    "plan_items": "Plan items you added, completed or reflected on",
    "notes": "Notes you wrote",
    "check_ins": "Check-ins",
    "circle_posts": "Circle discussion posts",
    "circle_links_shared": "Links shared with a circle",
    "circle_session_answers": "Circle session answers",
    "calendar_feed": "Calendar feed",
    "survey_invitations": "Surveys you were asked to answer",
    "survey_answers": "Your survey answers",
    "help_asks": "Help you asked for",
    "help_offers": "Help you offered",
    "match_requests": "Requests to connect",
    "notifications": "Notifications",
    "email_digests": "E-mail digests",
    "notification_preferences": "Notification preferences",
    "emails": "E-mails kept for sending",
    "audit_events": "Audit trail: what you did and what was done about you",
}


@dataclass
class PersonExport:
    person: Person
    is_complete: bool
    generated_at: Any
    sections: dict[str, list[Record]]

    def as_json(self) -> str:
        document = {
            "format": "peermentor.personal-data/1",
            "generated_at": plain(self.generated_at),
            "person_id": self.person.pk,
            "is_complete": self.is_complete,
            **self.sections,
        }
        return json.dumps(document, cls=DjangoJSONEncoder, indent=2, ensure_ascii=False)

    def tables(self) -> list[Table]:
        """The sections as tables for the readable summary (HTML and PDF)."""
        tables = []
        for key, rows in self.sections.items():
            headers = list(rows[0]) if rows else []
            tables.append(
                Table(
                    key=key,
                    title=SECTIONS.get(key, key),
                    headers=[header.replace("_", " ").capitalize() for header in headers],
                    rows=[[_readable(row.get(header)) for header in headers] for row in rows],
                )
            )
        return tables


@dataclass
class Table:
    key: str
    title: str
    headers: list[str]
    rows: list[list[str]]


def _readable(value: Any) -> str:
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, list):
        return ", ".join(_readable(item) for item in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, cls=DjangoJSONEncoder)
    return str(value)


def can_export(viewer: User, person: Person) -> bool:
    return person.user_id == viewer.pk or can_browse_directory(viewer)


def _audit_events(person: Person) -> list[Record]:
    participant_ids = list(person.participations.values_list("pk", flat=True))
    targets = [("people.person", [person.pk]), ("enrollment.participant", participant_ids)]
    if person.user_id is not None:
        targets.append(("accounts.user", [person.user_id]))
    events = audit_events_about(actor_id=person.user_id, targets=targets)[:AUDIT_EVENTS_MAX]
    return [
        {
            **{name: plain(getattr(event, name)) for name in AUDIT_FIELDS},
            "by_you": event.actor_id is not None and event.actor_id == person.user_id,
        }
        for event in events
    ]


def person_export(
    *, viewer: User | None, person: Person, complete: bool | None = None
) -> PersonExport:
    """Everything stored about `person`. `viewer` is the person (complete) or an organisation
    admin (without what admins may not read); None is the operator at the command line, who
    says with `complete` which of the two to produce. Refuses anyone else."""
    if viewer is not None:
        if not can_export(viewer, person):
            raise PermissionDenied("Only the person and organisation admins may export this.")
        complete = person.user_id == viewer.pk
    is_complete = bool(complete)
    user = person.user
    sections: dict[str, list[Record]] = {}
    sections.update(people_privacy.personal_data(person=person))
    if user is not None:
        sections.update(accounts_privacy.personal_data(user=user))
    sections.update(enrollment_privacy.personal_data(person=person))
    sections.update(connections_privacy.personal_data(person=person, include_private=is_complete))
    sections.update(engagement_privacy.personal_data(person=person, include_private=is_complete))
    sections.update(surveys_privacy.personal_data(person=person, include_private=is_complete))
    sections.update(helpnetwork_privacy.personal_data(person=person))
    sections.update(requests_privacy.personal_data(person=person))
    if user is not None:
        sections.update(notifications_privacy.personal_data(user=user, email=person.email))
    sections["audit_events"] = _audit_events(person)
    ordered = {key: sections[key] for key in SECTIONS if key in sections}
    return PersonExport(
        person=person, is_complete=is_complete, generated_at=timezone.now(), sections=ordered
    )
