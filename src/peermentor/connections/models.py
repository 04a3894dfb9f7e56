"""Connections: a pair, shadowing placement, buddy pair, circle or flash meeting, and its members.

The rules that must hold under concurrency live here as database constraints; the services in
services.py check them first (with row locks) so that people get a clear message, and the
constraints catch whatever slips past (a bypassed service, a race).
"""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q

from peermentor.enrollment.models import Participant, ParticipantRole
from peermentor.people.models import Person
from peermentor.programs.models import Program, Track


class ConnectionKind(models.TextChoices):
    PAIR = "pair", "Peer pair"
    SHADOWING = "shadowing", "Job shadowing placement"
    BUDDY = "buddy", "Onboarding buddy pair"
    CIRCLE = "circle", "Mentoring circle"
    FLASH = "flash", "Flash meeting"


class ConnectionStatus(models.TextChoices):
    PROPOSED = "proposed", "Proposed"
    ACTIVE = "active", "Active"
    COMPLETED = "completed", "Completed"
    CLOSED_EARLY = "closed_early", "Closed early"
    CANCELLED = "cancelled", "Cancelled"


# A member's place is taken while the connection is proposed or active.
CURRENT_STATUSES = (ConnectionStatus.PROPOSED, ConnectionStatus.ACTIVE)
ENDED_STATUSES = (ConnectionStatus.COMPLETED, ConnectionStatus.CLOSED_EARLY)
# Statuses that mean two people really were connected (a dropped proposal never met).
MET_STATUSES = (ConnectionStatus.ACTIVE, ConnectionStatus.COMPLETED, ConnectionStatus.CLOSED_EARLY)


class EndReason(models.TextChoices):
    COMPLETED_NATURALLY = "completed", "Completed naturally"
    GOALS_MET = "goals_met", "Goals met"
    NO_TIME = "no_time", "No time"
    NOT_A_GOOD_FIT = "not_a_good_fit", "Not a good fit"
    LEFT_ORGANISATION = "left_organisation", "Left the organisation"
    WITHDREW = "withdrew", "Withdrew from the program"
    OTHER = "other", "Other"


class ConnectionSource(models.TextChoices):
    MATCH_RUN = "match_run", "Match run"
    SELF_MATCH = "self_match", "Participant request"
    MANUAL = "manual", "Matched by hand"
    HELP_NETWORK = "help_network", "Help network"


# Roles that take several people (or circles) at once, up to Participant.capacity (one slot
# each): hosts, buddies and circle facilitators.
CAPACITY_ROLES = (ParticipantRole.HOST, ParticipantRole.BUDDY, ParticipantRole.FACILITATOR)


