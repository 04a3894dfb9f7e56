"""Surveys: what a program asks its participants, when, and what they answered.

A Survey holds ordered questions and a schedule. The schedule run (schedules.py) writes one
SurveyInvitation per survey, participant and occurrence (the program, or one connection), and
the participant answers it with one SurveyResponse made of SurveyAnswer rows.

Anonymity (docs/surveys.md says the same for people): a response to an anonymous survey holds
no link to its author that the application, its admin or a plain database read can follow.
There is no foreign key to the invitation or the participant, no timestamp, and both primary
keys are random UUIDs (so row ids cannot be lined up with the audit trail). The author finds
their own response through `respondent_key`, an HMAC of their invitation id keyed with the
server's SECRET_KEY; without that secret the key cannot be recomputed. `person_number` (60 bits
of an HMAC of program and participant) lets thresholds count people rather than responses and
pairs pre/post self-assessments; it too says nothing about whose responses they are. What a
response does keep is what aggregates need: department, site, track and the month it fell due,
for breakdowns that the selectors suppress below the program's anonymity threshold.

Each answer row repeats its response's survey, person number and breakdown fields, so that the
aggregates read one table (a grouped scan of the answers of a survey) instead of joining 20,000
responses for every figure. The response stays the source; answers are rewritten with it.
"""

import uuid

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q

from peermentor.connections.models import Connection
from peermentor.enrollment.models import Participant
from peermentor.people.models import Department, Site
from peermentor.programs.models import Program, Track


class SurveyPurpose(models.TextChoices):
    CUSTOM = "custom", "Other"
    PULSE = "pulse", "Pulse"
    MID_POINT = "mid_point", "Mid-point review"
    CLOSING = "closing", "Closing survey"
    PRE_ASSESSMENT = "pre_assessment", "Self-assessment before (at enrollment)"
    POST_ASSESSMENT = "post_assessment", "Self-assessment after (at closure)"


ASSESSMENT_PURPOSES = (SurveyPurpose.PRE_ASSESSMENT, SurveyPurpose.POST_ASSESSMENT)


class SurveyAudience(models.TextChoices):
    PARTICIPANTS = "participants", "The program's participants"
    CONNECTION_MEMBERS = "connection_members", "Members of each connection"


class SurveySchedule(models.TextChoices):
    ON_DATE = "on_date", "On a date"
    AT_ENROLLMENT = "at_enrollment", "When a participant enrolls"
    AFTER_START = "after_start", "A number of days after a connection starts"
    MID_POINT = "mid_point", "Halfway through a connection"
    AT_CLOSURE = "at_closure", "When a connection ends"


# Schedules measured from a connection: their occurrences are one per connection.
CONNECTION_SCHEDULES = (
    SurveySchedule.AFTER_START,
    SurveySchedule.MID_POINT,
    SurveySchedule.AT_CLOSURE,
)


class SurveyStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    OPEN = "open", "Open"
    CLOSED = "closed", "Closed"


class QuestionKind(models.TextChoices):
    RATING = "rating", "Rating from 1 to 5"
    SINGLE_CHOICE = "single_choice", "Single choice"
    MULTIPLE_CHOICE = "multiple_choice", "Multiple choice"
    TEXT = "text", "Free text"
    NPS = "nps", "Likelihood to recommend (0 to 10)"


CHOICE_KINDS = (QuestionKind.SINGLE_CHOICE, QuestionKind.MULTIPLE_CHOICE)
NUMBER_KINDS = (QuestionKind.RATING, QuestionKind.NPS)
NUMBER_RANGE: dict[str, tuple[int, int]] = {QuestionKind.RATING: (1, 5), QuestionKind.NPS: (0, 10)}

DEFAULT_OPEN_DAYS = 21
DEFAULT_REMINDER_AFTER_DAYS = 5
TEXT_ANSWER_MAX_LENGTH = 4000
CHOICE_MAX_LENGTH = 200


