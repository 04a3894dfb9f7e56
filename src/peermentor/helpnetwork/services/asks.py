"""Asking for help: create, close, expire, invite helpers."""

from collections.abc import Sequence
from datetime import datetime, timedelta

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone

from peermentor.accounts.models import User
from peermentor.core.errors import ApplicationError
from peermentor.core.models import AuditEvent
from peermentor.core.services import audit_event, audit_record
from peermentor.enrollment.models import Participant
from peermentor.helpnetwork.models import (
    DESCRIPTION_MAX_LENGTH,
    AskStatus,
    HelpAsk,
    HelpAskTime,
    HelpInvitation,
    HelpOffer,
    OfferStatus,
)
from peermentor.helpnetwork.permissions import can_take_part, is_help_program
from peermentor.helpnetwork.selectors import has_offered
from peermentor.helpnetwork.services._common import (
    CHUNK_SIZE,
    DEFAULT_EXPIRY_DAYS,
    DESCRIPTION_MIN_LENGTH,
    EXPIRY_CHOICES_DAYS,
    _ask_url,
    _close_offers,
    _full_clean,
    _is_blocked,
    _lock_ask,
    _participant,
    _preferred_instants,
    _require_open,
    _require_taking_part,
    _text,
    _zone_name,
)
from peermentor.notifications.models import NotificationKind
from peermentor.notifications.services import NotificationSpec, notifications_create, notify
from peermentor.people.models import Skill
from peermentor.programs.models import Program
from peermentor.programs.permissions import can_manage_program


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
