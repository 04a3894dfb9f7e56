"""What the help-network services share: limits, checks, locks and telling people."""

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from peermentor.accounts.models import User
from peermentor.connections.models import (
    Block,
)
from peermentor.core.errors import ApplicationError
from peermentor.core.timezones import is_known_zone, local_to_utc, zone_name_for
from peermentor.enrollment.models import Participant
from peermentor.helpnetwork.models import (
    MAX_PREFERRED_TIMES,
    AskStatus,
    HelpAsk,
    HelpOffer,
    OfferStatus,
)
from peermentor.helpnetwork.permissions import can_take_part
from peermentor.notifications.models import NotificationKind
from peermentor.notifications.services import NotificationSpec, notifications_create
from peermentor.programs.models import Program

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
    if time_zone:
        if not is_known_zone(time_zone):
            raise ApplicationError(f"“{time_zone}” is not a known time zone.", field="time_zone")
        return time_zone
    return zone_name_for(user=actor, person=getattr(actor, "person", None))


def _preferred_instants(
    times: Sequence[datetime], zone_name: str, *, now: datetime, expires_at: datetime
) -> list[datetime]:
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
