from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q


class AuditEvent(models.Model):
    """Who did what, when and why: one row per state change, written by the service itself."""

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    action = models.CharField(max_length=80)
    target_type = models.CharField(max_length=80)
    target_id = models.BigIntegerField()
    # Most events belong to a program; kept as a plain id so core depends on no other app.
    program_id = models.BigIntegerField(null=True, blank=True)
    from_state = models.CharField(max_length=40, blank=True)
    to_state = models.CharField(max_length=40, blank=True)
    reason = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["target_type", "target_id"]),
            models.Index(fields=["program_id", "created_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.target_type}#{self.target_id}"


class RetentionPolicy(models.Model):
    """How long the organisation keeps personal data it no longer needs: one row, edited by
    organisation admins on the retention page and applied by the periodic job
    (flows/privacy/retention.py). Empty means "keep" (the rule is off)."""

    anonymise_leavers_after_months = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(120)],
        help_text=(
            "Erase people who left the organisation (inactive in the directory) this many "
            "months after their leaving date. Empty: keep them."
        ),
    )
    delete_private_notes_after_months = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(120)],
        help_text=(
            "Delete private notes this many months after their connection ended. Empty: keep them."
        ),
    )
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name_plural = "retention policy"
        constraints = [
            models.CheckConstraint(
                condition=Q(anonymise_leavers_after_months__isnull=True)
                | Q(anonymise_leavers_after_months__gte=1, anonymise_leavers_after_months__lte=120),
                name="core_retention_leavers_range",
            ),
            models.CheckConstraint(
                condition=Q(delete_private_notes_after_months__isnull=True)
                | Q(
                    delete_private_notes_after_months__gte=1,
                    delete_private_notes_after_months__lte=120,
                ),
                name="core_retention_notes_range",
            ),
        ]

    def __str__(self) -> str:
        return "Retention policy"
