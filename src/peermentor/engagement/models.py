"""Engagement: what keeps a connection going once it has started.

Meetings with calendar invitations, engagement plans copied from per-program templates, notes,
check-ins (pulses), and for circles their sessions, discussion and resources. Every table hangs
off a Connection, so the program scopes everything through it.

Privacy: notes, circle posts and pulse comments belong to the connection's members. No selector,
page or admin registration shows them to organisation admins or program managers.
"""

import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q

from peermentor.accounts.models import validate_time_zone
from peermentor.connections.models import Connection, ConnectionKind
from peermentor.enrollment.models import Participant, ParticipantRole
from peermentor.programs.models import Program

MEETING_MINUTES_MIN = 5
MEETING_MINUTES_MAX = 8 * 60
NOTE_MAX_LENGTH = 5000
POST_MAX_LENGTH = 5000


# --- meetings ---------------------------------------------------------------------------------
class MeetingStatus(models.TextChoices):
    PROPOSED = "proposed", "Waiting for an answer"
    SCHEDULED = "scheduled", "Scheduled"
    HELD = "held", "Held"
    MISSED = "missed", "Did not happen"
    DECLINED = "declined", "Declined"
    CANCELLED = "cancelled", "Cancelled"


# Statuses in which the meeting has a chosen time (and so an invitation).
TIMED_STATUSES = (MeetingStatus.SCHEDULED, MeetingStatus.HELD, MeetingStatus.MISSED)
OUTCOME_STATUSES = (MeetingStatus.HELD, MeetingStatus.MISSED)


class Meeting(models.Model):
    """A one-to-one (or small group) meeting of a connection's members.

    A member proposes candidate times (MeetingOption); another member accepts one, which makes
    it `scheduled` with `starts_at` set and sends the calendar invitation. Rescheduling or
    cancelling a scheduled meeting bumps `sequence`, as iCalendar (RFC 5546) requires.
    """

    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="meetings")
    # The invitation's UID: the same for every update of the meeting, unique across deployments.
    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    title = models.CharField(max_length=200)
    agenda = models.TextField(blank=True, max_length=2000)
    location = models.CharField(
        max_length=300, blank=True, help_text="A room, a place or a video-call link."
    )
    duration_minutes = models.PositiveSmallIntegerField(
        default=60,
        validators=[MinValueValidator(MEETING_MINUTES_MIN), MaxValueValidator(MEETING_MINUTES_MAX)],
    )
    # The organiser's zone when proposing: the TZID the invitation is written in.
    time_zone = models.CharField(max_length=64, validators=[validate_time_zone])
    status = models.CharField(
        max_length=20, choices=MeetingStatus.choices, default=MeetingStatus.PROPOSED
    )
    starts_at = models.DateTimeField(null=True, blank=True)
    sequence = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    scheduled_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.TextField(blank=True, max_length=1000)
    outcome_logged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    outcome_logged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["starts_at", "id"]
        indexes = [
            models.Index(fields=["connection", "status", "starts_at"]),
            # Nudges and feeds look for meetings by status and time across the whole program.
            models.Index(fields=["status", "starts_at"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=MeetingStatus.values), name="engagement_meeting_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(duration_minutes__gte=MEETING_MINUTES_MIN)
                & Q(duration_minutes__lte=MEETING_MINUTES_MAX),
                name="engagement_meeting_duration_range",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=TIMED_STATUSES) | Q(starts_at__isnull=False),
                name="engagement_meeting_timed_has_start",
            ),
            models.CheckConstraint(
                condition=Q(status=MeetingStatus.CANCELLED, cancelled_at__isnull=False)
                | (~Q(status=MeetingStatus.CANCELLED) & Q(cancelled_at__isnull=True)),
                name="engagement_meeting_cancelled_at_when_cancelled",
            ),
            models.CheckConstraint(
                condition=Q(status__in=OUTCOME_STATUSES, outcome_logged_at__isnull=False)
                | (~Q(status__in=OUTCOME_STATUSES) & Q(outcome_logged_at__isnull=True)),
                name="engagement_meeting_outcome_logged_when_known",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.get_status_display()})"

    @property
    def ends_at(self) -> datetime | None:
        if self.starts_at is None:
            return None
        return self.starts_at + timedelta(minutes=self.duration_minutes)

    @property
    def has_invitation(self) -> bool:
        """Scheduled once: there is an invitation to download (a REQUEST or a CANCEL)."""
        return self.starts_at is not None


