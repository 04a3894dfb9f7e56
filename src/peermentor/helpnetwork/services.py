"""Every write of the help network. Each service checks permission, validates, locks what it
changes, records an audit row and notifies the people concerned, in one transaction.

Connections are made through peermentor.connections.services (kind "flash", source
"help_network"), and the flash meeting through peermentor.engagement.services.meeting_propose.
"""

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from peermentor.accounts.models import User
from peermentor.connections.models import (
    Block,
    Connection,
    ConnectionKind,
    ConnectionSource,
    ConnectionStatus,
    EndReason,
)
from peermentor.core.errors import ApplicationError
from peermentor.core.models import AuditEvent
from peermentor.core.services import audit_event, audit_record
from peermentor.enrollment.models import Participant, ParticipantRole
from peermentor.helpnetwork.models import (
    DESCRIPTION_MAX_LENGTH,
    MAX_PREFERRED_TIMES,
    MESSAGE_MAX_LENGTH,
    AskStatus,
    HelpAsk,
    HelpAskTime,
    HelpInvitation,
    HelpOffer,
    OfferStatus,
)
from peermentor.helpnetwork.permissions import can_take_part, is_help_program
from peermentor.helpnetwork.selectors import has_offered
from peermentor.notifications.models import NotificationKind
from peermentor.notifications.services import NotificationSpec, notifications_create, notify
from peermentor.people.models import Skill
from peermentor.programs.models import Program
from peermentor.programs.permissions import can_manage_program

EXPIRY_CHOICES_DAYS = (3, 7, 14, 30)
DEFAULT_EXPIRY_DAYS = 14
# Preferred times must fall within this window (and before the ask expires).
MIN_MINUTES_AHEAD = 30
FLASH_PLANNED_DAYS = 30
DESCRIPTION_MIN_LENGTH = 10
CHUNK_SIZE = 900


# --- helpers ----------------------------------------------------------------------------------
def _participant(actor: User, program: Program) -> Participant | None:
    if not getattr(actor, "is_authenticated", False):
        return None
    return (
        Participant.objects.select_related("person")
        .filter(program=program, person__user_id=actor.pk)
        .first()
    )


def _require_taking_part(actor: User, program: Program) -> Participant:
    participant = _participant(actor, program)
    if participant is None or not can_take_part(participant, program):
        raise PermissionDenied("Only the program's enrolled participants ask and offer help.")
    return participant


def _text(value: Any, *, field: str, label: str, max_length: int, min_length: int = 0) -> str:
    if value is not None and not isinstance(value, str):
        raise ApplicationError(f"{label} must be text.", field=field)
    text = (value or "").strip()
    if min_length and len(text) < min_length:
        raise ApplicationError(
            f"{label} needs at least {min_length} characters: say what you need.", field=field
        )
    if len(text) > max_length:
        raise ApplicationError(
            f"{label} is too long: keep it under {max_length} characters.", field=field
        )
    return text


def _full_clean(instance: Any, **options: Any) -> None:
    try:
        instance.full_clean(**options)
    except ValidationError as error:
        if hasattr(error, "error_dict"):
            name, errors = next(iter(error.error_dict.items()))
            raise ApplicationError(
                " ".join(errors[0].messages), field=None if name == "__all__" else name
            ) from error
        raise ApplicationError(" ".join(error.messages)) from error


def _lock_ask(ask: HelpAsk | int) -> HelpAsk:
    pk = ask if isinstance(ask, int) else ask.pk
    try:
        return (
            HelpAsk.objects.select_for_update(of=("self",))
            .select_related("program", "skill", "asker__person")
            .get(pk=pk)
        )
    except HelpAsk.DoesNotExist:
        raise ApplicationError("This ask no longer exists.") from None


def _is_blocked(first_person_id: int, second_person_id: int) -> bool:
    return Block.objects.filter(
        blocker_id__in=(first_person_id, second_person_id),
        blocked_id__in=(first_person_id, second_person_id),
    ).exists()


def _ask_url(ask: HelpAsk) -> str:
    return reverse("help_ask_detail", args=[ask.pk])


def _require_open(ask: HelpAsk, *, now: datetime) -> None:
    if ask.status != AskStatus.OPEN or ask.expires_at <= now:
        state = "expired" if ask.status == AskStatus.OPEN else ask.get_status_display().lower()
        raise ApplicationError(f"This ask is {state}: it takes no more offers.")


