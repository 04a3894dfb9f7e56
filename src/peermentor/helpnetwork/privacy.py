"""The help network's part of a subject-access or erasure request (see core/privacy.py)."""

from typing import Any

from django.db import transaction
from django.utils import timezone

from peermentor.core.privacy import ERASED_TEXT, record, records
from peermentor.helpnetwork.models import AskStatus, HelpAsk, HelpOffer, OfferStatus
from peermentor.people.models import Person

ASK_FIELDS = (
    "id",
    "program",
    "description",
    "status",
    "created_at",
    "expires_at",
    "closed_at",
    "close_reason",
    "connection",
    "thank_you",
    "thanked_at",
)
OFFER_FIELDS = ("id", "ask", "message", "status", "created_at", "decided_at")


def personal_data(*, person: Person) -> dict[str, Any]:
    """The asks `person` made (with their preferred times) and the offers they made (two
    queries and one for the times). Programs' members read asks and offers, so an
    administrator's export holds them too."""
    asks = (
        HelpAsk.objects.filter(asker__person=person)
        .select_related("skill")
        .prefetch_related("preferred_times")
    )
    return {
        "help_asks": [
            record(
                ask,
                ASK_FIELDS,
                skill=ask.skill.name,
                preferred_times=[time.starts_at for time in ask.preferred_times.all()],
            )
            for ask in asks
        ],
        "help_offers": records(HelpOffer.objects.filter(helper__person=person), OFFER_FIELDS),
    }


@transaction.atomic
def personal_data_erase(*, person: Person) -> None:
    """Afterwards `person` has no open ask or offer (closed and withdrawn now) and the words of
    their asks, offers and thanks are erased. The rows stay: the flash meetings made from them
    and the program's help-network figures still add up."""
    now = timezone.now()
    HelpAsk.objects.filter(asker__person=person, status=AskStatus.OPEN).update(
        status=AskStatus.CLOSED, closed_at=now
    )
    HelpAsk.objects.filter(asker__person=person).update(description=ERASED_TEXT, close_reason="")
    HelpAsk.objects.filter(asker__person=person).exclude(thank_you="").update(thank_you=ERASED_TEXT)
    HelpOffer.objects.filter(helper__person=person, status=OfferStatus.OPEN).update(
        status=OfferStatus.WITHDRAWN, decided_at=now
    )
    HelpOffer.objects.filter(helper__person=person).update(message="")
