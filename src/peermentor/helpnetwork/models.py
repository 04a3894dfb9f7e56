"""The help network: a participant asks for help on a skill, peers offer, the asker takes one
offer up and it becomes a one-off "flash" connection (which may grow into an ongoing pair).

    ask:   open ──take up an offer──▶ matched        offer: open ──▶ accepted
             ├──close──▶ closed                              ├──▶ declined (another was taken,
             └──expiry──▶ expired                            │            or the ask ended)
                                                             └──▶ withdrawn (by the helper)
"""

from django.db import models
from django.db.models import F, Q

from peermentor.accounts.models import validate_time_zone
from peermentor.connections.models import Connection
from peermentor.enrollment.models import Participant
from peermentor.people.models import Skill
from peermentor.programs.models import Program

DESCRIPTION_MAX_LENGTH = 1000
MESSAGE_MAX_LENGTH = 1000
MAX_PREFERRED_TIMES = 3


class AskStatus(models.TextChoices):
    OPEN = "open", "Open"
    MATCHED = "matched", "Matched"
    CLOSED = "closed", "Closed"
    EXPIRED = "expired", "Expired"


class OfferStatus(models.TextChoices):
    OPEN = "open", "Waiting for an answer"
    ACCEPTED = "accepted", "Taken up"
    DECLINED = "declined", "Not taken up"
    WITHDRAWN = "withdrawn", "Withdrawn"


class HelpAsk(models.Model):
    """A participant's request for help on one skill."""

    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="help_asks")
    asker = models.ForeignKey(Participant, on_delete=models.CASCADE, related_name="help_asks")
    skill = models.ForeignKey(Skill, on_delete=models.PROTECT, related_name="help_asks")
    description = models.TextField(max_length=DESCRIPTION_MAX_LENGTH)
    # The zone the asker gave their preferred times in, to show them back as they typed them.
    time_zone = models.CharField(max_length=64, default="UTC", validators=[validate_time_zone])
    status = models.CharField(max_length=10, choices=AskStatus.choices, default=AskStatus.OPEN)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    expires_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)
    close_reason = models.TextField(blank=True, max_length=1000)
    # The flash connection made from the offer taken up, and the pair it may have grown into.
    connection = models.ForeignKey(
        Connection, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    ongoing_connection = models.ForeignKey(
        Connection, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    thank_you = models.TextField(blank=True, max_length=MESSAGE_MAX_LENGTH)
    thanked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["program", "status", "skill", "-created_at"]),
            models.Index(fields=["status", "expires_at"]),
            models.Index(fields=["asker", "-created_at"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=AskStatus.values), name="helpnetwork_ask_status_valid"
            ),
            models.CheckConstraint(
                condition=~Q(status=AskStatus.MATCHED) | Q(connection__isnull=False),
                name="helpnetwork_ask_matched_has_connection",
            ),
            models.CheckConstraint(
                condition=(
                    Q(status__in=[AskStatus.CLOSED, AskStatus.EXPIRED]) & Q(closed_at__isnull=False)
                )
                | (Q(status__in=[AskStatus.OPEN, AskStatus.MATCHED]) & Q(closed_at__isnull=True)),
                name="helpnetwork_ask_closed_at_when_over",
            ),
            models.CheckConstraint(
                condition=Q(thanked_at__isnull=True)
                | (Q(status=AskStatus.MATCHED) & ~Q(thank_you="")),
                name="helpnetwork_ask_thanks_after_match",
            ),
            models.CheckConstraint(
                condition=Q(ongoing_connection__isnull=True) | Q(connection__isnull=False),
                name="helpnetwork_ask_ongoing_after_flash",
            ),
            models.CheckConstraint(
                condition=Q(expires_at__gt=F("created_at")),
                name="helpnetwork_ask_expires_after_creation",
            ),
            models.UniqueConstraint(
                fields=["asker", "skill"],
                condition=Q(status=AskStatus.OPEN),
                name="helpnetwork_ask_one_open_per_skill",
            ),
        ]

    def __str__(self) -> str:
        return f"Help with {self.skill} (#{self.pk})"


class HelpAskTime(models.Model):
    """A time that suits the asker (UTC); the flash meeting is first proposed at these."""

    ask = models.ForeignKey(HelpAsk, on_delete=models.CASCADE, related_name="preferred_times")
    starts_at = models.DateTimeField()

    class Meta:
        ordering = ["starts_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["ask", "starts_at"], name="helpnetwork_time_unique")
        ]


class HelpOffer(models.Model):
    """A peer's offer to help with an ask."""

    ask = models.ForeignKey(HelpAsk, on_delete=models.CASCADE, related_name="offers")
    helper = models.ForeignKey(Participant, on_delete=models.CASCADE, related_name="help_offers")
    message = models.TextField(blank=True, max_length=MESSAGE_MAX_LENGTH)
    status = models.CharField(max_length=10, choices=OfferStatus.choices, default=OfferStatus.OPEN)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["helper", "-created_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=OfferStatus.values), name="helpnetwork_offer_status_valid"
            ),
            models.UniqueConstraint(fields=["ask", "helper"], name="helpnetwork_offer_one_per_ask"),
            models.UniqueConstraint(
                fields=["ask"],
                condition=Q(status=OfferStatus.ACCEPTED),
                name="helpnetwork_offer_one_accepted",
            ),
            models.CheckConstraint(
                condition=(Q(status=OfferStatus.OPEN) & Q(decided_at__isnull=True))
                | (~Q(status=OfferStatus.OPEN) & Q(decided_at__isnull=False)),
                name="helpnetwork_offer_decided_at_when_decided",
            ),
        ]

    def __str__(self) -> str:
        return f"Offer #{self.pk} on ask #{self.ask_id}"


class HelpInvitation(models.Model):
    """The asker invited a suggested peer to look at their ask (the peer is notified)."""

    ask = models.ForeignKey(HelpAsk, on_delete=models.CASCADE, related_name="invitations")
    helper = models.ForeignKey(
        Participant, on_delete=models.CASCADE, related_name="help_invitations"
    )
    # What the recommendation said when the invitation went out.
    reasons = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["ask", "helper"], name="helpnetwork_invitation_one_per_helper"
            )
        ]