def _zone_name(actor: User, time_zone: str | None) -> str:
    from peermentor.engagement.timezones import is_known_zone, zone_name_for

    if time_zone:
        if not is_known_zone(time_zone):
            raise ApplicationError(f"“{time_zone}” is not a known time zone.", field="time_zone")
        return time_zone
    return zone_name_for(user=actor, person=getattr(actor, "person", None))


def _preferred_instants(
    times: Sequence[datetime], zone_name: str, *, now: datetime, expires_at: datetime
) -> list[datetime]:
    from peermentor.engagement.timezones import local_to_utc

    if len(times) > MAX_PREFERRED_TIMES:
        raise ApplicationError(
            f"Give at most {MAX_PREFERRED_TIMES} times.", field="preferred_times"
        )
    instants: list[datetime] = []
    for index, value in enumerate(times):
        field = f"time_{index + 1}"
        if not isinstance(value, datetime):
            raise ApplicationError("Give a date and a time.", field=field)
        instant = local_to_utc(value, zone_name, field=field)
        if instant < now + timedelta(minutes=MIN_MINUTES_AHEAD):
            raise ApplicationError("Choose a time at least half an hour from now.", field=field)
        if instant > expires_at:
            raise ApplicationError("Choose a time before your ask expires.", field=field)
        if instant in instants:
            raise ApplicationError("The same time appears twice.", field=field)
        instants.append(instant)
    return sorted(instants)


def _tell_declined(ask: HelpAsk, offer_rows: Sequence[tuple[int, int | None]], why: str) -> None:
    notifications_create(
        notes=[
            NotificationSpec(
                recipient_id=user_id,
                kind=NotificationKind.HELP_NETWORK,
                title=f"Your offer to help with {ask.skill.name} was not needed",
                body=why + " Thank you for offering.",
                url=_ask_url(ask),
                dedupe_key=f"help_declined:{offer_pk}",
            )
            for offer_pk, user_id in offer_rows
            if user_id is not None
        ]
    )


def _close_offers(ask: HelpAsk, *, now: datetime, why: str, except_pk: int | None = None) -> int:
    offers = HelpOffer.objects.filter(ask=ask, status=OfferStatus.OPEN)
    if except_pk is not None:
        offers = offers.exclude(pk=except_pk)
    rows = list(offers.values_list("pk", "helper__person__user_id"))
    if rows:
        HelpOffer.objects.filter(pk__in=[pk for pk, _ in rows]).update(
            status=OfferStatus.DECLINED, decided_at=now, updated_at=now
        )
        _tell_declined(ask, rows, why)
    return len(rows)


# --- asks -------------------------------------------------------------------------------------
@transaction.atomic
def help_ask_create(
    *,
    actor: User,
    program: Program,
    skill: Skill | None,
    description: str,
    preferred_times: Sequence[datetime] = (),
    time_zone: str | None = None,
    expires_in_days: int = DEFAULT_EXPIRY_DAYS,
    now: datetime | None = None,
) -> HelpAsk:
    """Afterwards the actor has an open ask for help with `skill` that the program's
    participants can see and offer on, until it expires `expires_in_days` from now.

    Refused unless the actor is enrolled in a running help-network program, or when they
    already have an open ask on that skill. Naive `preferred_times` are wall-clock times in
    `time_zone` (default: the actor's own); up to three, in the future, before the expiry."""
    if not is_help_program(program):
        raise ApplicationError("This program has no help network.")
    participant = _require_taking_part(actor, program)
    now = now or timezone.now()
    if not isinstance(skill, Skill) or skill.pk is None:
        raise ApplicationError("Choose a topic from the list.", field="skill")
    if expires_in_days not in EXPIRY_CHOICES_DAYS:
        raise ApplicationError("Choose how long the ask stays open.", field="expires_in_days")
    text = _text(
        description,
        field="description",
        label="The description",
        max_length=DESCRIPTION_MAX_LENGTH,
        min_length=DESCRIPTION_MIN_LENGTH,
    )
    zone_name = _zone_name(actor, time_zone)
    expires_at = now + timedelta(days=expires_in_days)
    instants = _preferred_instants(preferred_times, zone_name, now=now, expires_at=expires_at)
    if HelpAsk.objects.filter(asker=participant, skill=skill, status=AskStatus.OPEN).exists():
        raise ApplicationError(
            f"You already have an open ask about {skill.name}: edit or close that one.",
            field="skill",
        )
    ask = HelpAsk(
        program=program,
        asker=participant,
        skill=skill,
        description=text,
        time_zone=zone_name,
        expires_at=expires_at,
    )
    _full_clean(ask, exclude=["program", "asker", "skill"], validate_constraints=False)
    try:
        with transaction.atomic():
            ask.save()
    except IntegrityError as error:
        raise ApplicationError(
            f"You already have an open ask about {skill.name}.", field="skill"
        ) from error
    HelpAskTime.objects.bulk_create([HelpAskTime(ask=ask, starts_at=i) for i in instants])
    audit_record(
        actor=actor,
        action="help_ask.created",
        target=ask,
        program_id=program.pk,
        to_state=AskStatus.OPEN,
        data={
            "skill_id": skill.pk,
            "expires_at": expires_at.isoformat(),
            "preferred_times": [i.isoformat() for i in instants],
        },
    )
    return ask


