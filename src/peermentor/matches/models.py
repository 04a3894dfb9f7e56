from django.conf import settings
from django.db import models
from django.db.models import Q

from peermentor.enrollment.models import Participant, ParticipantRole
from peermentor.programs.models import Program, Track


class RunStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Finished"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


# Scores that differ by less than this are equal (the engine reports them to 1e-6).
SCORE_TOLERANCE = 1e-6

ACTIVE_RUN_STATUSES = [RunStatus.QUEUED, RunStatus.RUNNING]
FINISHED_RUN_STATUSES = [RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.CANCELLED]


class MatchRun(models.Model):
    """One execution of the engine for a program (or one of its tracks).

    queued → running → succeeded | failed | cancelled. Proposals exist only for a succeeded run:
    they are written in the same transaction that marks it succeeded.
    """

    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="match_runs")
    track = models.ForeignKey(
        Track, null=True, blank=True, on_delete=models.CASCADE, related_name="match_runs"
    )
    # A re-run keeps the locked proposals of the run it was started from.
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="reruns"
    )
    status = models.CharField(max_length=20, choices=RunStatus.choices, default=RunStatus.QUEUED)
    progress = models.FloatField(default=0.0, help_text="Fraction done, 0 to 1.")
    stage = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    seed = models.PositiveIntegerField(default=0)
    # What the run was asked to do, frozen at creation: the engine policy as a mapping, the
    # locks carried over from the parent run, the facilitator rule. Settings edited later do
    # not change a run that is already queued.
    parameters = models.JSONField(default=dict, blank=True)
    total_score = models.FloatField(null=True, blank=True)
    upper_bound = models.FloatField(null=True, blank=True)
    # (upper_bound - total_score) / upper_bound: how far the result can be from the best one.
    gap = models.FloatField(null=True, blank=True)
    # total_score, placed_count, unmatched_count and gap describe the proposals as they stand:
    # every hand edit recomputes them. The engine's own result is kept beside them, and
    # upper_bound (a bound for the run's problem) never changes.
    engine_total_score = models.FloatField(null=True, blank=True)
    engine_placed_count = models.PositiveIntegerField(default=0)
    edited_at = models.DateTimeField(null=True, blank=True)
    participant_count = models.PositiveIntegerField(default=0)
    placed_count = models.PositiveIntegerField(default=0)
    unmatched_count = models.PositiveIntegerField(default=0)
    proposal_count = models.PositiveIntegerField(default=0)
    engine_seconds = models.FloatField(null=True, blank=True)
    error_message = models.TextField(blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["program", "created_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=RunStatus.values), name="matches_run_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(progress__gte=0) & Q(progress__lte=1),
                name="matches_run_progress_fraction",
            ),
            models.CheckConstraint(
                condition=Q(published_at__isnull=True) | Q(status=RunStatus.SUCCEEDED),
                name="matches_run_published_only_when_succeeded",
            ),
            models.CheckConstraint(
                condition=Q(finished_at__isnull=True) | Q(status__in=FINISHED_RUN_STATUSES),
                name="matches_run_finished_only_when_done",
            ),
            # Two runs of the same program (or track) at once would propose the same people twice.
            models.UniqueConstraint(
                fields=["program"],
                condition=Q(status__in=ACTIVE_RUN_STATUSES) & Q(track__isnull=True),
                name="matches_run_one_active_per_program",
            ),
            models.UniqueConstraint(
                fields=["program", "track"],
                condition=Q(status__in=ACTIVE_RUN_STATUSES) & Q(track__isnull=False),
                name="matches_run_one_active_per_track",
            ),
        ]

    def __str__(self) -> str:
        return f"Match run {self.pk} of {self.program_id}"

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_RUN_STATUSES

    @property
    def is_published(self) -> bool:
        return self.published_at is not None

    @property
    def progress_percent(self) -> int:
        return round(self.progress * 100)

    @property
    def gap_percent(self) -> float | None:
        return None if self.gap is None else self.gap * 100

    @property
    def gap_text(self) -> str:
        """The gap as people read it: "10.8%", or with three decimals below 0.1%."""
        if self.gap is None:
            return ""
        percent = self.gap * 100
        return f"{percent:.3f}%" if percent < 0.1 else f"{percent:.1f}%"

    @property
    def is_certified_result(self) -> bool:
        """The proposals as they stand are the engine's result, so its certificate holds:
        no hand edit, or edits that were undone (same total and people placed)."""
        if self.edited_at is None or self.engine_total_score is None:
            return True
        return (
            self.total_score is not None
            and abs(self.total_score - self.engine_total_score) <= SCORE_TOLERANCE
            and self.placed_count == self.engine_placed_count
        )

    @property
    def is_above_bound(self) -> bool:
        """Hand-made proposals that break the rules can score more than any valid result."""
        return (
            self.upper_bound is not None
            and self.total_score is not None
            and self.total_score > self.upper_bound + SCORE_TOLERANCE
        )


