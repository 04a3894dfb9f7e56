"""Every write of the notifications app.

Other apps tell people things with `notify` (one message) or `notifications_create` (many);
both are idempotent by (recipient, dedupe_key). E-mail is never sent from here: the scheduled
digest run (digests.py) picks up what is waiting.
"""

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme

from peermentor.accounts.models import User
from peermentor.core.errors import ApplicationError, full_clean
from peermentor.core.services import audit_record
from peermentor.notifications.models import (
    BODY_MAX_LENGTH,
    TITLE_MAX_LENGTH,
    DigestFrequency,
    Notification,
    NotificationKind,
    NotificationPreference,
    NudgeSettings,
)
from peermentor.notifications.tokens import user_for_unsubscribe_token
from peermentor.programs.models import Program
from peermentor.programs.permissions import can_manage_program

# (recipient, key) pairs per existence query: two IN lists well below any parameter limit.
CHUNK_SIZE = 400


@dataclass(frozen=True)
class NotificationSpec:
    """A notification to write: to whom, what kind, what it says, where it leads."""

    recipient_id: int
    kind: str
    title: str
    dedupe_key: str
    body: str = ""
    url: str = ""


def _shorten(text: str, limit: int) -> str:
    text = " ".join(str(text).split()) if limit <= TITLE_MAX_LENGTH else str(text).strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _checked(spec: NotificationSpec) -> NotificationSpec:
    if spec.kind not in NotificationKind.values:
        raise ApplicationError(f"Unknown kind of notification: {spec.kind!r}.", field="kind")
    if not spec.dedupe_key or len(spec.dedupe_key) > 200:
        raise ApplicationError("A notification needs a dedupe key of at most 200 characters.")
    if not str(spec.title).strip():
        raise ApplicationError("A notification needs a title.", field="title")
    if spec.url and not (
        str(spec.url).startswith("/")
        and url_has_allowed_host_and_scheme(str(spec.url), allowed_hosts=None)
    ):
        # Only links inside the site: a notification must never send people elsewhere.
        raise ApplicationError("A notification links to a page of this site.", field="url")
    return NotificationSpec(
        recipient_id=spec.recipient_id,
        kind=spec.kind,
        title=_shorten(spec.title, TITLE_MAX_LENGTH),
        dedupe_key=spec.dedupe_key,
        body=_shorten(spec.body, BODY_MAX_LENGTH),
        url=str(spec.url)[:500],
    )


def notifications_create(*, notes: Iterable[NotificationSpec], now: datetime | None = None) -> int:
    """Afterwards every given notification exists once per (recipient, dedupe key); those that
    existed already are left as they were (read or not). Returns how many were new.

    Runs a constant number of queries per 400 notifications. Notifications are messages, not
    state changes of anything people own, so they are not written to the audit trail.
    """
    now = now or timezone.now()
    wanted: dict[tuple[int, str], NotificationSpec] = {}
    for spec in notes:
        checked = _checked(spec)
        wanted.setdefault((checked.recipient_id, checked.dedupe_key), checked)
    keys = list(wanted)
    created = 0
    for start in range(0, len(keys), CHUNK_SIZE):
        chunk = keys[start : start + CHUNK_SIZE]
        existing = set(
            Notification.objects.filter(
                recipient_id__in={recipient for recipient, _ in chunk},
                dedupe_key__in={key for _, key in chunk},
            ).values_list("recipient_id", "dedupe_key")
        )
        new = [wanted[pair] for pair in chunk if pair not in existing]
        # ignore_conflicts: another worker may write the same key between the read and here.
        Notification.objects.bulk_create(
            [
                Notification(
                    recipient_id=spec.recipient_id,
                    kind=spec.kind,
                    title=spec.title,
                    body=spec.body,
                    url=spec.url,
                    dedupe_key=spec.dedupe_key,
                    created_at=now,
                )
                for spec in new
            ],
            ignore_conflicts=True,
        )
        created += len(new)
    return created


def notify(
    *,
    recipient: Any,
    kind: str,
    title: str,
    dedupe_key: str,
    body: str = "",
    url: str = "",
) -> bool:
    """Afterwards `recipient` has this notification (once, whatever the number of calls).
    Returns whether it is new. Call it inside the service's transaction."""
    recipient_id = recipient if isinstance(recipient, int) else getattr(recipient, "pk", None)
    if recipient_id is None:
        return False
    spec = NotificationSpec(
        recipient_id=recipient_id,
        kind=kind,
        title=title,
        dedupe_key=dedupe_key,
        body=body,
        url=url,
    )
    return notifications_create(notes=[spec]) == 1


def _signed_in(actor: User) -> None:
    if not getattr(actor, "is_authenticated", False):
        raise PermissionDenied("Sign in first.")


def notification_mark_read(*, actor: User, notification: Notification) -> Notification:
    """Afterwards the actor's notification is read (reading it twice changes nothing).

    Reading is not audited: it changes nothing anyone else sees."""
    _signed_in(actor)
    if notification.recipient_id != actor.pk:
        raise PermissionDenied("This notification is someone else's.")
    now = timezone.now()
    if Notification.objects.filter(
        pk=notification.pk, recipient_id=actor.pk, read_at__isnull=True
    ).update(read_at=now):
        notification.read_at = now
    return notification


