from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q


class Goal(models.TextChoices):
    CROSS_FUNCTIONAL = "cross_functional", "Cross-functional exposure"
    ONBOARDING = "onboarding", "Onboarding"
    WELLBEING = "wellbeing", "Wellbeing and support"
    NETWORKING = "networking", "Networking"
    SKILL_LEARNING = "skill_learning", "Skill learning"
    CAREER_EXPLORATION = "career_exploration", "Career exploration"


class Format(models.TextChoices):
    PAIRS = "pairs", "Peer pairs"
    SHADOWING = "shadowing", "Job shadowing"
    CIRCLES = "circles", "Mentoring circles"
    BUDDIES = "buddies", "Onboarding buddies"
    HELP_NETWORK = "help_network", "Help network"


class ProgramStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    ENROLLING = "enrolling", "Enrolling"
    MATCHING = "matching", "Matching"
    RUNNING = "running", "Running"
    CLOSED = "closed", "Closed"


class Program(models.Model):
    """A peer mentoring program: the tenant that scopes everything below it."""

    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    goals = models.JSONField(default=list, help_text="Goal values (see Goal).")
    format = models.CharField(max_length=20, choices=Format.choices)
    status = models.CharField(
        max_length=20, choices=ProgramStatus.choices, default=ProgramStatus.DRAFT
    )
    sponsor = models.CharField(max_length=200, blank=True, help_text="The leader who backs it.")
    theme = models.CharField(max_length=200, blank=True, help_text="For circles: what they share.")
    enrollment_opens_on = models.DateField(null=True, blank=True)
    enrollment_closes_on = models.DateField(null=True, blank=True)
    starts_on = models.DateField(null=True, blank=True)
    planned_end_on = models.DateField(null=True, blank=True)
    is_self_enrollment_open = models.BooleanField(
        default=True, help_text="Anyone eligible may enroll while enrollment is open."
    )
    needs_manager_approval = models.BooleanField(default=False)
    is_self_match_enabled = models.BooleanField(
        default=False, help_text="Participants may request one another."
    )
    allow_repeat_pairs = models.BooleanField(
        default=False,
        help_text="People who were connected before may be matched again.",
    )
    # Eligibility: {"department_ids": [], "site_ids": [], "levels": [], "min_tenure_months": 0}
    eligibility = models.JSONField(default=dict, blank=True)
    # The engine policy in MATCHING.md's shape (criteria, constraints, objective, min_score, ...).
    matching_policy = models.JSONField(default=dict, blank=True)
    success_metrics = models.JSONField(default=list, blank=True)
    group_size_min = models.PositiveSmallIntegerField(default=4)
    group_size_max = models.PositiveSmallIntegerField(default=8)
    has_facilitator = models.BooleanField(default=False)
    default_capacity = models.PositiveSmallIntegerField(
        default=1, help_text="How many shadows or newcomers a host or buddy takes by default."
    )
    anonymity_threshold = models.PositiveSmallIntegerField(
        default=5, validators=[MinValueValidator(2)]
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(group_size_min__gte=2) & Q(group_size_max__gte=F("group_size_min")),
                name="programs_program_group_size_range",
            ),
            models.CheckConstraint(
                condition=Q(enrollment_closes_on__isnull=True)
                | Q(enrollment_opens_on__isnull=True)
                | Q(enrollment_closes_on__gte=F("enrollment_opens_on")),
                name="programs_program_enrollment_window",
            ),
            models.CheckConstraint(
                condition=Q(planned_end_on__isnull=True)
                | Q(starts_on__isnull=True)
                | Q(planned_end_on__gt=F("starts_on")),
                name="programs_program_end_after_start",
            ),
            models.CheckConstraint(
                condition=Q(status__in=ProgramStatus.values), name="programs_program_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(format__in=Format.values), name="programs_program_format_valid"
            ),
            models.CheckConstraint(
                condition=Q(anonymity_threshold__gte=2),
                name="programs_program_anonymity_threshold_min",
            ),
            models.CheckConstraint(
                condition=Q(default_capacity__gte=1), name="programs_program_capacity_positive"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Track(models.Model):
    """A cohort or region inside a program, with its own participants and optional overrides."""

    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="tracks")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    eligibility = models.JSONField(default=dict, blank=True)
    # Overrides merged over the program's policy for this track's match runs.
    matching_policy = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["program", "name"], name="programs_track_unique_name")
        ]

    def __str__(self) -> str:
        return self.name


class ProgramManager(models.Model):
    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="manager_links")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="managed_program_links"
    )
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["program", "user"], name="programs_manager_unique")
        ]


class QuestionKind(models.TextChoices):
    SINGLE_CHOICE = "single_choice", "Single choice"
    MULTIPLE_CHOICE = "multiple_choice", "Multiple choice"
    SKILLS_OFFERED = "skills_offered", "Skills offered"
    SKILLS_WANTED = "skills_wanted", "Skills wanted"
    NUMBER = "number", "Number"
    TEXT = "text", "Free text"
    AVAILABILITY = "availability", "Availability (weekly time slots)"


class ProfileQuestion(models.Model):
    """A question participants answer when they enroll; its key names the matching attribute."""

    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="questions")
    key = models.SlugField(max_length=60, help_text="Attribute name used by matching criteria.")
    label = models.CharField(max_length=300)
    help_text = models.CharField(max_length=300, blank=True)
    kind = models.CharField(max_length=20, choices=QuestionKind.choices)
    choices = models.JSONField(default=list, blank=True)
    is_required = models.BooleanField(default=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["program", "key"], name="programs_question_unique_key"),
            models.CheckConstraint(
                condition=Q(kind__in=QuestionKind.values), name="programs_question_kind_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.label


class TrainingKind(models.TextChoices):
    ACKNOWLEDGE = "acknowledge", "Read and acknowledge"
    QUIZ = "quiz", "Short quiz"


class TrainingModule(models.Model):
    """Short training before matching: text to acknowledge, or a few quiz questions."""

    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="training_modules")
    title = models.CharField(max_length=200)
    body = models.TextField(help_text="What participants read (plain text, paragraphs).")
    kind = models.CharField(
        max_length=20, choices=TrainingKind.choices, default=TrainingKind.ACKNOWLEDGE
    )
    # Quiz: [{"question": str, "choices": [str], "answer": int}]
    quiz = models.JSONField(default=list, blank=True)
    pass_mark_percent = models.PositiveSmallIntegerField(
        default=100, validators=[MinValueValidator(0), MaxValueValidator(100)]
    )
    is_required = models.BooleanField(default=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=TrainingKind.values), name="programs_training_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(pass_mark_percent__lte=100), name="programs_training_pass_mark_range"
            ),
        ]

    def __str__(self) -> str:
        return self.title