# Roles in which one person may appear in several proposals of a run.
MULTI_PLACE_ROLES = [ParticipantRole.FACILITATOR, ParticipantRole.HOST, ParticipantRole.BUDDY]


class Proposal(models.Model):
    """A suggested connection awaiting review: a pair, a host with one shadow, or a circle."""

    run = models.ForeignKey(MatchRun, on_delete=models.CASCADE, related_name="proposals")
    group_key = models.CharField(max_length=80)
    score = models.FloatField()
    reasons = models.TextField(blank=True)
    is_locked = models.BooleanField(default=False)
    is_excluded = models.BooleanField(default=False)
    is_manual = models.BooleanField(default=False)
    # Rules the proposal breaks (only hand-made ones can): shown to the admin before publishing.
    warnings = models.JSONField(default=list, blank=True)
    has_warnings = models.BooleanField(default=False)
    size = models.PositiveSmallIntegerField(default=2)

    class Meta:
        ordering = ["-score", "id"]
        indexes = [
            models.Index(fields=["run", "score", "id"]),
            models.Index(fields=["run", "has_warnings"]),
        ]
        constraints = [
            models.UniqueConstraint(fields=["run", "group_key"], name="matches_proposal_key"),
            models.CheckConstraint(
                condition=~(Q(is_locked=True) & Q(is_excluded=True)),
                name="matches_proposal_not_locked_and_excluded",
            ),
            models.CheckConstraint(
                condition=Q(has_warnings=False) | Q(is_manual=True),
                name="matches_proposal_only_manual_has_warnings",
            ),
        ]

    def __str__(self) -> str:
        return f"Proposal {self.group_key} of run {self.run_id}"


class ProposalMember(models.Model):
    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="members")
    # Denormalised from the proposal so the database itself keeps a person in one proposal.
    run = models.ForeignKey(MatchRun, on_delete=models.CASCADE, related_name="+")
    participant = models.ForeignKey(Participant, on_delete=models.CASCADE, related_name="+")
    role = models.CharField(max_length=20, choices=ParticipantRole.choices)
    score = models.FloatField(null=True, blank=True)
    reasons = models.TextField(blank=True)
    notified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["proposal_id", "id"]
        constraints = [
            # Facilitators serve several circles and hosts and buddies take several people;
            # everyone else is in one proposal per run.
            models.UniqueConstraint(
                fields=["run", "participant"],
                condition=~Q(role__in=MULTI_PLACE_ROLES),
                name="matches_member_one_proposal_per_run",
            ),
            models.UniqueConstraint(
                fields=["proposal", "participant"], name="matches_member_unique_in_proposal"
            ),
        ]
        indexes = [models.Index(fields=["participant", "run"])]


class UnmatchedEntry(models.Model):
    """Someone the run left out, and why in plain language."""

    run = models.ForeignKey(MatchRun, on_delete=models.CASCADE, related_name="unmatched")
    participant = models.ForeignKey(Participant, on_delete=models.CASCADE, related_name="+")
    reason = models.TextField()

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["run", "participant"], name="matches_unmatched_unique")
        ]
