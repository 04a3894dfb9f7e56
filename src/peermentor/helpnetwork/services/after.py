"""After the flash meeting: thanks, and growing it into an ongoing pair."""

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from peermentor.accounts.models import User
from peermentor.connections import services as connections
from peermentor.connections.models import (
    Connection,
    ConnectionKind,
    ConnectionSource,
    ConnectionStatus,
    EndReason,
)
from peermentor.core.errors import ApplicationError
from peermentor.core.services import audit_record
from peermentor.engagement import services as engagement
from peermentor.enrollment.models import Participant, ParticipantRole
from peermentor.helpnetwork.models import (
    MESSAGE_MAX_LENGTH,
    AskStatus,
    HelpAsk,
    HelpOffer,
    OfferStatus,
)
from peermentor.helpnetwork.services._common import _ask_url, _lock_ask, _participant, _text
from peermentor.notifications.models import NotificationKind
from peermentor.notifications.services import notify


# --- after the flash meeting ------------------------------------------------------------------
@transaction.atomic
def help_thank(*, actor: User, ask: HelpAsk, message: str) -> HelpAsk:
    """Afterwards the asker's thank-you is stored and sent to the helper, and the flash
    connection is completed if it was still active. Once per ask, by the asker."""
    ask = _lock_ask(ask)
    participant = _participant(actor, ask.program)
    if participant is None or participant.pk != ask.asker_id:
        raise PermissionDenied("Only the asker sends the thank-you.")
    if ask.status != AskStatus.MATCHED or ask.connection_id is None:
        raise ApplicationError("You can say thank you once someone's offer is taken up.")
    if ask.thanked_at is not None:
        raise ApplicationError("You have already said thank you.")
    text = _text(
        message,
        field="message",
        label="Your thank-you",
        max_length=MESSAGE_MAX_LENGTH,
        min_length=2,
    )
    helper = (
        HelpOffer.objects.select_related("helper__person")
        .get(ask=ask, status=OfferStatus.ACCEPTED)
        .helper
    )
    connection = Connection.objects.get(pk=ask.connection_id)
    if connection.status == ConnectionStatus.ACTIVE:
        engagement.connection_complete(
            actor=actor, connection=connection, reason_code=EndReason.GOALS_MET
        )
    ask.thank_you = text
    ask.thanked_at = timezone.now()
    ask.save(update_fields=["thank_you", "thanked_at", "updated_at"])
    audit_record(
        actor=actor,
        action="help_ask.thanked",
        target=ask,
        program_id=ask.program_id,
        data={"connection_id": ask.connection_id, "helper_id": helper.pk},
    )
    notify(
        recipient=helper.person.user_id,
        kind=NotificationKind.HELP_NETWORK,
        title=f"{ask.asker.person.full_name} thanked you for your help with {ask.skill.name}",
        body=text,
        url=_ask_url(ask),
        dedupe_key=f"help_thanks:{ask.pk}",
    )
    return ask


def _flash_members(ask: HelpAsk) -> tuple[Participant, Participant]:
    helper = (
        HelpOffer.objects.select_related("helper__person")
        .get(ask=ask, status=OfferStatus.ACCEPTED)
        .helper
    )
    return ask.asker, helper