@transaction.atomic
def help_ask_close(*, actor: User, ask: HelpAsk, reason: str = "") -> HelpAsk:
    """Afterwards the open ask is closed and its open offers are declined (their helpers are
    told). The asker closes their own ask; the program's managers may close any (moderation)."""
    ask = _lock_ask(ask)
    participant = _participant(actor, ask.program)
    is_asker = participant is not None and participant.pk == ask.asker_id
    if not (is_asker or can_manage_program(actor, ask.program)):
        raise PermissionDenied("Only the asker or the program's managers may close this ask.")
    if ask.status != AskStatus.OPEN:
        raise ApplicationError(
            f"This ask is {ask.get_status_display().lower()}: there is nothing to close."
        )
    now = timezone.now()
    ask.status = AskStatus.CLOSED
    ask.closed_at = now
    ask.close_reason = _text(reason, field="reason", label="The reason", max_length=1000)
    ask.save(update_fields=["status", "closed_at", "close_reason", "updated_at"])
    declined = _close_offers(ask, now=now, why=f"{ask.asker.person.full_name} closed the ask.")
    audit_record(
        actor=actor,
        action="help_ask.closed",
        target=ask,
        program_id=ask.program_id,
        from_state=AskStatus.OPEN,
        to_state=AskStatus.CLOSED,
        reason=ask.close_reason,
        data={"offers_declined": declined, "by_manager": not is_asker},
    )
    if not is_asker:
        notify(
            recipient=ask.asker.person.user_id,
            kind=NotificationKind.HELP_NETWORK,
            title=f"Your ask for help with {ask.skill.name} was closed by the program's managers",
            body=ask.close_reason,
            url=_ask_url(ask),
            dedupe_key=f"help_closed:{ask.pk}",
        )
    return ask


@transaction.atomic
def help_asks_expire(*, now: datetime | None = None) -> int:
    """Afterwards no open ask is past its expiry: each is expired, its open offers declined,
    and its asker and helpers told. Safe to run from several workers at once (rows are
    claimed with SKIP LOCKED on PostgreSQL; SQLite serialises writers). Returns how many."""
    now = now or timezone.now()
    claimed = list(
        HelpAsk.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(status=AskStatus.OPEN, expires_at__lte=now)
        .order_by("pk")
        .values_list("pk", flat=True)[:CHUNK_SIZE]
    )
    if not claimed:
        return 0
    HelpAsk.objects.filter(pk__in=claimed, status=AskStatus.OPEN).update(
        status=AskStatus.EXPIRED, closed_at=now, updated_at=now
    )
    asks = {
        ask.pk: ask
        for ask in HelpAsk.objects.filter(pk__in=claimed).select_related("skill", "asker__person")
    }
    offers = list(
        HelpOffer.objects.filter(ask_id__in=claimed, status=OfferStatus.OPEN).values_list(
            "pk", "ask_id", "helper__person__user_id"
        )
    )
    HelpOffer.objects.filter(pk__in=[pk for pk, _, _ in offers]).update(
        status=OfferStatus.DECLINED, decided_at=now, updated_at=now
    )
    AuditEvent.objects.bulk_create(
        [
            audit_event(
                actor=None,
                action="help_ask.expired",
                target_type=HelpAsk,
                target_id=pk,
                program_id=asks[pk].program_id,
                from_state=AskStatus.OPEN,
                to_state=AskStatus.EXPIRED,
                reason="Nobody's offer was taken up before the ask expired.",
            )
            for pk in claimed
        ]
    )
    notes = [
        NotificationSpec(
            recipient_id=ask.asker.person.user_id,
            kind=NotificationKind.HELP_NETWORK,
            title=f"Your ask for help with {ask.skill.name} has expired",
            body="Ask again whenever you like: people's availability changes.",
            url=_ask_url(ask),
            dedupe_key=f"help_expired:{ask.pk}",
        )
        for ask in asks.values()
        if ask.asker.person.user_id is not None
    ]
    notes += [
        NotificationSpec(
            recipient_id=user_id,
            kind=NotificationKind.HELP_NETWORK,
            title=f"Your offer to help with {asks[ask_id].skill.name} was not needed",
            body="The ask expired. Thank you for offering.",
            url=_ask_url(asks[ask_id]),
            dedupe_key=f"help_declined:{offer_pk}",
        )
        for offer_pk, ask_id, user_id in offers
        if user_id is not None
    ]
    notifications_create(notes=notes, now=now)
    return len(claimed)


