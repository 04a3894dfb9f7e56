from django.conf import settings
from django.db import models
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
        ]

    def __str__(self) -> str:
        return self.full_name
