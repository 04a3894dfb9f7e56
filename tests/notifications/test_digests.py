"""E-mail digests: one e-mail per person per period, grouped by kind, honouring preferences,
claimed so that a re-run (or a second worker) sends nothing twice."""

import datetime

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend
from django.utils import timezone

from peermentor.notifications.digests import digests_send
from peermentor.notifications.email import emails_retry
from peermentor.notifications.models import Digest, Notification, OutgoingEmail
from peermentor.notifications.services import notification_preference_update
from tests.factories import NotificationFactory
from tests.notifications.conftest import NOW

pytestmark = pytest.mark.django_db


def _note(user, kind="stalled_connection", **fields):
    return NotificationFactory(recipient=user, kind=kind, created_at=NOW, **fields)


def test_one_email_lists_everything_grouped_by_kind(personas, settings):
    settings.SITE_URL = "https://mentor.example"
    _note(personas.participant, title="Time to meet Bea again", url="/engagement/connections/4/")
    _note(personas.participant, kind="check_in_due", title="How is it going with Bea?")
    _note(personas.participant, title="Time to meet your circle again")

    assert digests_send(now=NOW) == 1

    (message,) = mail.outbox
    assert message.to == [personas.participant.email]
    assert message.subject == "Peermentor: 3 things for you today"
    body = message.body
    assert body.index("== Connections that have not met for a while ==") < body.index(
        "== Check-ins due =="
    )
    assert "* Time to meet Bea again" in body and "* Time to meet your circle again" in body
    assert "https://mentor.example/engagement/connections/4/" in body
    unsubscribe = message.extra_headers["List-Unsubscribe"]
    assert unsubscribe.startswith("<https://mentor.example/notifications/unsubscribe/")
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert unsubscribe.strip("<>") in body
    assert not Notification.objects.filter(digest__isnull=True).exists()


def test_a_rerun_sends_nothing_twice_and_later_news_waits_for_the_next_day(personas):
    _note(personas.participant)
    assert digests_send(now=NOW) == 1
    assert digests_send(now=NOW + datetime.timedelta(hours=1)) == 0
    _note(personas.participant, kind="ending_soon", title="Ends on Friday")
    assert digests_send(now=NOW + datetime.timedelta(hours=2)) == 0
    assert len(mail.outbox) == 1
    assert digests_send(now=NOW + datetime.timedelta(days=1)) == 1
    assert len(mail.outbox) == 2
    assert "Ends on Friday" in mail.outbox[1].subject
    assert "Time to meet" not in mail.outbox[1].body


def test_nobody_is_emailed_before_seven_in_their_own_morning(personas):
    personas.participant.time_zone = "America/New_York"
    personas.participant.save()
    _note(personas.participant)
    # 10:00 UTC is 05:00 or 06:00 in New York.
    assert digests_send(now=NOW) == 0
    assert digests_send(now=NOW + datetime.timedelta(hours=4)) == 1


def test_weekly_digests_go_out_once_a_week(personas):
    notification_preference_update(
        actor=personas.participant,
        digest_frequency="weekly",
        email_kinds=["stalled_connection", "check_in_due"],
    )
    monday = NOW - datetime.timedelta(days=NOW.weekday())
    _note(personas.participant)
    assert digests_send(now=monday) == 1
    _note(personas.participant, kind="check_in_due")
    assert digests_send(now=monday + datetime.timedelta(days=3)) == 0
    assert digests_send(now=monday + datetime.timedelta(days=7)) == 1
    assert Digest.objects.filter(user=personas.participant).count() == 2


def test_muted_kinds_are_left_out_and_never_emailed_later(personas):
    notification_preference_update(
        actor=personas.participant, digest_frequency="daily", email_kinds=["check_in_due"]
    )
    stalled = _note(personas.participant, title="Time to meet Bea again")
    _note(personas.participant, kind="check_in_due", title="How is it going?")
    assert digests_send(now=NOW) == 1
    assert "Time to meet" not in mail.outbox[0].body
    stalled.refresh_from_db()
    assert stalled.is_email_skipped and stalled.digest is None
    # Turning the kind back on does not e-mail yesterday's news.
    notification_preference_update(
        actor=personas.participant,
        digest_frequency="daily",
        email_kinds=["check_in_due", "stalled_connection"],
    )
    assert digests_send(now=NOW + datetime.timedelta(days=1)) == 0


def test_people_who_chose_no_email_get_none(personas):
    notification_preference_update(
        actor=personas.participant, digest_frequency="off", email_kinds=["stalled_connection"]
    )
    _note(personas.participant)
    _note(personas.other_participant)
    assert digests_send(now=NOW) == 1
    assert mail.outbox[0].to == [personas.other_participant.email]


def test_a_digest_claimed_by_another_worker_is_not_sent_again(personas):
    _note(personas.participant)
    _note(personas.other_participant)
    Digest.objects.create(user=personas.participant, period_key=f"d{NOW.date().isoformat()}")
    assert digests_send(now=NOW) == 1
    assert [m.to for m in mail.outbox] == [[personas.other_participant.email]]


class FailingBackend(EmailBackend):
    def send_messages(self, messages):
        raise ConnectionRefusedError("SMTP server down")


def test_a_failed_send_is_retried_by_the_next_run(personas, settings):
    # The digest waits in the e-mail outbox (notifications/email.py), which the periodic job
    # retries; a second digest run does not send it twice.
    _note(personas.participant)
    settings.EMAIL_BACKEND = f"{__name__}.FailingBackend"
    assert digests_send(now=NOW) == 0
    assert OutgoingEmail.objects.get().sent_at is None
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert digests_send(now=NOW + datetime.timedelta(minutes=30)) == 0
    assert emails_retry(now=timezone.now() + datetime.timedelta(minutes=30)) == 1
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [personas.participant.email]


def test_old_and_inactive_users_news_is_not_emailed(personas):
    NotificationFactory(
        recipient=personas.participant, created_at=NOW - datetime.timedelta(days=30)
    )
    personas.other_participant.is_active = False
    personas.other_participant.save()
    _note(personas.other_participant)
    assert digests_send(now=NOW) == 0