class MeetingOption(models.Model):
    """One candidate time of a proposed meeting."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="options")
    starts_at = models.DateTimeField()

    class Meta:
        ordering = ["starts_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["meeting", "starts_at"], name="engagement_meeting_option_unique"
            )
        ]


class InvitationMethod(models.TextChoices):
    REQUEST = "REQUEST", "Invitation or update"
    CANCEL = "CANCEL", "Cancellation"


class MeetingNotice(models.Model):
    """One invitation e-mail, claimed by inserting this row before sending: a retried task
    finds it and sends nothing twice."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="notices")
    sequence = models.PositiveIntegerField()
    method = models.CharField(max_length=10, choices=InvitationMethod.choices)
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["meeting", "sequence", "method"], name="engagement_meeting_notice_once"
            )
        ]


class CalendarFeed(models.Model):
    """A user's private calendar subscription. Only the SHA-256 of the token is stored: the
    address is shown once, and rotating or deleting the row revokes the old one."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feed"
    )
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now=True)


# --- engagement plans -------------------------------------------------------------------------
class PlanItemKind(models.TextChoices):
    GOAL = "goal", "Goal"
    MILESTONE = "milestone", "Milestone"
    TASK = "task", "Task"
    # Job shadowing: a low-risk assignment the host offers, with effort and a learning goal.
    ASSIGNMENT = "assignment", "Assignment"


ROLE_CHOICES = [("", "Everyone"), *ParticipantRole.choices]
DUE_DAYS_MAX = 3650


class PlanTemplate(models.Model):
    """The plan a program gives every new connection of one kind (pair, shadowing...)."""

    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="plan_templates")
    kind = models.CharField(max_length=20, choices=ConnectionKind.choices)
    name = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["program", "kind"]
        constraints = [
            models.UniqueConstraint(
                fields=["program", "kind"], name="engagement_plan_template_one_per_kind"
            ),
            models.CheckConstraint(
                condition=Q(kind__in=ConnectionKind.values),
                name="engagement_plan_template_kind_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class PlanTemplateItem(models.Model):
    template = models.ForeignKey(PlanTemplate, on_delete=models.CASCADE, related_name="items")
    kind = models.CharField(max_length=20, choices=PlanItemKind.choices)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True, max_length=2000)
    due_after_days = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        validators=[MaxValueValidator(DUE_DAYS_MAX)],
        help_text="Days after the connection starts; empty for no due date.",
    )
    for_role = models.CharField(max_length=20, blank=True, choices=ROLE_CHOICES)
    effort_hours = models.DecimalField(max_digits=5, decimal_places=1, null=True, blank=True)
    learning_goal = models.TextField(blank=True, max_length=1000)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=PlanItemKind.values),
                name="engagement_plan_template_item_kind_valid",
            ),
            models.CheckConstraint(
                condition=Q(effort_hours__isnull=True) | Q(effort_hours__gt=0),
                name="engagement_plan_template_item_effort_positive",
            ),
        ]


class Plan(models.Model):
    """A connection's own engagement plan, copied once from its program's template."""

    connection = models.OneToOneField(
        Connection, on_delete=models.CASCADE, related_name="engagement_plan"
    )
    template = models.ForeignKey(
        PlanTemplate, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)


class PlanItem(models.Model):
    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="items")
    kind = models.CharField(max_length=20, choices=PlanItemKind.choices)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True, max_length=2000)
    due_on = models.DateField(null=True, blank=True)
    for_role = models.CharField(max_length=20, blank=True, choices=ROLE_CHOICES)
    effort_hours = models.DecimalField(max_digits=5, decimal_places=1, null=True, blank=True)
    learning_goal = models.TextField(blank=True, max_length=1000)
    position = models.PositiveIntegerField(default=0)
    is_done = models.BooleanField(default=False)
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Assignments: the shadow's reflection afterwards and the host's feedback on it.
    reflection = models.TextField(blank=True, max_length=4000)
    reflected_at = models.DateTimeField(null=True, blank=True)
    feedback = models.TextField(blank=True, max_length=4000)
    feedback_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["position", "id"]
        indexes = [
            models.Index(fields=["plan", "position"]),
            # plans_behind(): overdue, open items across a program.
            models.Index(fields=["is_done", "due_on"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=PlanItemKind.values), name="engagement_plan_item_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(is_done=True, done_at__isnull=False)
                | Q(is_done=False, done_at__isnull=True),
                name="engagement_plan_item_done_at_when_done",
            ),
            models.CheckConstraint(
                condition=Q(effort_hours__isnull=True) | Q(effort_hours__gt=0),
                name="engagement_plan_item_effort_positive",
            ),
            models.CheckConstraint(
                condition=Q(kind=PlanItemKind.ASSIGNMENT) | (Q(reflection="") & Q(feedback="")),
                name="engagement_plan_item_reflection_only_on_assignments",
            ),
        ]


# --- notes ------------------------------------------------------------------------------------
class NoteVisibility(models.TextChoices):
    PRIVATE = "private", "Only me"
    SHARED = "shared", "Everyone in this connection"


class Note(models.Model):
    """A note in a connection's workspace: private to its author, or shared with the members.
    Never shown to administrators or program managers (deliberately not in the admin site)."""

    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(
        Participant, on_delete=models.CASCADE, related_name="engagement_notes"
    )
    visibility = models.CharField(max_length=10, choices=NoteVisibility.choices)
    body = models.TextField(max_length=NOTE_MAX_LENGTH)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["connection", "visibility", "-created_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(visibility__in=NoteVisibility.values),
                name="engagement_note_visibility_valid",
            ),
            models.CheckConstraint(condition=~Q(body=""), name="engagement_note_not_empty"),
        ]


# --- check-ins --------------------------------------------------------------------------------
class EngagementSettings(models.Model):
    """A program's check-in rhythm; programs without a row use the defaults."""

    program = models.OneToOneField(
        Program, on_delete=models.CASCADE, related_name="engagement_settings"
    )
    first_check_in_after_days = models.PositiveSmallIntegerField(
        default=30, validators=[MinValueValidator(1), MaxValueValidator(365)]
    )
    check_in_every_days = models.PositiveSmallIntegerField(
        default=60, validators=[MinValueValidator(7), MaxValueValidator(365)]
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(first_check_in_after_days__gte=1)
                & Q(first_check_in_after_days__lte=365),
                name="engagement_settings_first_check_in_range",
            ),
            models.CheckConstraint(
                condition=Q(check_in_every_days__gte=7) & Q(check_in_every_days__lte=365),
                name="engagement_settings_check_in_every_range",
            ),
        ]


