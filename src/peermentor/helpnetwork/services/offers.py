"""Offering help and accepting an offer, which starts a flash connection with its meeting."""

from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from peermentor.accounts.models import User
from peermentor.connections import services as connections
from peermentor.connections.models import (
    Connection,
    ConnectionKind,
    ConnectionSource,
)
from peermentor.core.errors import ApplicationError
from peermentor.core.services import audit_record
from peermentor.engagement import services as engagement
from peermentor.enrollment.models import ParticipantRole
from peermentor.helpnetwork.models import (
    MESSAGE_MAX_LENGTH,
    AskStatus,
    HelpAsk,
    HelpOffer,
    OfferStatus,
)
from peermentor.helpnetwork.services._common import (
    FLASH_PLANNED_DAYS,
    _ask_url,
    _close_offers,
    _full_clean,
    _is_blocked,
    _lock_ask,
    _participant,
    _require_open,
    _require_taking_part,
    _text,
)
from peermentor.notifications.models import NotificationKind
from peermentor.notifications.services import notify


# --- offers -----------------------------------------------------------------------------------
@transaction.atomic
def help_offer_create(*, actor: User, ask: HelpAsk, message: str = "") -> HelpOffer:
    """Afterwards the actor has an open offer on the open ask (a withdrawn one is renewed)
    and the asker is told. Refused for the asker, for people not taking part in the program,
    for a closed or expired ask, and between people one of whom blocked the other."""
    ask = _lock_ask(ask)
    participant = _require_taking_part(actor, ask.program)
    if participant.pk == ask.asker_id:
        raise PermissionDenied("You cannot offer help on your own ask.")
    now = timezone.now()
    _require_open(ask, now=now)
    text = _text(message, field="message", label="The message", max_length=MESSAGE_MAX_LENGTH)
    if _is_blocked(participant.person_id, ask.asker.person_id):
        raise ApplicationError("You cannot offer help on this ask.")
    offer = HelpOffer.objects.select_for_update().filter(ask=ask, helper=participant).first()
    if offer is not None and offer.status != OfferStatus.WITHDRAWN:
        raise ApplicationError("You have already offered to help with this ask.")
    from_state = ""
    if offer is None:
        offer = HelpOffer(ask=ask, helper=participant, message=text)
    else:
        from_state = offer.status
        offer.status = OfferStatus.OPEN
        offer.message = text
        offer.decided_at = None
    _full_clean(offer, exclude=["ask", "helper"], validate_constraints=False)
    try:
        with transaction.atomic():
            offer.save()
    except IntegrityError as error:
        raise ApplicationError("You have already offered to help with this ask.") from error
    audit_record(
        actor=actor,
        action="help_offer.created",
        target=offer,
        program_id=ask.program_id,
        from_state=from_state,
        to_state=OfferStatus.OPEN,
        data={"ask_id": ask.pk},
    )
    notify(
        recipient=ask.asker.person.user_id,
        kind=NotificationKind.HELP_NETWORK,
        title=f"{participant.person.full_name} offered to help with {ask.skill.name}",
        body=text,
        url=_ask_url(ask),
        dedupe_key=f"help_offer:{offer.pk}",
    )
    return offer


@transaction.atomic
def help_offer_withdraw(*, actor: User, offer: HelpOffer) -> HelpOffer:
    """Afterwards the actor's open offer is withdrawn (they may offer again while the ask
    is open)."""
    ask = _lock_ask(offer.ask_id)
    offer = HelpOffer.objects.select_for_update().select_related("helper__person").get(pk=offer.pk)
    participant = _participant(actor, ask.program)
    if participant is None or participant.pk != offer.helper_id:
        raise PermissionDenied("Only the person who offered may withdraw the offer.")
    if offer.status != OfferStatus.OPEN:
        raise ApplicationError(
            f"This offer is {offer.get_status_display().lower()}: it cannot be withdrawn."
        )
    offer.status = OfferStatus.WITHDRAWN
    offer.decided_at = timezone.now()
    offer.save(update_fields=["status", "decided_at", "updated_at"])
    audit_record(
        actor=actor,
        action="help_offer.withdrawn",
        target=offer,
        program_id=ask.program_id,
        from_state=OfferStatus.OPEN,
        to_state=OfferStatus.WITHDRAWN,
        data={"ask_id": ask.pk},
    )
    return offer