class Survey(models.Model):
    """Questions a program asks on a schedule; anonymous unless the manager says otherwise."""

    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="surveys")
    title = models.CharField(max_length=200)
    description = models.TextField(
        blank=True, max_length=2000, help_text="Shown to participants above the questions."
    )
    purpose = models.CharField(
        max_length=20, choices=SurveyPurpose.choices, default=SurveyPurpose.CUSTOM
    )
    is_anonymous = models.BooleanField(
        default=True,
        help_text="Managers see only totals of enough responses, never who answered what.",
    )
    audience = models.CharField(
        max_length=20, choices=SurveyAudience.choices, default=SurveyAudience.PARTICIPANTS
    )
    schedule = models.CharField(
        max_length=20, choices=SurveySchedule.choices, default=SurveySchedule.ON_DATE
    )
    send_on = models.DateField(null=True, blank=True, help_text="For surveys sent on a date.")
    days_after_start = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(365)],
        help_text="For surveys sent a number of days after a connection starts.",
    )
    open_days = models.PositiveSmallIntegerField(
        default=DEFAULT_OPEN_DAYS,
        validators=[MinValueValidator(1), MaxValueValidator(180)],
        help_text="How many days each participant has to answer (and may change answers).",
    )
    reminder_after_days = models.PositiveSmallIntegerField(
        default=DEFAULT_REMINDER_AFTER_DAYS,
        validators=[MaxValueValidator(60)],
        help_text="Remind those who have not answered after this many days (0: no reminder).",
    )
    status = models.CharField(
        max_length=10, choices=SurveyStatus.choices, default=SurveyStatus.DRAFT
    )
    template_key = models.CharField(max_length=40, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    opened_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "schedule"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=SurveyStatus.values), name="surveys_survey_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(purpose__in=SurveyPurpose.values), name="surveys_survey_purpose_valid"
            ),
            models.CheckConstraint(
                condition=Q(audience__in=SurveyAudience.values),
                name="surveys_survey_audience_valid",
            ),
            models.CheckConstraint(
                condition=Q(schedule__in=SurveySchedule.values),
                name="surveys_survey_schedule_valid",
            ),
            models.CheckConstraint(
                condition=~Q(schedule=SurveySchedule.ON_DATE) | Q(send_on__isnull=False),
                name="surveys_survey_on_date_has_date",
            ),
            models.CheckConstraint(
                condition=~Q(schedule=SurveySchedule.AFTER_START)
                | Q(days_after_start__isnull=False),
                name="surveys_survey_after_start_has_days",
            ),
            models.CheckConstraint(
                condition=~Q(schedule__in=CONNECTION_SCHEDULES)
                | Q(audience=SurveyAudience.CONNECTION_MEMBERS),
                name="surveys_survey_connection_schedule_audience",
            ),
            models.CheckConstraint(
                condition=~Q(schedule=SurveySchedule.AT_ENROLLMENT)
                | Q(audience=SurveyAudience.PARTICIPANTS),
                name="surveys_survey_enrollment_schedule_audience",
            ),
            models.CheckConstraint(
                condition=Q(open_days__gte=1) & Q(open_days__lte=180),
                name="surveys_survey_open_days_range",
            ),
            models.CheckConstraint(
                condition=Q(reminder_after_days__lt=F("open_days")),
                name="surveys_survey_reminder_before_close",
            ),
            models.CheckConstraint(
                condition=Q(days_after_start__isnull=True)
                | (Q(days_after_start__gte=1) & Q(days_after_start__lte=365)),
                name="surveys_survey_days_after_start_range",
            ),
            models.CheckConstraint(
                condition=~Q(status=SurveyStatus.OPEN) | Q(opened_at__isnull=False),
                name="surveys_survey_open_has_time",
            ),
            # Pre/post change pairs one survey of each: a second would make pairs ambiguous.
            models.UniqueConstraint(
                fields=["program", "purpose"],
                condition=Q(purpose__in=ASSESSMENT_PURPOSES),
                name="surveys_survey_one_assessment_each",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_open(self) -> bool:
        return self.status == SurveyStatus.OPEN

    @property
    def is_assessment(self) -> bool:
        return self.purpose in ASSESSMENT_PURPOSES


class SurveyQuestion(models.Model):
    """One question. Its `key` names it for the aggregate selectors ("satisfaction",
    "recommend", "confidence"...), the way a profile question's key names an attribute."""

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="questions")
    key = models.SlugField(max_length=60)
    text = models.CharField(max_length=300)
    help_text = models.CharField(max_length=300, blank=True)
    kind = models.CharField(max_length=20, choices=QuestionKind.choices)
    choices = models.JSONField(default=list, blank=True)
    is_required = models.BooleanField(default=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["survey", "key"], name="surveys_question_unique_key"),
            models.CheckConstraint(
                condition=Q(kind__in=QuestionKind.values), name="surveys_question_kind_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.text


class SurveyInvitation(models.Model):
    """A participant asked to answer a survey once for one occurrence: the program
    ("program") or one connection ("connection:<id>"). Named workflow data: managers see who
    was asked and whether they answered, never (for anonymous surveys) what."""

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="invitations")
    participant = models.ForeignKey(
        Participant, on_delete=models.CASCADE, related_name="survey_invitations"
    )
    connection = models.ForeignKey(
        Connection,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="survey_invitations",
    )
    occurrence_key = models.CharField(max_length=40)
    due_on = models.DateField()
    closes_on = models.DateField()
    created_at = models.DateTimeField()
    notified_at = models.DateTimeField(null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-due_on", "-id"]
        indexes = [
            models.Index(fields=["participant", "-due_on"]),
            models.Index(fields=["survey", "answered_at"]),
            models.Index(
                fields=["survey", "id"],
                condition=Q(notified_at__isnull=True),
                name="surveys_invitation_unnotified",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["survey", "participant", "occurrence_key"],
                name="surveys_invitation_once_per_occurrence",
            ),
            models.CheckConstraint(
                condition=Q(closes_on__gte=F("due_on")), name="surveys_invitation_closes_after_due"
            ),
            models.CheckConstraint(
                condition=~Q(occurrence_key=""), name="surveys_invitation_has_occurrence"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.survey_id} → {self.participant_id} ({self.occurrence_key})"


class SurveyResponse(models.Model):
    """One submitted questionnaire. Named responses point to their invitation and participant;
    anonymous ones hold only `respondent_key` (see the module docstring)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="responses")
    is_anonymous = models.BooleanField()
    invitation = models.OneToOneField(
        SurveyInvitation,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="named_response",
    )
    participant = models.ForeignKey(
        Participant,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="named_survey_responses",
    )
    respondent_key = models.CharField(max_length=64, blank=True)
    # The same number for every response one person gives in one program (60 bits of an HMAC of
    # program and participant): thresholds count distinct people, and pre/post pairs are found,
    # without saying whose responses they are. An integer, because aggregates count it distinct.
    person_number = models.BigIntegerField()
    # What breakdowns and date filters need; copied when the response is first stored.
    department = models.ForeignKey(
        Department, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    site = models.ForeignKey(
        Site, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    track = models.ForeignKey(
        Track, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    month = models.DateField(help_text="First day of the month the invitation fell due.")
    submitted_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(null=True, blank=True)
    # Counted in the survey's results. Responses are released in batches of the program's
    # anonymity threshold, or all when the survey closes, so that results never move by one
    # answer (aggregates.py, rule 5).
    is_released = models.BooleanField(default=False)

    class Meta:
        indexes = [
            models.Index(fields=["survey", "track"]),
            models.Index(fields=["survey", "person_number"]),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["survey", "respondent_key"],
                condition=~Q(respondent_key=""),
                name="surveys_response_one_per_key",
            ),
            models.CheckConstraint(
                condition=(
                    Q(is_anonymous=True)
                    & Q(invitation__isnull=True)
                    & Q(participant__isnull=True)
                    & ~Q(respondent_key="")
                    & Q(submitted_at__isnull=True)
                    & Q(updated_at__isnull=True)
                )
                | (
                    Q(is_anonymous=False)
                    & Q(invitation__isnull=False)
                    & Q(participant__isnull=False)
                    & Q(respondent_key="")
                ),
                name="surveys_response_anonymous_has_no_identity",
            ),
        ]

    def __str__(self) -> str:
        return f"Response to {self.survey_id}"


class SurveyAnswer(models.Model):
    """One answer: a number (rating, NPS), one chosen option (a multiple-choice answer is one
    row per option) or a text. UUID keys, for the same reason as the response's."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    response = models.ForeignKey(SurveyResponse, on_delete=models.CASCADE, related_name="answers")
    question = models.ForeignKey(SurveyQuestion, on_delete=models.CASCADE, related_name="answers")
    number = models.SmallIntegerField(null=True, blank=True)
    choice = models.CharField(max_length=CHOICE_MAX_LENGTH, blank=True)
    text = models.TextField(blank=True, max_length=TEXT_ANSWER_MAX_LENGTH)
    # Copies of the response's fields (see the module docstring), written with the answer.
    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="+")
    person_number = models.BigIntegerField()
    department = models.ForeignKey(
        Department, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    site = models.ForeignKey(
        Site, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    track = models.ForeignKey(
        Track, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    month = models.DateField()

    class Meta:
        indexes = [
            models.Index(fields=["survey", "question"]),
            models.Index(fields=["question", "number"]),
            models.Index(fields=["question", "choice"]),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["response", "question", "choice"], name="surveys_answer_unique"
            ),
            models.CheckConstraint(
                condition=Q(number__isnull=True) | (Q(number__gte=0) & Q(number__lte=10)),
                name="surveys_answer_number_range",
            ),
            models.CheckConstraint(
                condition=(Q(number__isnull=False) & Q(choice="") & Q(text=""))
                | (Q(number__isnull=True) & ~Q(choice="") & Q(text=""))
                | (Q(number__isnull=True) & Q(choice="") & ~Q(text="")),
                name="surveys_answer_exactly_one_value",
            ),
        ]

    def __str__(self) -> str:
        return f"Answer to {self.question_id}"
