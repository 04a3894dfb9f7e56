from django.conf import settings
from django.db import models
from django.db.models import Q

from peermentor.accounts.models import validate_time_zone
from peermentor.people.models import Person
from peermentor.programs.models import ProfileQuestion, Program, Track, TrainingModule


class Invitation(models.Model):
    """An invitation sent to a person; the link is signed, so no token is stored."""

    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="invitations")
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="invitations")
    track = models.ForeignKey(Track, null=True, blank=True, on_delete=models.SET_NULL)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    sent_at = models.DateTimeField(auto_now_add=True)
    # Set by the e-mail task when it claims the row, so a retried batch never mails twice.
    emailed_at = models.DateTimeField(null=True, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["program", "person"], name="enrollment_invitation_unique"
            )
        ]


class ParticipantStatus(models.TextChoices):
    PENDING_APPROVAL = "pending_approval", "Waiting for manager approval"
    ENROLLED = "enrolled", "Enrolled"
    DECLINED = "declined", "Not approved"
    WITHDRAWN = "withdrawn", "Withdrawn"


class ParticipantRole(models.TextChoices):
    PEER = "peer", "Peer"
    HOST = "host", "Host"
    SHADOW = "shadow", "Shadow"
    BUDDY = "buddy", "Buddy"
    NEWCOMER = "newcomer", "Newcomer"
    MEMBER = "member", "Circle member"
    FACILITATOR = "facilitator", "Facilitator"


# Which roles each format offers; the first is the default when a format has only one choice.
ROLES_BY_FORMAT: dict[str, list[str]] = {
    "pairs": [ParticipantRole.PEER],
    "help_network": [ParticipantRole.PEER],
    "shadowing": [ParticipantRole.SHADOW, ParticipantRole.HOST],
    "buddies": [ParticipantRole.NEWCOMER, ParticipantRole.BUDDY],
    "circles": [ParticipantRole.MEMBER, ParticipantRole.FACILITATOR],
}
# Roles that take several people (or, for facilitators, circles) at once: they carry a capacity.
ROLES_WITH_CAPACITY = {ParticipantRole.HOST, ParticipantRole.BUDDY, ParticipantRole.FACILITATOR}
ACTIVE_STATUSES = [ParticipantStatus.PENDING_APPROVAL, ParticipantStatus.ENROLLED]


def roles_for_program(program: Program) -> list[str]:
    """The roles a person may choose when joining `program`."""
    roles = list(ROLES_BY_FORMAT.get(program.format, [ParticipantRole.PEER]))
    if program.format == "circles" and not program.has_facilitator:
        roles.remove(ParticipantRole.FACILITATOR)
    return roles


class Participant(models.Model):
    """A person taking part in one program (in one track). Ready = profile and training done."""

    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="participants")
    track = models.ForeignKey(
        Track, null=True, blank=True, on_delete=models.SET_NULL, related_name="participants"
    )
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="participations")
    role = models.CharField(
        max_length=20, choices=ParticipantRole.choices, default=ParticipantRole.PEER
    )
    status = models.CharField(max_length=20, choices=ParticipantStatus.choices)
    capacity = models.PositiveSmallIntegerField(
        default=1,
        help_text=(
            "Hosts and buddies: how many people they take at once; facilitators: how many "
            "circles they lead at once."
        ),
    )
    # Kept in step by the services that change answers and training, so that lists and the
    # match run can filter on it without recomputing readiness for every row.
    is_profile_complete = models.BooleanField(default=False)
    is_training_complete = models.BooleanField(default=False)
    ready_at = models.DateTimeField(null=True, blank=True)
    enrolled_at = models.DateTimeField(auto_now_add=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawal_reason = models.TextField(blank=True)
    decline_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["enrolled_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["program", "person"], name="enrollment_participant_unique"
            ),
            models.CheckConstraint(
                condition=Q(capacity__gte=1), name="enrollment_participant_capacity_positive"
            ),
            models.CheckConstraint(
                condition=Q(ready_at__isnull=True)
                | (
                    Q(is_profile_complete=True)
                    & Q(is_training_complete=True)
                    & Q(status=ParticipantStatus.ENROLLED)
                ),
                name="enrollment_participant_ready_needs_everything",
            ),
            models.CheckConstraint(
                condition=Q(status__in=ParticipantStatus.values),
                name="enrollment_participant_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(role__in=ParticipantRole.values),
                name="enrollment_participant_role_valid",
            ),
            models.CheckConstraint(
                condition=Q(withdrawn_at__isnull=True) | Q(status=ParticipantStatus.WITHDRAWN),
                name="enrollment_participant_withdrawn_at_only_when_withdrawn",
            ),
        ]
        indexes = [models.Index(fields=["program", "status", "ready_at"])]

    @property
    def is_ready(self) -> bool:
        return self.ready_at is not None


class Answer(models.Model):
    participant = models.ForeignKey(Participant, on_delete=models.CASCADE, related_name="answers")
    question = models.ForeignKey(ProfileQuestion, on_delete=models.CASCADE, related_name="answers")
    # str for text/single choice, list[str] for multiple choice and skills, number for number,
    # [{"day": 0-6, "start": "HH:MM", "end": "HH:MM"}] in the person's time zone for availability.
    value = models.JSONField()
    # Availability only: the IANA zone the slots were given in (the person's own zone).
    time_zone = models.CharField(max_length=64, blank=True, validators=[validate_time_zone])
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["participant", "question"], name="enrollment_answer_unique"
            )
        ]


class TrainingCompletion(models.Model):
    participant = models.ForeignKey(
        Participant, on_delete=models.CASCADE, related_name="training_completions"
    )
    module = models.ForeignKey(TrainingModule, on_delete=models.CASCADE, related_name="+")
    completed_at = models.DateTimeField(auto_now_add=True)
    score_percent = models.PositiveSmallIntegerField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["participant", "module"], name="enrollment_training_unique"
            )
        ]