@transaction.atomic
def help_ask_invite(
    *, actor: User, ask: HelpAsk, helper: Participant, reasons: str = ""
) -> HelpInvitation:
    """Afterwards `helper` (a participant who offered the ask's skill) is invited to look at
    the ask and is notified, once. Only the asker invites, while the ask is open."""
    ask = _lock_ask(ask)
    participant = _participant(actor, ask.program)
    if participant is None or participant.pk != ask.asker_id:
        raise PermissionDenied("Only the asker invites people to help.")
    _require_open(ask, now=timezone.now())
    if not isinstance(helper, Participant) or helper.program_id != ask.program_id:
        raise ApplicationError("Choose someone from the suggestions.", field="helper")
    if helper.pk == participant.pk:
        raise ApplicationError("You cannot invite yourself.", field="helper")
    if not can_take_part(helper, ask.program) or not has_offered(
        participant=helper, skill_name=ask.skill.name
    ):
        raise ApplicationError(
            f"{helper.person.full_name} does not offer help with {ask.skill.name}.", field="helper"
        )
    if _is_blocked(participant.person_id, helper.person_id):
        # Say neither who blocked nor whom (as connections do).
        raise ApplicationError("This person cannot be invited.", field="helper")
    invitation, created = HelpInvitation.objects.get_or_create(
        ask=ask,
        helper=helper,
        defaults={"reasons": _text(reasons, field="reasons", label="The reasons", max_length=1000)},
    )
    if not created:
        raise ApplicationError(f"You have already invited {helper.person.full_name}.")
    audit_record(
        actor=actor,
        action="help_ask.invited",
        target=ask,
        program_id=ask.program_id,
        data={"helper_id": helper.pk},
    )
    notify(
        recipient=helper.person.user_id,
        kind=NotificationKind.HELP_NETWORK,
        title=f"{ask.asker.person.full_name} asks for your help with {ask.skill.name}",
        body=ask.description,
        url=_ask_url(ask),
        dedupe_key=f"help_invited:{ask.pk}",
    )
    return invitation


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
    from peermentor.connections import services as connections

    connection = connections.connection_propose(
        actor=actor,
        program=ask.program,
        members=[(ask.asker, ParticipantRole.PEER), (offer.helper, ParticipantRole.PEER)],
        kind=ConnectionKind.FLASH,
        source=ConnectionSource.HELP_NETWORK,
        reasons=f"{offer.helper.person.full_name} offered to help with {ask.skill.name}.",
        planned_end_on=(now + timedelta(days=FLASH_PLANNED_DAYS)).date(),
    )
    connection = connections.connection_activate(actor=actor, connection=connection)
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
    from peermentor.engagement.services import meeting_propose

    # Times too close to now are dropped: the helper needs a moment to see the proposal.
    ahead = [
        starts_at
        for starts_at in ask.preferred_times.values_list("starts_at", flat=True)
        if starts_at > now + timedelta(minutes=15)
    ]
    if not ahead:
        return None
    return meeting_propose(
        actor=actor,
        connection=connection,
        options=ahead,
        time_zone=ask.time_zone,
        title=f"Help with {ask.skill.name}",
        agenda=ask.description,
        now=now,
    )


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
        from peermentor.connections import services as connections

        connections.connection_complete(
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
    from peermentor.connections import services as connections

    flash = Connection.objects.get(pk=ask.connection_id)
    if flash.status == ConnectionStatus.ACTIVE:
        connections.connection_complete(
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
    from peermentor.connections import services as connections

    if accept:
        pair = connections.connection_activate(actor=actor, connection=pair)
    else:
        pair = connections.connection_cancel(
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


__all__ = [
    "DEFAULT_EXPIRY_DAYS",
    "EXPIRY_CHOICES_DAYS",
    "help_ask_close",
    "help_ask_create",
    "help_ask_invite",
    "help_asks_expire",
    "help_offer_accept",
    "help_offer_create",
    "help_offer_withdraw",
    "help_ongoing_answer",
    "help_ongoing_propose",
    "help_thank",
]