class Connection(models.Model):
    """A relationship between program participants, moving proposed → active → ended."""

    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="connections")
    track = models.ForeignKey(
        Track, null=True, blank=True, on_delete=models.SET_NULL, related_name="connections"
    )
    kind = models.CharField(max_length=20, choices=ConnectionKind.choices)
    status = models.CharField(
        max_length=20, choices=ConnectionStatus.choices, default=ConnectionStatus.PROPOSED
    )
    score = models.FloatField(null=True, blank=True, help_text="The matching engine's score.")
    reasons = models.TextField(
        blank=True, help_text="Why these people were matched, in plain language."
    )
    source = models.CharField(max_length=20, choices=ConnectionSource.choices)
    # A plain id until the matches app exists; it will become a foreign key to MatchRun.
    match_run_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    allow_repeat = models.BooleanField(
        default=False, help_text="An administrator allowed people who met before to meet again."
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    started_at = models.DateTimeField(null=True, blank=True)
    planned_end_on = models.DateField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.CharField(max_length=30, choices=EndReason.choices, blank=True)
    end_reason_text = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["program", "status", "-created_at"]),
            models.Index(fields=["program", "track", "status"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(status__in=[ConnectionStatus.PROPOSED, ConnectionStatus.CANCELLED])
                    & Q(started_at__isnull=True)
                )
                | (Q(status__in=MET_STATUSES) & Q(started_at__isnull=False)),
                name="connections_connection_started_when_met",
            ),
            models.CheckConstraint(
                condition=(Q(status__in=CURRENT_STATUSES) & Q(ended_at__isnull=True))
                | (
                    Q(
                        status__in=[
                            ConnectionStatus.COMPLETED,
                            ConnectionStatus.CLOSED_EARLY,
                            ConnectionStatus.CANCELLED,
                        ]
                    )
                    & Q(ended_at__isnull=False)
                ),
                name="connections_connection_ended_when_over",
            ),
            models.CheckConstraint(
                condition=~Q(status=ConnectionStatus.CLOSED_EARLY) | ~Q(end_reason=""),
                name="connections_connection_early_closure_has_reason",
            ),
            models.CheckConstraint(
                condition=Q(ended_at__isnull=True)
                | Q(started_at__isnull=True)
                | Q(ended_at__gte=F("started_at")),
                name="connections_connection_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"

    @property
    def is_current(self) -> bool:
        return self.status in CURRENT_STATUSES

    @property
    def is_ended(self) -> bool:
        return self.status in ENDED_STATUSES


class ConnectionMember(models.Model):
    """A participant's place in a connection. `is_current` mirrors the connection's status."""

    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="members")
    participant = models.ForeignKey(
        Participant, on_delete=models.CASCADE, related_name="connection_memberships"
    )
    role = models.CharField(max_length=20, choices=ParticipantRole.choices)
    is_current = models.BooleanField(default=True)
    # Hosts and buddies (and everyone in a flash meeting) hold one of `capacity` numbered slots;
    # everyone else holds slot 1 and may hold only one current place at all.
    uses_capacity = models.BooleanField(default=False)
    slot = models.PositiveSmallIntegerField(default=1)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["connection", "participant"], name="connections_member_unique"
            ),
            models.UniqueConstraint(
                fields=["participant"],
                condition=Q(is_current=True, uses_capacity=False),
                name="connections_member_one_current",
            ),
            models.UniqueConstraint(
                fields=["participant", "slot"],
                condition=Q(is_current=True),
                name="connections_member_current_slot",
            ),
            models.CheckConstraint(condition=Q(slot__gte=1), name="connections_member_slot_gte_1"),
            models.CheckConstraint(
                condition=Q(uses_capacity=True) | ~Q(role__in=CAPACITY_ROLES),
                name="connections_member_capacity_roles_use_slots",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.participant_id} in {self.connection_id} ({self.role})"


class Reflection(models.Model):
    """One member's reflection when a connection ends. Only its author reads the text."""

    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="reflections")
    participant = models.ForeignKey(
        Participant, on_delete=models.CASCADE, related_name="reflections"
    )
    went_well = models.TextField()
    learned = models.TextField()
    rating = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    may_quote = models.BooleanField(
        default=False, help_text="The author agreed that the program report may quote it."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["connection", "participant"], name="connections_reflection_one_per_member"
            ),
            models.CheckConstraint(
                condition=Q(rating__gte=1) & Q(rating__lte=5),
                name="connections_reflection_rating_1_to_5",
            ),
        ]


class Block(models.Model):
    """`blocker` never wants to be proposed to `blocked` again, in any program."""

    blocker = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="blocks_made")
    blocked = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="blocks_received")
    # Where it happened, for the record; the block itself holds everywhere.
    program = models.ForeignKey(
        Program, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["blocker", "blocked"], name="connections_block_unique"),
            models.CheckConstraint(
                condition=~Q(blocker=F("blocked")), name="connections_block_not_self"
            ),
        ]


class ReportStatus(models.TextChoices):
    OPEN = "open", "Open"
    REVIEWED = "reviewed", "Reviewed"


class Report(models.Model):
    """A safety report about a person, read by organisation admins and program managers only."""

    reporter = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="reports_made")
    reported = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="reports_received")
    program = models.ForeignKey(
        Program, null=True, blank=True, on_delete=models.SET_NULL, related_name="safety_reports"
    )
    connection = models.ForeignKey(
        Connection, null=True, blank=True, on_delete=models.SET_NULL, related_name="reports"
    )
    text = models.TextField()
    status = models.CharField(
        max_length=20, choices=ReportStatus.choices, default=ReportStatus.OPEN
    )
    created_at = models.DateTimeField(auto_now_add=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_note = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "-created_at"])]
        constraints = [
            models.CheckConstraint(
                condition=~Q(reporter=F("reported")), name="connections_report_not_self"
            ),
            models.CheckConstraint(
                condition=Q(status=ReportStatus.OPEN) | Q(reviewed_at__isnull=False),
                name="connections_report_reviewed_has_time",
            ),
        ]
