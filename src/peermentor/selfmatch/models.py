"""Self-match: participants ask one another to connect, and the program's limits on asking.

A request moves pending → accepted | declined | withdrawn | expired | cancelled. Cancelled means
it could no longer be honoured (one of the two was connected elsewhere, left, or blocked the
other). The rules that must hold under concurrency are constraints here; the services in
selfmatch/services/ check them first under row locks so people get a clear message.

These models were part of the matches app until their tables moved (migration 0001 of this
app): the constraints keep the `matches_` names they were created with in the database.
"""

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Greatest, Least
from django.utils import timezone

from peermentor.enrollment.models import Participant
from peermentor.programs.models import Program

MESSAGE_MAX_LENGTH = 1000
DEFAULT_EXPIRY_DAYS = 7
# "Popular people get every request" (DOMAIN.md): past this many unanswered requests a person
# stops being offered to others until they answer some.
DEFAULT_MAX_PENDING_INCOMING = 3
DEFAULT_MAX_PENDING_OUTGOING = 3


class RequestStatus(models.TextChoices):
    PENDING = "pending", "Waiting for an answer"
    ACCEPTED = "accepted", "Accepted"
    DECLINED = "declined", "Declined"
    WITHDRAWN = "withdrawn", "Withdrawn"
    EXPIRED = "expired", "Expired"
    CANCELLED = "cancelled", "No longer possible"


CLOSED_REQUEST_STATUSES = [s for s in RequestStatus.values if s != RequestStatus.PENDING]


class SelfMatchSettings(models.Model):
    """How requests work in one program. A program without a row uses the defaults."""

    program = models.OneToOneField(
        Program, on_delete=models.CASCADE, related_name="self_match_settings"
    )
    request_expiry_days = models.PositiveSmallIntegerField(
        default=DEFAULT_EXPIRY_DAYS,
        validators=[MinValueValidator(1), MaxValueValidator(60)],
        help_text="Days a request waits for an answer before it expires (1 to 60).",
    )
    max_pending_incoming = models.PositiveSmallIntegerField(
        default=DEFAULT_MAX_PENDING_INCOMING,
        validators=[MinValueValidator(1), MaxValueValidator(20)],
        help_text=(
            "Unanswered requests one person can hold at a time (1 to 20). Beyond it they are "
            "not offered to others until they answer, so popular people are not flooded."
        ),
    )
    max_pending_outgoing = models.PositiveSmallIntegerField(
        default=DEFAULT_MAX_PENDING_OUTGOING,
        validators=[MinValueValidator(1), MaxValueValidator(20)],
        help_text="Requests one person can have waiting for answers at a time (1 to 20).",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(request_expiry_days__gte=1) & Q(request_expiry_days__lte=60),
                name="matches_selfmatch_expiry_range",
            ),
            models.CheckConstraint(
                condition=Q(max_pending_incoming__gte=1) & Q(max_pending_incoming__lte=20),
                name="matches_selfmatch_incoming_range",
            ),
            models.CheckConstraint(
                condition=Q(max_pending_outgoing__gte=1) & Q(max_pending_outgoing__lte=20),
                name="matches_selfmatch_outgoing_range",
            ),
        ]

    def __str__(self) -> str:
        return f"Self-match settings of program {self.program_id}"


class MatchRequest(models.Model):
    """One participant asking another of the same program to connect."""

    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="match_requests")
    requester = models.ForeignKey(
        Participant, on_delete=models.CASCADE, related_name="match_requests_sent"
    )
    recipient = models.ForeignKey(
        Participant, on_delete=models.CASCADE, related_name="match_requests_received"
    )
    message = models.TextField(blank=True, max_length=MESSAGE_MAX_LENGTH)
    status = models.CharField(
        max_length=20, choices=RequestStatus.choices, default=RequestStatus.PENDING
    )
    # What the engine said about the pair when the request was sent; carried to the connection.
    score = models.FloatField(null=True, blank=True)
    reasons = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    responded_at = models.DateTimeField(null=True, blank=True)
    response_note = models.TextField(blank=True, max_length=MESSAGE_MAX_LENGTH)
    # The connection an accepted request made (kept when the connection is later deleted).
    connection = models.ForeignKey(
        "connections.Connection",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # Set by the selectors for the person viewing a page; never stored.
    viewer_side: str | None
    is_waiting: bool
    # The status the last e-mail notice was sent for: a retried task claims it with a
    # conditional UPDATE and never mails the same news twice.
    notified_status = models.CharField(max_length=20, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["recipient", "status", "-created_at"]),
            models.Index(fields=["requester", "status", "-created_at"]),
            models.Index(fields=["program", "status", "-created_at"]),
            models.Index(fields=["status", "expires_at"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(requester=F("recipient")), name="matches_request_not_self"
            ),
            # One open question between two people, whoever asked: a second request either way
            # would let both accept and race for the same pair.
            models.UniqueConstraint(
                Least("requester", "recipient"),
                Greatest("requester", "recipient"),
                condition=Q(status=RequestStatus.PENDING),
                name="matches_request_one_pending_per_pair",
            ),
            models.CheckConstraint(
                condition=Q(status__in=RequestStatus.values), name="matches_request_status_valid"
            ),
            models.CheckConstraint(
                condition=(Q(status=RequestStatus.PENDING) & Q(responded_at__isnull=True))
                | (~Q(status=RequestStatus.PENDING) & Q(responded_at__isnull=False)),
                name="matches_request_responded_when_closed",
            ),
            models.CheckConstraint(
                condition=Q(expires_at__gt=F("created_at")),
                name="matches_request_expires_after_creation",
            ),
            models.CheckConstraint(
                condition=Q(connection__isnull=True) | Q(status=RequestStatus.ACCEPTED),
                name="matches_request_connection_only_when_accepted",
            ),
        ]

    def __str__(self) -> str:
        return f"Request {self.pk}: {self.requester_id} → {self.recipient_id} ({self.status})"

    @property
    def is_pending(self) -> bool:
        return self.status == RequestStatus.PENDING