class CheckIn(models.Model):
    """One member's pulse: "how is it going?" from 1 to 5, with an optional comment.

    `period` 0 is anything before the first due date; period n answers the n-th due check-in
    (`due_on`). One pulse per member and period.
    """

    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="check_ins")
    participant = models.ForeignKey(
        Participant, on_delete=models.CASCADE, related_name="engagement_check_ins"
    )
    period = models.PositiveSmallIntegerField()
    due_on = models.DateField(null=True, blank=True)
    rating = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    comment = models.TextField(blank=True, max_length=2000)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["connection", "participant", "-created_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["connection", "participant", "period"],
                name="engagement_check_in_one_per_period",
            ),
            models.CheckConstraint(
                condition=Q(rating__gte=1) & Q(rating__lte=5),
                name="engagement_check_in_rating_1_to_5",
            ),
            models.CheckConstraint(
                condition=Q(period=0, due_on__isnull=True) | Q(period__gte=1, due_on__isnull=False),
                name="engagement_check_in_due_on_with_period",
            ),
        ]


# --- circles ----------------------------------------------------------------------------------
class Circle(models.Model):
    """Engagement settings of a circle connection: whether others may join, and the seats.

    `member_count` is recomputed under this row's lock at every join and leave, and the
    database refuses any value above `capacity`: two people racing for the last seat cannot
    both get it.
    """

    connection = models.OneToOneField(Connection, on_delete=models.CASCADE, related_name="circle")
    is_open = models.BooleanField(
        default=False,
        help_text="Eligible participants of the program may join while there is room.",
    )
    capacity = models.PositiveSmallIntegerField()
    member_count = models.PositiveSmallIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(member_count__lte=F("capacity")), name="engagement_circle_has_room"
            ),
            models.CheckConstraint(
                condition=Q(capacity__gte=2), name="engagement_circle_capacity_min"
            ),
        ]


