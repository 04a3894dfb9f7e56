"""Erasing a person: their name, addresses and what they wrote are replaced, their account can
no longer be used, and everything others see or count stays consistent.

Rows are anonymised rather than deleted: a partner's connection still shows that it existed and
with whom ("Former employee #12"), meetings held and check-in ratings still count, survey
results and response rates add up as before. Each app's `privacy.personal_data_erase` says
what it changes; this flow checks permission, refuses while the person is still in a current
connection (close it first: partners must be told, and the connection's own flow does that),
withdraws their open participations, calls every app and records who erased whom, when and why.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied
from django.db import transaction

from peermentor.accounts import privacy as accounts_privacy
from peermentor.accounts.models import User
from peermentor.connections import privacy as connections_privacy
from peermentor.connections.models import Connection
from peermentor.core.errors import ApplicationError
from peermentor.core.services import audit_record
from peermentor.engagement import privacy as engagement_privacy
from peermentor.enrollment import privacy as enrollment_privacy
from peermentor.enrollment.models import ACTIVE_STATUSES, Participant
from peermentor.helpnetwork import privacy as helpnetwork_privacy
from peermentor.notifications import privacy as notifications_privacy
from peermentor.people import privacy as people_privacy
from peermentor.people.models import Person
from peermentor.people.permissions import is_org_admin
from peermentor.selfmatch import privacy as requests_privacy
from peermentor.surveys import privacy as surveys_privacy

WITHDRAWAL_REASON = "Personal data erased"


@dataclass
class ErasurePreview:
    """What erasing `person` would do, for the confirmation page."""

    person: Person
    is_erased: bool
    blocking_connections: list[Connection] = field(default_factory=list)
    participations_to_withdraw: list[Participant] = field(default_factory=list)

    @property
    def can_erase(self) -> bool:
        return not self.is_erased and not self.blocking_connections


def can_erase(actor: User, person: Person) -> bool:
    return is_org_admin(actor) and person.user_id != actor.pk


def erasure_preview(*, actor: User, person: Person) -> ErasurePreview:
    if not is_org_admin(actor):
        raise PermissionDenied("Only organisation admins erase people.")
    return ErasurePreview(
        person=person,
        is_erased=people_privacy.is_erased(person),
        blocking_connections=connections_privacy.current_connections(person=person),
        participations_to_withdraw=list(
            Participant.objects.filter(person=person, status__in=ACTIVE_STATUSES).select_related(
                "program"
            )
        ),
    )


@transaction.atomic
def person_erase(*, actor: User | None, person: Person, reason: str) -> Person:
    """Afterwards `person` is "Former employee #id" with an address in .invalid, their account
    (if any) is inactive with an unusable password, their open participations are withdrawn,
    nothing waits on them (requests, asks, offers), every free text they wrote is "(erased)" or
    empty, nothing sent to them is kept, and an audit event says who erased them, when and why.
    `actor` is an organisation admin, or None for the retention job."""
    if actor is not None and not can_erase(actor, person):
        raise PermissionDenied("Only organisation admins erase people, and not themselves.")
    reason = (reason or "").strip()
    if not reason:
        raise ApplicationError(
            "Say why (a request from the person, a retention rule...).", field="reason"
        )
    person = Person.objects.select_for_update(of=("self",)).select_related("user").get(pk=person.pk)
    if people_privacy.is_erased(person):
        raise ApplicationError("This person has already been erased.")
    if connections_privacy.has_current_connections(person=person):
        raise ApplicationError(
            "This person is still in a current connection: close it first, so that their "
            "partners are told."
        )
    old_name, old_email, user = person.full_name, person.email, person.user
    new_name = people_privacy.erased_name(person.pk)
    enrollment_privacy.personal_data_erase(actor=actor, person=person, reason=WITHDRAWAL_REASON)
    connections_privacy.personal_data_erase(person=person, name=old_name, replacement=new_name)
    engagement_privacy.personal_data_erase(person=person)
    surveys_privacy.personal_data_erase(person=person)
    helpnetwork_privacy.personal_data_erase(person=person)
    requests_privacy.personal_data_erase(person=person)
    notifications_privacy.personal_data_erase(
        user=user, email=old_email, name=old_name, replacement=new_name
    )
    if user is not None:
        notifications_privacy.personal_data_erase(
            user=None, email=user.email, name=user.full_name, replacement=new_name
        )
        accounts_privacy.personal_data_erase(
            user=user, full_name=new_name, email=people_privacy.erased_email("user", user.pk)
        )
    people_privacy.personal_data_erase(person=person)
    # The event names nobody: the id is enough to find the row, and the row no longer names anyone.
    audit_record(actor=actor, action="person.erased", target=person, reason=reason)
    return person
