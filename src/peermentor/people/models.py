from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower

from peermentor.accounts.models import validate_time_zone


class Department(models.Model):
    name = models.CharField(max_length=200, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Site(models.Model):
    """A physical location; job shadowing and buddies care about being on the same one."""

    name = models.CharField(max_length=200, unique=True)
    time_zone = models.CharField(max_length=64, default="UTC", validators=[validate_time_zone])

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Skill(models.Model):
    """The organisation's skill list: profile questions offer and want skills from it."""

    name = models.CharField(max_length=120)
    category = models.CharField(max_length=120, blank=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(Lower("name"), name="people_skill_name_ci_unique")]

    def __str__(self) -> str:
        return self.name


class Person(models.Model):
    """Someone in the organisation's directory, as the HR system knows them."""

    external_id = models.CharField(max_length=100, unique=True, help_text="The HR system's id.")
    full_name = models.CharField(max_length=200)
    email = models.EmailField(unique=True)
    department = models.ForeignKey(
        Department, null=True, blank=True, on_delete=models.PROTECT, related_name="people"
    )
    job_title = models.CharField(max_length=200, blank=True)
    level = models.CharField(max_length=40, blank=True, help_text="Career level, e.g. L3.")
    site = models.ForeignKey(
        Site, null=True, blank=True, on_delete=models.PROTECT, related_name="people"
    )
    time_zone = models.CharField(
        max_length=64, default="UTC", blank=True, validators=[validate_time_zone]
    )
    manager = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="reports"
    )
    hire_date = models.DateField(null=True, blank=True)
    leaving_date = models.DateField(null=True, blank=True)
    languages = models.JSONField(default=list, blank=True)
    is_active = models.BooleanField(default=True)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="person",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["full_name", "id"]
        indexes = [
            models.Index(fields=["department", "is_active"]),
            models.Index(fields=["site", "is_active"]),
            models.Index(fields=["level"]),
            models.Index(Lower("full_name"), name="people_person_name_lower"),
            # The directory pages sort by name and paginate: this keeps a page of 50 out of
            # 20,000 an index scan instead of a sort of the whole table.
            models.Index(fields=["full_name", "id"], name="people_person_name_order"),
            models.Index(fields=["is_active", "full_name", "id"], name="people_person_active_name"),
        ]
        constraints = [
            # The import compares addresses case-insensitively; the database agrees with it.
            models.UniqueConstraint(Lower("email"), name="people_person_email_ci_unique"),
            models.CheckConstraint(
                condition=Q(leaving_date__isnull=True)
                | Q(hire_date__isnull=True)
                | Q(leaving_date__gte=F("hire_date")),
                name="people_person_leaves_after_hire",
            ),
        ]

    def __str__(self) -> str:
        return self.full_name


class ImportBatch(models.Model):
    """One uploaded HR export, parsed and checked, waiting between preview and apply.

    The normalised rows live here rather than in the session or a temp file so that apply works
    from exactly what the admin previewed, from any web process, and leaves a record of who
    imported what and when.
    """

    class Status(models.TextChoices):
        READY = "ready", "Ready to apply"
        INVALID = "invalid", "Has bad rows"
        APPLIED = "applied", "Applied"

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    file_name = models.CharField(max_length=255)
    file_format = models.CharField(max_length=10)
    status = models.CharField(max_length=10, choices=Status.choices)
    row_count = models.PositiveIntegerField(default=0)
    # Header columns found in the file (canonical names); absent columns leave fields alone.
    columns = models.JSONField(default=list, blank=True)
    # Normalised rows (dicts with a "line" key); emptied once applied to keep the table small.
    rows = models.JSONField(default=list, blank=True)
    errors = models.JSONField(default=list, blank=True)
    warnings = models.JSONField(default=list, blank=True)
    # What applying would do, as of the preview: creates, updates, unchanged, missing_active...
    preview = models.JSONField(default=dict, blank=True)
    deactivate_missing = models.BooleanField(default=False)
    applied_at = models.DateTimeField(null=True, blank=True)
    applied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    summary = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "import batches"
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["ready", "invalid", "applied"]),
                name="people_importbatch_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(status="applied", applied_at__isnull=False)
                | (~Q(status="applied") & Q(applied_at__isnull=True)),
                name="people_importbatch_applied_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.get_status_display()})"

    @property
    def is_ready(self) -> bool:
        return self.status == self.Status.READY


class JobChange(models.Model):
    """One change of someone's department, job title or level: the directory's job history.

    The HR import records one when it changes any of the three for someone already in the
    directory; an organisation admin may add one by hand for history the import never saw.
    Insights counts internal moves from these rows. Names are copied as text, as they were on
    the day, so renaming a department or site later leaves the history as it was. The site is
    kept for context (a move of office alone is not a job change).
    """

    class Source(models.TextChoices):
        IMPORT = "import", "HR import"
        MANUAL = "manual", "Entered by hand"

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="job_changes")
    changed_on = models.DateField(help_text="The day the new job started.")
    department_before = models.CharField(max_length=200, blank=True)
    department_after = models.CharField(max_length=200, blank=True)
    job_title_before = models.CharField(max_length=200, blank=True)
    job_title_after = models.CharField(max_length=200, blank=True)
    level_before = models.CharField(max_length=40, blank=True)
    level_after = models.CharField(max_length=40, blank=True)
    site_before = models.CharField(max_length=200, blank=True)
    site_after = models.CharField(max_length=200, blank=True)
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.MANUAL)
    import_batch = models.ForeignKey(
        ImportBatch,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="job_changes",
        help_text="The import that recorded the change, if one did.",
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-changed_on", "-id"]
        indexes = [
            # The person page lists one person's history; insights asks who changed in a window.
            models.Index(fields=["person", "changed_on"], name="people_jobchange_person_day"),
            models.Index(fields=["changed_on", "person"], name="people_jobchange_day_person"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(source__in=["import", "manual"]),
                name="people_jobchange_source_valid",
            ),
            models.CheckConstraint(
                condition=~Q(department_before=F("department_after"))
                | ~Q(job_title_before=F("job_title_after"))
                | ~Q(level_before=F("level_after")),
                name="people_jobchange_changes_the_job",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person} · {self.changed_on:%Y-%m-%d}"

    @property
    def changes(self) -> list[tuple[str, str, str]]:
        """(label, before, after) for each field that differs, in the order pages show them."""
        pairs = [
            ("Department", self.department_before, self.department_after),
            ("Job title", self.job_title_before, self.job_title_after),
            ("Level", self.level_before, self.level_after),
            ("Site", self.site_before, self.site_after),
        ]
        return [(label, before, after) for label, before, after in pairs if before != after]
