"""Self-match requests' part of a subject-access or erasure request (see core/privacy.py)."""

from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from peermentor.core.privacy import record
from peermentor.people.models import Person
from peermentor.selfmatch.models import MatchRequest, RequestStatus


def personal_data(*, person: Person) -> dict[str, Any]:
    """The requests `person` sent and received, with the other person's name; a message is
    shown only to whoever wrote it or received it, as on the requests page (one query)."""
    requests = MatchRequest.objects.filter(
        Q(requester__person=person) | Q(recipient__person=person)
    ).select_related("requester__person", "recipient__person", "program")
    return {
        "match_requests": [
            record(
                request,
                (
                    "id",
                    "program",
                    "message",
                    "status",
                    "created_at",
                    "responded_at",
                    "response_note",
                ),
                program_name=request.program.name,
                direction="sent" if request.requester.person_id == person.pk else "received",
                other_person=(
                    request.recipient.person.full_name
                    if request.requester.person_id == person.pk
                    else request.requester.person.full_name
                ),
            )
            for request in requests
        ]
    }


@transaction.atomic
def personal_data_erase(*, person: Person) -> None:
    """Afterwards no request to or from `person` is waiting (they are cancelled: "no longer
    possible") and the messages and answers they wrote are gone."""
    MatchRequest.objects.filter(
        Q(requester__person=person) | Q(recipient__person=person), status=RequestStatus.PENDING
    ).update(status=RequestStatus.CANCELLED, responded_at=timezone.now())
    MatchRequest.objects.filter(requester__person=person).update(message="")
    MatchRequest.objects.filter(recipient__person=person).update(response_note="")