class CircleSession(models.Model):
    """A circle's gathering: a time (kept with the zone it was planned in), a place or video
    link, optional capacity, and RSVPs. `attending_count` is kept under the row's lock and the
    database refuses more "yes" answers than seats."""

    connection = models.ForeignKey(
        Connection, on_delete=models.CASCADE, related_name="circle_sessions"
    )
    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    title = models.CharField(max_length=200)
    agenda = models.TextField(blank=True, max_length=2000)
    starts_at = models.DateTimeField()
    duration_minutes = models.PositiveSmallIntegerField(
        default=60,
        validators=[MinValueValidator(MEETING_MINUTES_MIN), MaxValueValidator(MEETING_MINUTES_MAX)],
    )
    time_zone = models.CharField(max_length=64, validators=[validate_time_zone])
    location = models.CharField(max_length=300, blank=True)
    video_url = models.URLField(blank=True, max_length=500)
    capacity = models.PositiveSmallIntegerField(null=True, blank=True)
    attending_count = models.PositiveSmallIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    is_cancelled = models.BooleanField(default=False)
    sequence = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["starts_at", "id"]
        indexes = [models.Index(fields=["connection", "starts_at"])]
        constraints = [
            models.CheckConstraint(
                condition=~Q(location="") | ~Q(video_url=""),
                name="engagement_session_has_place",
            ),
            models.CheckConstraint(
                condition=Q(capacity__isnull=True) | Q(capacity__gte=1),
                name="engagement_session_capacity_positive",
            ),
            models.CheckConstraint(
                condition=Q(capacity__isnull=True) | Q(attending_count__lte=F("capacity")),
                name="engagement_session_has_seats",
            ),
            models.CheckConstraint(
                condition=Q(duration_minutes__gte=MEETING_MINUTES_MIN)
                & Q(duration_minutes__lte=MEETING_MINUTES_MAX),
                name="engagement_session_duration_range",
            ),
        ]

    @property
    def ends_at(self) -> datetime:
        return self.starts_at + timedelta(minutes=self.duration_minutes)

    @property
    def seats_left(self) -> int | None:
        return None if self.capacity is None else max(self.capacity - self.attending_count, 0)


class SessionRsvp(models.Model):
    session = models.ForeignKey(CircleSession, on_delete=models.CASCADE, related_name="rsvps")
    participant = models.ForeignKey(
        Participant, on_delete=models.CASCADE, related_name="session_rsvps"
    )
    is_attending = models.BooleanField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["session", "participant"], name="engagement_rsvp_one_per_member"
            )
        ]


class CirclePost(models.Model):
    """A message in a circle's discussion thread; members only, like notes."""

    connection = models.ForeignKey(
        Connection, on_delete=models.CASCADE, related_name="circle_posts"
    )
    author = models.ForeignKey(Participant, on_delete=models.CASCADE, related_name="circle_posts")
    body = models.TextField(max_length=POST_MAX_LENGTH)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["connection", "-created_at"])]
        constraints = [
            models.CheckConstraint(condition=~Q(body=""), name="engagement_post_not_empty")
        ]


class CircleResource(models.Model):
    """A link the circle shares: an article, a course, a document."""

    connection = models.ForeignKey(
        Connection, on_delete=models.CASCADE, related_name="circle_resources"
    )
    title = models.CharField(max_length=200)
    url = models.URLField(max_length=500)
    added_by = models.ForeignKey(
        Participant, on_delete=models.CASCADE, related_name="circle_resources"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["connection", "-created_at"])]
