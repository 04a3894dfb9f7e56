"""Leavers and withdrawals: someone who leaves the organisation or withdraws from a program.

- `participation_withdraw`: the participation is withdrawn (enrollment), their connections end
  with the reason "withdrew" (engagement: proposals dropped, pairs closed early, circles go on
  without them and free the seat, meetings cancelled), their pending self-match requests are
  cancelled (selfmatch), and each partner is told in the app and by e-mail, with a link back to
  the program to be matched again.
- `people_leave`: for people the directory marked inactive (HR import, API, admin): their
  account can no longer sign in (accounts; a signed-in session ends at its next request, since
  Django refuses inactive users, and API tokens of inactive users are refused), and every
  participation they hold is withdrawn as above with the reason "left the organisation".

Nothing they wrote is deleted (erasure is data protection's job), so aggregates stay correct;
withdrawn participants are out of match runs, recommendations and requests, which take only
enrolled participants.
"""

from dataclasses import dataclass

from django.db import transaction
from django.urls import reverse

from peermentor.accounts.models import User
from peermentor.connections.models import ConnectionMember, EndReason
from peermentor.core.services import audit_record
from peermentor.engagement import services as engagement
from peermentor.enrollment import services as enrollment
from peermentor.enrollment.models import ACTIVE_STATUSES, Participant
from peermentor.notifications.email import Email, emails_queue
from peermentor.notifications.models import NotificationKind
from peermentor.notifications.services import NotificationSpec, notifications_create
from peermentor.people.models import Person
from peermentor.selfmatch.services import requests_cancel_unhonourable

LEFT_REASON = "Left the organisation"


@dataclass(frozen=True)
class Partner:
    user_id: int
    email: str
    connection_id: int


def _partners(participant: Participant) -> list[Partner]:
    """The other current members of the participant's current connections, with accounts."""
    mine = ConnectionMember.objects.filter(participant=participant, is_current=True).values(
        "connection_id"
    )
    rows = (
        ConnectionMember.objects.filter(connection_id__in=mine, is_current=True)
        .exclude(participant=participant)
        .filter(participant__person__user__is_active=True)
        .values_list("participant__person__user_id", "participant__person__email", "connection_id")
    )
    return [Partner(user_id, email, connection_id) for user_id, email, connection_id in rows]


def _tell_partners(participant: Participant, partners: list[Partner], *, left: bool) -> None:
    name = participant.person.full_name
    program = participant.program
    what = "has left the organisation" if left else f"has withdrawn from {program.name}"
    url = reverse("program_enroll", args=[program.pk])
    body = (
        f"{name} {what}, so your connection with them has ended. Nothing you wrote is lost. "
        "You are free to be matched again: you are in the next match run, or you can ask "
        "someone yourself if the program allows it."
    )
    notifications_create(
        notes=[
            NotificationSpec(
                recipient_id=partner.user_id,
                kind=NotificationKind.CONNECTION_ENDED,
                title=f"{name} {what}",
                body=body,
                url=url,
                dedupe_key=f"partner-left:{partner.connection_id}:{participant.pk}",
            )
            for partner in partners
        ]
    )
    emails_queue(
        emails=[
            Email(to=partner.email, subject=f"{name} {what}", body=body) for partner in partners
        ],
        purpose="partner_left",
    )


def _end(
    *, actor: User | None, participant: Participant, reason_code: str, reason_text: str
) -> int:
    partners = _partners(participant)
    ended = engagement.participant_connections_end(
        actor=actor, participant=participant, reason_code=reason_code, reason_text=reason_text
    )
    requests_cancel_unhonourable(actor=actor, participant_ids=[participant.pk])
    if partners:
        _tell_partners(participant, partners, left=reason_code == EndReason.LEFT_ORGANISATION)
    return ended


@transaction.atomic
def participation_withdraw(
    *, actor: User, participant: Participant, reason: str = ""
) -> Participant:
    """Afterwards the participation is withdrawn, holds no current connection (each ended with
    "withdrew"), no pending self-match request, and each partner has been told."""
    participant = enrollment.participant_withdraw(
        actor=actor, participant=participant, reason=reason
    )
    _end(
        actor=actor,
        participant=participant,
        reason_code=EndReason.WITHDREW,
        reason_text=reason.strip(),
    )
    return participant


@transaction.atomic
def people_leave(*, actor: User | None, person_ids: list[int] | None = None) -> int:
    """Afterwards every inactive person (of `person_ids`, or all) has no account that can sign
    in, and no active participation: each is withdrawn with "left the organisation", their
    connections ended and partners told. Safe to repeat. Returns how many participations
    were withdrawn. `actor` None is the system (the import command)."""
    people = Person.objects.filter(is_active=False)
    if person_ids is not None:
        people = people.filter(pk__in=person_ids)
    users = User.objects.filter(
        is_active=True, pk__in=people.filter(user__isnull=False).values("user_id")
    )
    for user_id in users.values_list("pk", flat=True):
        audit_record(
            actor=actor,
            action="account.deactivated",
            target=User(pk=user_id),
            reason=LEFT_REASON,
        )
    users.update(is_active=False)
    participants = list(
        Participant.objects.filter(person__in=people, status__in=ACTIVE_STATUSES)
        .select_related("program", "person")
        .order_by("pk")
    )
    for participant in participants:
        participant = enrollment.participant_withdraw(
            actor=actor, participant=participant, reason=LEFT_REASON
        )
        _end(
            actor=actor,
            participant=participant,
            reason_code=EndReason.LEFT_ORGANISATION,
            reason_text="",
        )
    return len(participants)
