"""Notification services: writing (idempotent), reading, preferences, unsubscribe, settings."""

import pytest
from django.core.exceptions import PermissionDenied

from peermentor.core.errors import ApplicationError
from peermentor.core.models import AuditEvent
from peermentor.notifications import services
from peermentor.notifications.models import (
    Notification,
    NotificationPreference,
    NudgeSettings,
)
from peermentor.notifications.services import NotificationSpec
from peermentor.notifications.tokens import unsubscribe_token, user_for_unsubscribe_token
from tests.factories import NotificationFactory

pytestmark = pytest.mark.django_db


def _spec(user, key="stalled:1:2026-W48", **fields):
    return NotificationSpec(
        recipient_id=user.pk,
        kind=fields.pop("kind", "stalled_connection"),
        title=fields.pop("title", "Time to meet Bea again"),
        dedupe_key=key,
        **fields,
    )


def test_the_same_dedupe_key_is_written_once_per_recipient(personas):
    first = services.notifications_create(
        notes=[_spec(personas.participant), _spec(personas.other_participant)]
    )
    again = services.notifications_create(
        notes=[_spec(personas.participant, title="Changed"), _spec(personas.participant)]
    )
    assert (first, again) == (2, 0)
    assert Notification.objects.filter(recipient=personas.participant).get().title == (
        "Time to meet Bea again"
    )
    assert services.notify(
        recipient=personas.participant,
        kind="check_in_due",
        title="How is it going?",
        dedupe_key="check_in:1:1:2026-11-27",
    )
    assert not services.notify(
        recipient=personas.participant,
        kind="check_in_due",
        title="How is it going?",
        dedupe_key="check_in:1:1:2026-11-27",
    )


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"kind": "gossip"}, "Unknown kind"),
        ({"title": "  "}, "needs a title"),
        ({"url": "https://evil.example/"}, "page of this site"),
        ({"url": "//evil.example/path"}, "page of this site"),
        ({"url": "/\\evil.example/path"}, "page of this site"),
    ],
)
def test_bad_notifications_are_refused(personas, fields, message):
    with pytest.raises(ApplicationError, match=message):
        services.notifications_create(notes=[_spec(personas.participant, **fields)])
    with pytest.raises(ApplicationError, match="dedupe key"):
        services.notifications_create(notes=[_spec(personas.participant, key="")])
    assert not Notification.objects.exists()


def test_long_titles_and_bodies_are_shortened_not_refused(personas):
    services.notifications_create(
        notes=[_spec(personas.participant, title="t " * 200, body="b" * 3000)]
    )
    note = Notification.objects.get()
    assert len(note.title) == 200 and note.title.endswith("…")
    assert len(note.body) == 2000


def test_marking_read_is_for_the_recipient_only(personas):
    mine = NotificationFactory(recipient=personas.participant)
    NotificationFactory(recipient=personas.participant)
    theirs = NotificationFactory(recipient=personas.other_participant)
    services.notification_mark_read(actor=personas.participant, notification=mine)
    mine.refresh_from_db()
    assert mine.read_at is not None
    with pytest.raises(PermissionDenied):
        services.notification_mark_read(actor=personas.participant, notification=theirs)
    assert services.notifications_mark_all_read(actor=personas.participant) == 1
    assert services.notifications_mark_all_read(actor=personas.participant) == 0
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_preferences_are_saved_and_audited(personas):
    preference = services.notification_preference_update(
        actor=personas.participant, digest_frequency="weekly", email_kinds=["check_in_due"]
    )
    assert preference.digest_frequency == "weekly"
    assert "stalled_connection" in preference.email_muted_kinds
    assert "check_in_due" not in preference.email_muted_kinds
    assert preference.wants_email("check_in_due") and not preference.wants_email("ending_soon")
    event = AuditEvent.objects.get(action="notifications.preferences_updated")
    assert event.actor == personas.participant and event.to_state == "weekly"


@pytest.mark.parametrize(
    ("frequency", "kinds", "field"),
    [("hourly", [], "digest_frequency"), ("daily", ["gossip"], "email_kinds")],
)
def test_bad_preferences_name_the_field(personas, frequency, kinds, field):
    with pytest.raises(ApplicationError) as error:
        services.notification_preference_update(
            actor=personas.participant, digest_frequency=frequency, email_kinds=kinds
        )
    assert error.value.field == field
    assert not NotificationPreference.objects.exists()


def test_preferences_need_a_signed_in_user():
    from django.contrib.auth.models import AnonymousUser

    with pytest.raises(PermissionDenied):
        services.notification_preference_update(
            actor=AnonymousUser(), digest_frequency="daily", email_kinds=[]
        )


def test_unsubscribe_token_turns_email_off_without_signing_in(personas):
    token = unsubscribe_token(personas.participant)
    user = services.email_unsubscribe(token=token)
    assert user == personas.participant
    preference = NotificationPreference.objects.get(user=personas.participant)
    assert preference.digest_frequency == "off" and preference.unsubscribed_at is not None
    event = AuditEvent.objects.get(action="notifications.unsubscribed")
    assert event.actor == personas.participant
    # A second click changes nothing and writes no second event.
    services.email_unsubscribe(token=token)
    assert AuditEvent.objects.filter(action="notifications.unsubscribed").count() == 1


def test_tampered_or_stale_tokens_are_refused(personas):
    token = unsubscribe_token(personas.participant)
    other = unsubscribe_token(personas.other_participant)
    forged = token.split(":")[0] + ":" + other.split(":", 1)[1]
    for bad in (token + "x", forged, "nonsense", ""):
        assert user_for_unsubscribe_token(bad) is None
        with pytest.raises(ApplicationError):
            services.email_unsubscribe(token=bad)
    personas.participant.email = "renamed@example.com"
    personas.participant.save()
    assert user_for_unsubscribe_token(token) is None
    assert not NotificationPreference.objects.exists()


def test_nudge_settings_by_managers_only_with_clear_errors(personas):
    settings = services.nudge_settings_update(
        actor=personas.manager,
        program=personas.program,
        stalled_after_days=30,
        ending_soon_days=5,
        waiting_after_days=3,
    )
    assert (settings.stalled_after_days, settings.ending_soon_days) == (30, 5)
    assert AuditEvent.objects.filter(action="notifications.nudge_settings_updated").count() == 1
    with pytest.raises(ApplicationError) as error:
        services.nudge_settings_update(
            actor=personas.manager,
            program=personas.program,
            stalled_after_days=2,
            ending_soon_days=5,
            waiting_after_days=3,
        )
    assert error.value.field == "stalled_after_days"
    with pytest.raises(ApplicationError) as error:
        services.nudge_settings_update(
            actor=personas.manager,
            program=personas.program,
            stalled_after_days=30,
            ending_soon_days="soon",
            waiting_after_days=3,
        )
    assert error.value.field == "ending_soon_days"
    for role in ("participant", "other_manager", "outsider"):
        with pytest.raises(PermissionDenied):
            services.nudge_settings_update(
                actor=personas.user(role),
                program=personas.program,
                stalled_after_days=40,
                ending_soon_days=5,
                waiting_after_days=3,
            )
    assert NudgeSettings.objects.get().stalled_after_days == 30