@transaction.atomic
def help_ongoing_propose(*, actor: User, ask: HelpAsk) -> Connection:
    """Afterwards the flash connection is completed and a proposed ongoing pair of the same
    two people waits for the other one's answer (they are notified). Either of the two may
    propose it, once at a time. Refused by the connections' rules when either already has
    another current connection (a pair is one at a time)."""
    ask = _lock_ask(ask)
    participant = _participant(actor, ask.program)
    if ask.status != AskStatus.MATCHED or ask.connection_id is None:
        raise ApplicationError("An ask becomes a connection once an offer is taken up.")
    asker, helper = _flash_members(ask)
    if participant is None or participant.pk not in (asker.pk, helper.pk):
        raise PermissionDenied("Only the two people of the flash meeting may do this.")
    if ask.ongoing_connection_id is not None:
        current = Connection.objects.get(pk=ask.ongoing_connection_id)
        if current.status in (ConnectionStatus.PROPOSED, ConnectionStatus.ACTIVE):
            raise ApplicationError("You already asked to keep meeting.")
    other = helper if participant.pk == asker.pk else asker
    flash = Connection.objects.get(pk=ask.connection_id)
    if flash.status == ConnectionStatus.ACTIVE:
        engagement.connection_complete(
            actor=actor, connection=flash, reason_code=EndReason.GOALS_MET
        )
    pair = connections.connection_propose(
        actor=actor,
        program=ask.program,
        members=[(participant, ParticipantRole.PEER), (other, ParticipantRole.PEER)],
        kind=ConnectionKind.PAIR,
        source=ConnectionSource.HELP_NETWORK,
        reasons=f"Met in a flash meeting about {ask.skill.name} and chose to keep meeting.",
        # The flash is these two's earlier connection: it must not count as "met before".
        grows_from=flash,
    )
    ask.ongoing_connection = pair
    ask.save(update_fields=["ongoing_connection", "updated_at"])
    audit_record(
        actor=actor,
        action="help_ask.ongoing_proposed",
        target=ask,
        program_id=ask.program_id,
        data={"flash_connection_id": flash.pk, "connection_id": pair.pk},
    )
    notify(
        recipient=other.person.user_id,
        kind=NotificationKind.HELP_NETWORK,
        title=f"{participant.person.full_name} would like to keep meeting you",
        body=(
            f"After your flash meeting about {ask.skill.name}. Accept or decline on the ask's page."
        ),
        url=_ask_url(ask),
        dedupe_key=f"help_ongoing:{pair.pk}",
    )
    return pair


@transaction.atomic
def help_ongoing_answer(*, actor: User, ask: HelpAsk, accept: bool) -> Connection:
    """Afterwards the proposed ongoing pair is active (accepted) or cancelled (declined), and
    the one who proposed it is told. Only the other person of the two answers."""
    ask = _lock_ask(ask)
    participant = _participant(actor, ask.program)
    if ask.status != AskStatus.MATCHED or ask.connection_id is None:
        raise ApplicationError("Nobody asked to keep meeting.")
    asker, helper = _flash_members(ask)
    if participant is None or participant.pk not in (asker.pk, helper.pk):
        raise PermissionDenied("Only the two people of the flash meeting may do this.")
    if ask.ongoing_connection_id is None:
        raise ApplicationError("Nobody asked to keep meeting.")
    pair = Connection.objects.get(pk=ask.ongoing_connection_id)
    if pair.created_by_id == actor.pk:
        raise PermissionDenied("The other person answers your request.")
    if pair.status != ConnectionStatus.PROPOSED:
        raise ApplicationError(
            f"This request is {pair.get_status_display().lower()}: there is nothing to answer."
        )
    if not isinstance(accept, bool):
        raise ApplicationError("Say whether you accept.", field="accept")
    if accept:
        pair = engagement.connection_activate(actor=actor, connection=pair)
    else:
        pair = engagement.connection_cancel(
            actor=actor, connection=pair, reason="Declined after the flash meeting."
        )
    audit_record(
        actor=actor,
        action="help_ask.ongoing_accepted" if accept else "help_ask.ongoing_declined",
        target=ask,
        program_id=ask.program_id,
        data={"connection_id": pair.pk},
    )
    notify(
        recipient=pair.created_by_id,
        kind=NotificationKind.HELP_NETWORK,
        title=(
            f"{participant.person.full_name} agreed to keep meeting"
            if accept
            else f"{participant.person.full_name} would rather not keep meeting"
        ),
        body=(
            "Your connection is active: plan your first meeting in its workspace."
            if accept
            else "Thank you for asking. The help network is there whenever you need it."
        ),
        url=reverse("workspace", args=[pair.pk]) if accept else _ask_url(ask),
        dedupe_key=f"help_ongoing_answer:{pair.pk}",
    )
    return pair
