"""The one way Peermentor sends e-mail.

Every app that e-mails someone builds `Email` values and hands them to `emails_queue` (inside
the transaction that records "this person has been told") and then `emails_deliver`, or to
`emails_send` for both. Here, and only here:

- headers are made safe: a line break in a person's or a program's name ends up in a subject,
  where Django refuses it (`BadHeaderError`); every header value is folded onto one line;
- each e-mail is stored first and marked sent only once the mail server accepted it;
- an e-mail that fails is tried again later (`emails_retry`, run by the periodic job), at most
  MAX_ATTEMPTS times, then given up on and logged; one failing e-mail never holds up the others.

This module knows no feature app: callers pass the text, the address and what it is for.
"""

import logging
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.mime.text import MIMEText

from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage, get_connection
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from peermentor.notifications.models import OutgoingEmail

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
# Wait after the first, second, ... failed attempt before the next one.
RETRY_DELAYS = (
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=12),
)
# While one worker sends an e-mail, no other takes it; a worker killed mid-send frees it then.
SENDING_LEASE = timedelta(minutes=10)
SUBJECT_MAX_LENGTH = 250
RETRY_BATCH_SIZE = 200
CHUNK_SIZE = 500


@dataclass(frozen=True)
class Attachment:
    """A text attachment such as a calendar invitation (text/<subtype>; params)."""

    filename: str
    content: str
    subtype: str
    params: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Email:
    to: str
    subject: str
    body: str
    headers: Mapping[str, str] = field(default_factory=dict)
    attachments: Sequence[Attachment] = ()


def header_text(value: object, *, limit: int | None = None) -> str:
    """`value` on one line: line breaks, tabs and other control characters become spaces."""
    text = "".join(" " if ord(char) < 32 or ord(char) == 127 else char for char in str(value))
    text = " ".join(text.split())
    if limit is not None and len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text


def _address(value: str) -> str | None:
    address = str(value).strip()
    try:
        validate_email(address)
    except ValidationError:
        return None
    return address


def emails_queue(*, emails: Sequence[Email], purpose: str) -> list[int]:
    """Afterwards each e-mail with a valid address is stored, due now; returns their ids.

    Call it in the transaction that marks the recipients as told: both commit or neither."""
    rows = []
    for email in emails:
        address = _address(email.to)
        if address is None:
            logger.warning("Not e-mailing %s: %r is not an e-mail address.", purpose, email.to)
            continue
        rows.append(
            OutgoingEmail(
                purpose=header_text(purpose, limit=50),
                to=address,
                subject=header_text(email.subject, limit=SUBJECT_MAX_LENGTH),
                body=str(email.body),
                headers={
                    header_text(name): header_text(value) for name, value in email.headers.items()
                },
                attachments=[
                    {
                        "filename": header_text(item.filename, limit=100),
                        "content": item.content,
                        "subtype": header_text(item.subtype, limit=50),
                        "params": {
                            header_text(key): header_text(value)
                            for key, value in item.params.items()
                        },
                    }
                    for item in email.attachments
                ],
            )
        )
    return [row.pk for row in OutgoingEmail.objects.bulk_create(rows)]


def _message(row: OutgoingEmail) -> EmailMessage:
    message = EmailMessage(
        subject=row.subject, body=row.body, to=[row.to], headers=dict(row.headers)
    )
    for item in row.attachments:
        part = MIMEText(item["content"], item["subtype"], "utf-8")
        for key, value in item.get("params", {}).items():
            part.set_param(key, value)
        part.add_header("Content-Disposition", "attachment", filename=item["filename"])
        message.attach(part)
    return message


def _claim(ids: Sequence[int], now: datetime) -> list[OutgoingEmail]:
    """Take the due, unsent e-mails among `ids` for this worker: one conditional UPDATE per
    batch marks them with our claim, so no other worker takes them during the lease."""
    claim = uuid.uuid4()
    for start in range(0, len(ids), CHUNK_SIZE):
        OutgoingEmail.objects.filter(
            pk__in=ids[start : start + CHUNK_SIZE],
            sent_at__isnull=True,
            given_up_at__isnull=True,
            next_attempt_at__lte=now,
        ).update(attempts=F("attempts") + 1, next_attempt_at=now + SENDING_LEASE, claim=claim)
    return list(OutgoingEmail.objects.filter(claim=claim).order_by("pk"))


def _record_failures(failures: list[tuple[OutgoingEmail, BaseException]], now: datetime) -> None:
    for row, error in failures:
        reason = header_text(f"{type(error).__name__}: {error}", limit=500)
        if row.attempts >= MAX_ATTEMPTS:
            logger.error(
                "Gave up e-mailing %s #%s after %s attempts: %s",
                row.purpose,
                row.pk,
                row.attempts,
                reason,
            )
            OutgoingEmail.objects.filter(pk=row.pk).update(given_up_at=now, last_error=reason)
            continue
        delay = RETRY_DELAYS[min(row.attempts, len(RETRY_DELAYS)) - 1]
        logger.warning(
            "Could not e-mail %s #%s (attempt %s); trying again in %s: %s",
            row.purpose,
            row.pk,
            row.attempts,
            delay,
            reason,
        )
        OutgoingEmail.objects.filter(pk=row.pk).update(
            next_attempt_at=now + delay, last_error=reason
        )


def emails_deliver(*, email_ids: Sequence[int], now: datetime | None = None) -> int:
    """Send each listed e-mail that is due and not sent yet (once, whatever the number of
    workers). Afterwards each is sent, waiting for its next attempt, or given up on. Returns
    how many were sent now. A constant number of queries, plus one per failed e-mail."""
    now = now or timezone.now()
    rows = _claim(list(email_ids), now)
    if not rows:
        return 0
    sent: list[int] = []
    failures: list[tuple[OutgoingEmail, BaseException]] = []
    try:
        connection = get_connection()
        connection.open()
    except Exception as error:
        _record_failures([(row, error) for row in rows], now)
        return 0
    try:
        for row in rows:
            try:
                if not connection.send_messages([_message(row)]):
                    raise RuntimeError("the mail backend accepted nothing")
            except Exception as error:
                failures.append((row, error))
            else:
                sent.append(row.pk)
    finally:
        connection.close()
    for start in range(0, len(sent), CHUNK_SIZE):
        OutgoingEmail.objects.filter(pk__in=sent[start : start + CHUNK_SIZE]).update(
            sent_at=timezone.now()
        )
    _record_failures(failures, now)
    return len(sent)


def emails_send(*, emails: Sequence[Email], purpose: str) -> int:
    """Store and send `emails` now (see emails_queue and emails_deliver); returns how many
    went out. Those that could not go out are tried again later."""
    with transaction.atomic():
        ids = emails_queue(emails=emails, purpose=purpose)
    return emails_deliver(email_ids=ids)


def emails_retry(*, now: datetime | None = None) -> int:
    """The periodic job's part: send every e-mail whose next attempt is due. Returns how
    many were sent."""
    now = now or timezone.now()
    sent = 0
    last = 0
    while True:
        # In id order from where the previous batch ended: each e-mail is tried once per run.
        due = list(
            OutgoingEmail.objects.filter(
                sent_at__isnull=True,
                given_up_at__isnull=True,
                next_attempt_at__lte=now,
                pk__gt=last,
            )
            .order_by("pk")
            .values_list("pk", flat=True)[:RETRY_BATCH_SIZE]
        )
        if not due:
            return sent
        last = due[-1]
        sent += emails_deliver(email_ids=due, now=now)
