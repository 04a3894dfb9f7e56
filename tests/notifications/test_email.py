"""The one e-mail sender: safe headers, marked sent only once sent, bounded retries."""

import datetime

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend
from django.utils import timezone

from peermentor.notifications.email import (
    MAX_ATTEMPTS,
    Attachment,
    Email,
    emails_deliver,
    emails_queue,
    emails_retry,
    emails_send,
)
from peermentor.notifications.models import OutgoingEmail

pytestmark = pytest.mark.django_db


class FailingBackend(EmailBackend):
    def send_messages(self, messages):
        raise ConnectionRefusedError("SMTP server down")


class RefusesBadHeadersBackend(EmailBackend):
    """Like SMTP: builds each message, which raises BadHeaderError for a multi-line header."""

    def send_messages(self, messages):
        for message in messages:
            message.message()
        return super().send_messages(messages)


def test_a_line_break_in_a_name_does_not_stop_the_e_mail(settings):
    settings.EMAIL_BACKEND = f"{__name__}.RefusesBadHeadersBackend"
    sent = emails_send(
        emails=[
            Email(
                to="ana@example.org",
                subject="Ben\r\nBcc: everyone@example.org would like to connect",
                body="Hello\nBen",
                headers={"List-Unsubscribe": "<https://x.example/u/1>\n"},
            )
        ],
        purpose="test",
    )
    assert sent == 1
    (message,) = mail.outbox
    assert message.subject == "Ben Bcc: everyone@example.org would like to connect"
    assert message.body == "Hello\nBen"
    assert message.extra_headers["List-Unsubscribe"] == "<https://x.example/u/1>"
    assert OutgoingEmail.objects.get().sent_at is not None


def test_a_failed_e_mail_is_not_marked_sent_and_is_retried_later(settings):
    settings.EMAIL_BACKEND = f"{__name__}.FailingBackend"
    now = timezone.now()
    assert emails_send(emails=[Email("ana@example.org", "Hi", "Body")], purpose="test") == 0
    row = OutgoingEmail.objects.get()
    assert row.sent_at is None and row.given_up_at is None and row.attempts == 1
    assert "SMTP server down" in row.last_error
    # Not again at once: the next attempt waits.
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert emails_retry(now=now) == 0
    assert emails_retry(now=now + datetime.timedelta(minutes=6)) == 1
    assert emails_retry(now=now + datetime.timedelta(days=2)) == 0
    assert len(mail.outbox) == 1
    row.refresh_from_db()
    assert row.sent_at is not None and row.attempts == 2


def test_retries_are_bounded(settings):
    settings.EMAIL_BACKEND = f"{__name__}.FailingBackend"
    now = timezone.now()
    emails_send(emails=[Email("ana@example.org", "Hi", "Body")], purpose="test")
    for day in range(1, 10):
        emails_retry(now=now + datetime.timedelta(days=day))
    row = OutgoingEmail.objects.get()
    assert row.attempts == MAX_ATTEMPTS
    assert row.given_up_at is not None and row.sent_at is None


class RefusesOneAddressBackend(EmailBackend):
    def send_messages(self, messages):
        if messages[0].to == ["bad@example.org"]:
            raise ValueError("recipient refused")
        return super().send_messages(messages)


def test_one_failing_e_mail_does_not_hold_up_the_others(settings):
    settings.EMAIL_BACKEND = f"{__name__}.RefusesOneAddressBackend"
    emails = [Email(f"{name}@example.org", "Hi", "Body") for name in ("ana", "bad", "ben")]
    assert emails_send(emails=emails, purpose="test") == 2
    assert sorted(m.to[0] for m in mail.outbox) == ["ana@example.org", "ben@example.org"]
    assert OutgoingEmail.objects.filter(sent_at__isnull=True).get().to == "bad@example.org"


def test_an_e_mail_is_sent_once_whatever_the_number_of_deliveries():
    ids = emails_queue(emails=[Email("ana@example.org", "Hi", "Body")], purpose="test")
    assert emails_deliver(email_ids=ids) == 1
    assert emails_deliver(email_ids=ids) == 0
    assert emails_retry() == 0
    assert len(mail.outbox) == 1


def test_an_invalid_address_is_not_stored():
    assert emails_queue(emails=[Email("ana@example.org\nBcc: x@y.z", "Hi", "B")], purpose="t") == []


def test_a_calendar_attachment_keeps_its_method():
    emails_send(
        emails=[
            Email(
                "ana@example.org",
                "Meeting",
                "Body",
                attachments=[
                    Attachment("invite.ics", "BEGIN:VCALENDAR", "calendar", {"method": "REQUEST"})
                ],
            )
        ],
        purpose="test",
    )
    (part,) = mail.outbox[0].attachments
    assert part.get_content_type() == "text/calendar"
    assert part.get_param("method") == "REQUEST"
