"""Notifications: what the app tells people, in the notification centre and by e-mail digest.

A notification is written once per recipient and dedupe key (a re-run of the nudges finds the
row already there and writes nothing). E-mail goes out as one digest per person per day or week,
claimed with a unique (user, period) row so that two workers never send the same digest.
"""

import uuid

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from peermentor.programs.models import Program


class NotificationKind(models.TextChoices):
    STALLED_CONNECTION = "stalled_connection", "Connections that have not met for a while"
    REQUEST_WAITING = "request_waiting", "Requests and proposals waiting for your answer"
    PLAN_BEHIND = "plan_behind", "Plans falling behind"
    ENDING_SOON = "ending_soon", "Connections ending soon"
    CHECK_IN_DUE = "check_in_due", "Check-ins due"
    SURVEY_DUE = "survey_due", "Surveys to answer"
    HELP_NETWORK = "help_network", "Help network: asks, offers and thanks"
    CONNECTION_ENDED = "connection_ended", "A partner left or withdrew"


class DigestFrequency(models.TextChoices):
    DAILY = "daily", "Once a day"
    WEEKLY = "weekly", "Once a week"
    OFF = "off", "Never (in the app only)"


TITLE_MAX_LENGTH = 200
BODY_MAX_LENGTH = 2000


class Notification(models.Model):
    """One message to one user. Read in the app; e-mailed in at most one digest."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(max_length=30, choices=NotificationKind.choices)
    title = models.CharField(max_length=TITLE_MAX_LENGTH)
    body = models.TextField(blank=True, max_length=BODY_MAX_LENGTH)
    # A path inside the site ("/engagement/connections/4/"); e-mails prefix SITE_URL.
    url = models.CharField(max_length=500, blank=True)
    # Says what the notification is about and when ("stalled:12:2026-W48"): a second write with
    # the same key for the same person is ignored, which makes every producer idempotent.
    dedupe_key = models.CharField(max_length=200)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)
    digest = models.ForeignKey(
        "Digest", null=True, blank=True, on_delete=models.SET_NULL, related_name="notifications"
    )
    # The person did not want this kind by e-mail when the digest went out: never e-mail it.
    is_email_skipped = models.BooleanField(default=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "dedupe_key"], name="notifications_notification_dedupe"
            ),
            models.CheckConstraint(
                condition=Q(kind__in=NotificationKind.values),
                name="notifications_notification_kind_valid",
            ),
            models.CheckConstraint(
                condition=~Q(dedupe_key=""), name="notifications_notification_has_dedupe_key"
            ),
            models.CheckConstraint(
                condition=Q(digest__isnull=True) | Q(is_email_skipped=False),
                name="notifications_notification_skipped_not_in_digest",
            ),
        ]
        indexes = [
            models.Index(fields=["recipient", "-created_at"], name="notifications_recent"),
            models.Index(
                fields=["recipient"],
                condition=Q(read_at__isnull=True),
                name="notifications_unread",
            ),
            models.Index(
                fields=["recipient", "id"],
                condition=Q(digest__isnull=True, is_email_skipped=False),
                name="notifications_email_pending",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} → {self.recipient_id}"

    @property
    def is_read(self) -> bool:
        return self.read_at is not None


class Digest(models.Model):
    """One e-mail to one user for one period ("d2026-11-27" or "w2026-48" in their zone).

    Inserting the row is the claim: the unique (user, period) lets exactly one worker send it.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_digests"
    )
    period_key = models.CharField(max_length=20)
    claim = models.UUIDField(default=uuid.uuid4, db_index=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "period_key"], name="notifications_digest_one_per_period"
            )
        ]

    def __str__(self) -> str:
        return f"Digest {self.period_key} for {self.user_id}"


class NotificationPreference(models.Model):
    """How a user wants to hear from us. No row means the defaults: a daily digest of all kinds."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preference"
    )
    digest_frequency = models.CharField(
        max_length=10, choices=DigestFrequency.choices, default=DigestFrequency.DAILY
    )
    # Kinds never e-mailed (they still appear in the notification centre).
    email_muted_kinds = models.JSONField(default=list, blank=True)
    unsubscribed_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(digest_frequency__in=DigestFrequency.values),
                name="notifications_preference_frequency_valid",
            )
        ]

    def __str__(self) -> str:
        return f"Preferences of {self.user_id}"

    def wants_email(self, kind: str) -> bool:
        return self.digest_frequency != DigestFrequency.OFF and kind not in self.email_muted_kinds


DEFAULT_STALLED_AFTER_DAYS = 21
DEFAULT_ENDING_SOON_DAYS = 7
DEFAULT_WAITING_AFTER_DAYS = 2


class NudgeSettings(models.Model):
    """A program's nudge thresholds. No row means the defaults above."""

    program = models.OneToOneField(Program, on_delete=models.CASCADE, related_name="nudge_settings")
    stalled_after_days = models.PositiveSmallIntegerField(
        default=DEFAULT_STALLED_AFTER_DAYS,
        validators=[MinValueValidator(7), MaxValueValidator(180)],
        help_text="Remind members when an active connection has not met for this many days.",
    )
    ending_soon_days = models.PositiveSmallIntegerField(
        default=DEFAULT_ENDING_SOON_DAYS,
        validators=[MinValueValidator(1), MaxValueValidator(30)],
        help_text="Tell members this many days before their connection's planned end.",
    )
    waiting_after_days = models.PositiveSmallIntegerField(
        default=DEFAULT_WAITING_AFTER_DAYS,
        validators=[MinValueValidator(1), MaxValueValidator(30)],
        help_text="Remind people of a request still waiting for their answer after this many days.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "nudge settings"
        constraints = [
            models.CheckConstraint(
                condition=Q(stalled_after_days__gte=7) & Q(stalled_after_days__lte=180),
                name="notifications_nudges_stalled_days_range",
            ),
            models.CheckConstraint(
                condition=Q(ending_soon_days__gte=1) & Q(ending_soon_days__lte=30),
                name="notifications_nudges_ending_days_range",
            ),
            models.CheckConstraint(
                condition=Q(waiting_after_days__gte=1) & Q(waiting_after_days__lte=30),
                name="notifications_nudges_waiting_days_range",
            ),
        ]

    def __str__(self) -> str:
        return f"Nudge settings of {self.program_id}"


class OutgoingEmail(models.Model):
    """One e-mail to one address, kept until it has gone out (notifications/email.py).

    Written in the same transaction as the sender's own "told" mark, so a crash between the
    two loses nothing; sent, retried or given up on by `email.emails_deliver`.
    """

    purpose = models.CharField(max_length=50)
    to = models.CharField(max_length=254)
    subject = models.TextField()
    body = models.TextField()
    headers = models.JSONField(default=dict, blank=True)
    attachments = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    attempts = models.PositiveSmallIntegerField(default=0)
    # Set by the worker that takes the e-mail for an attempt (one conditional UPDATE per batch).
    claim = models.UUIDField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    given_up_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(sent_at__isnull=True, given_up_at__isnull=True),
                name="notifications_email_due",
            )
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(sent_at__isnull=True) | Q(given_up_at__isnull=True),
                name="notifications_email_sent_or_given_up",
            )
        ]

    def __str__(self) -> str:
        return f"{self.purpose} → {self.to}"