def notifications_mark_all_read(*, actor: User) -> int:
    """Afterwards none of the actor's notifications is unread. Returns how many changed."""
    _signed_in(actor)
    return Notification.objects.filter(recipient_id=actor.pk, read_at__isnull=True).update(
        read_at=timezone.now()
    )


def preference_for(user: User) -> NotificationPreference:
    """The user's preferences, or unsaved defaults."""
    found = NotificationPreference.objects.filter(user_id=user.pk).first()
    return found or NotificationPreference(user_id=user.pk)


@transaction.atomic
def notification_preference_update(
    *, actor: User, digest_frequency: str, email_kinds: Collection[str]
) -> NotificationPreference:
    """Afterwards the actor gets e-mail digests at `digest_frequency` covering exactly the
    kinds in `email_kinds` (every kind still shows in the notification centre)."""
    _signed_in(actor)
    if digest_frequency not in DigestFrequency.values:
        raise ApplicationError("Choose how often to get e-mail.", field="digest_frequency")
    unknown = [kind for kind in email_kinds if kind not in NotificationKind.values]
    if unknown:
        raise ApplicationError(
            f"Unknown kind of notification: {unknown[0]!r}.", field="email_kinds"
        )
    preference, _ = NotificationPreference.objects.select_for_update().get_or_create(user=actor)
    before = {
        "digest_frequency": preference.digest_frequency,
        "muted": preference.email_muted_kinds,
    }
    preference.digest_frequency = digest_frequency
    preference.email_muted_kinds = [k for k in NotificationKind.values if k not in email_kinds]
    if digest_frequency != DigestFrequency.OFF:
        preference.unsubscribed_at = None
    preference.save()
    audit_record(
        actor=actor,
        action="notifications.preferences_updated",
        target=preference,
        from_state=before["digest_frequency"],
        to_state=digest_frequency,
        data={"muted_before": before["muted"], "muted": preference.email_muted_kinds},
    )
    return preference


@transaction.atomic
def email_unsubscribe(*, token: str) -> Any:
    """Afterwards the token's user gets no more e-mail digests (the notification centre goes
    on). Returns the user. Raises ApplicationError for a tampered or stale token."""
    user = user_for_unsubscribe_token(token)
    if user is None:
        raise ApplicationError(
            "This unsubscribe link is not valid. Sign in and change your notification "
            "preferences instead.",
            status=404,
        )
    preference, _ = NotificationPreference.objects.select_for_update().get_or_create(user=user)
    if preference.digest_frequency == DigestFrequency.OFF and preference.unsubscribed_at:
        return user
    from_state = preference.digest_frequency
    preference.digest_frequency = DigestFrequency.OFF
    preference.unsubscribed_at = timezone.now()
    preference.save()
    # The signed link proves who asked, so the user is recorded as the actor.
    audit_record(
        actor=user,
        action="notifications.unsubscribed",
        target=preference,
        from_state=from_state,
        to_state=DigestFrequency.OFF,
        reason="One-click unsubscribe link",
    )
    return user


def nudge_settings_for(program: Program) -> NudgeSettings:
    found = NudgeSettings.objects.filter(program=program).first()
    return found or NudgeSettings(program=program)


def nudge_settings_copy(*, source: Program, target: Program) -> NudgeSettings | None:
    """For `programs.services.program_copy`: afterwards `target` reminds as `source` does. A
    source on the defaults writes nothing. The copy is audited by the caller."""
    found = NudgeSettings.objects.filter(program=source).first()
    if found is None:
        return None
    return NudgeSettings.objects.create(
        program=target,
        stalled_after_days=found.stalled_after_days,
        ending_soon_days=found.ending_soon_days,
        waiting_after_days=found.waiting_after_days,
    )


@transaction.atomic
def nudge_settings_update(
    *,
    actor: User,
    program: Program,
    stalled_after_days: int,
    ending_soon_days: int,
    waiting_after_days: int,
) -> NudgeSettings:
    """Afterwards the program's nudges use these thresholds (in days)."""
    if not can_manage_program(actor, program):
        raise PermissionDenied("Only the program's managers may change its reminders.")
    values = {
        "stalled_after_days": stalled_after_days,
        "ending_soon_days": ending_soon_days,
        "waiting_after_days": waiting_after_days,
    }
    for field, value in values.items():
        if isinstance(value, bool) or not isinstance(value, int):
            raise ApplicationError("Give a whole number of days.", field=field)
    settings, _ = NudgeSettings.objects.select_for_update().get_or_create(program=program)
    before = {field: getattr(settings, field) for field in values}
    for field, value in values.items():
        setattr(settings, field, value)
    full_clean(settings, exclude=["program"], validate_constraints=False)
    settings.save()
    audit_record(
        actor=actor,
        action="notifications.nudge_settings_updated",
        target=settings,
        program_id=program.pk,
        data={"before": before, "after": values},
    )
    return settings