@transaction.atomic
def help_offer_accept(*, actor: User, offer: HelpOffer, now: datetime | None = None) -> Connection:
    """Afterwards the asker and the helper share an active one-off "flash" connection, the
    offer is taken up, every other open offer on the ask is declined, the ask is matched, and
    a meeting is proposed at the asker's preferred times that are still ahead (the helper
    picks one in the connection's workspace). Only the asker accepts, while the ask is open.
    Refused when either has no room (connections' rules, checked under row locks)."""
    now = now or timezone.now()
    ask = _lock_ask(offer.ask_id)
    participant = _participant(actor, ask.program)
    if participant is None or participant.pk != ask.asker_id:
        raise PermissionDenied("Only the asker chooses whose offer to take up.")
    _require_open(ask, now=now)
    offer = (
        HelpOffer.objects.select_for_update(of=("self",))
        .select_related("helper__person")
        .get(pk=offer.pk)
    )
    if offer.ask_id != ask.pk or offer.status != OfferStatus.OPEN:
        raise ApplicationError("This offer is no longer open. Reload the page.")
    connection = connections.connection_propose(
        actor=actor,
        program=ask.program,
        members=[(ask.asker, ParticipantRole.PEER), (offer.helper, ParticipantRole.PEER)],
        kind=ConnectionKind.FLASH,
        source=ConnectionSource.HELP_NETWORK,
        reasons=f"{offer.helper.person.full_name} offered to help with {ask.skill.name}.",
        planned_end_on=(now + timedelta(days=FLASH_PLANNED_DAYS)).date(),
    )
    connection = engagement.connection_activate(actor=actor, connection=connection)
    offer.status = OfferStatus.ACCEPTED
    offer.decided_at = now
    offer.save(update_fields=["status", "decided_at", "updated_at"])
    ask.status = AskStatus.MATCHED
    ask.connection = connection
    ask.save(update_fields=["status", "connection", "updated_at"])
    declined = _close_offers(
        ask,
        now=now,
        why=f"{ask.asker.person.full_name} took up another offer.",
        except_pk=offer.pk,
    )
    meeting = _propose_flash_meeting(actor=actor, ask=ask, connection=connection, now=now)
    audit_record(
        actor=actor,
        action="help_offer.accepted",
        target=offer,
        program_id=ask.program_id,
        from_state=OfferStatus.OPEN,
        to_state=OfferStatus.ACCEPTED,
        data={
            "ask_id": ask.pk,
            "connection_id": connection.pk,
            "meeting_id": meeting.pk if meeting else None,
            "offers_declined": declined,
        },
    )
    audit_record(
        actor=actor,
        action="help_ask.matched",
        target=ask,
        program_id=ask.program_id,
        from_state=AskStatus.OPEN,
        to_state=AskStatus.MATCHED,
        data={"offer_id": offer.pk, "connection_id": connection.pk},
    )
    notify(
        recipient=offer.helper.person.user_id,
        kind=NotificationKind.HELP_NETWORK,
        title=f"{ask.asker.person.full_name} took up your offer to help with {ask.skill.name}",
        body=(
            "Pick one of the times they suggested in your flash meeting's workspace."
            if meeting
            else "Propose a time for your flash meeting in its workspace."
        ),
        url=reverse("workspace", args=[connection.pk]),
        dedupe_key=f"help_accepted:{offer.pk}",
    )
    return connection


def _propose_flash_meeting(
    *, actor: User, ask: HelpAsk, connection: Connection, now: datetime
) -> Any:
    # Times too close to now are dropped: the helper needs a moment to see the proposal.
    ahead = [
        starts_at
        for starts_at in ask.preferred_times.values_list("starts_at", flat=True)
        if starts_at > now + timedelta(minutes=15)
    ]
    if not ahead:
        return None
    return engagement.meeting_propose(
        actor=actor,
        connection=connection,
        options=ahead,
        time_zone=ask.time_zone,
        title=f"Help with {ask.skill.name}",
        agenda=ask.description,
        now=now,
    )
