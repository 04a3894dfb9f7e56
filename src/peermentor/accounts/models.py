import zoneinfo
from typing import Any, ClassVar

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone


def validate_time_zone(value: str) -> None:
    if value and value not in zoneinfo.available_timezones():
        raise ValidationError(f"{value!r} is not a known time zone (e.g. Europe/Paris).")


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> "User":
        if not email:
            raise ValueError("An e-mail address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> "User":
        extra.update(is_staff=True, is_superuser=True, is_org_admin=True)
        return self.create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """An account. Who the person is at work lives in people.Person, linked once invited."""

    email = models.EmailField(unique=True)
    full_name = models.CharField(max_length=200, blank=True)
    time_zone = models.CharField(
        max_length=64, default="UTC", validators=[validate_time_zone], blank=True
    )
    is_org_admin = models.BooleanField(
        default=False, help_text="Organisation administrators run the directory and all programs."
    )
    is_staff = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    class Meta:
        constraints = [
            models.UniqueConstraint(Lower("email"), name="accounts_user_email_ci_unique"),
        ]

    def __str__(self) -> str:
        return self.full_name or self.email

    def get_full_name(self) -> str:
        return self.full_name or self.email

    def get_short_name(self) -> str:
        return (self.full_name.split() or [self.email])[0]


class PasswordResetRequest(models.Model):
    """One request for a password reset link, kept an hour or so to throttle them.

    Neither the address typed nor the client is stored in the clear: a keyed hash is enough
    to count them (accounts/services.py)."""

    email_digest = models.CharField(max_length=64)
    client_digest = models.CharField(max_length=64)
    requested_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(fields=["email_digest", "requested_at"], name="accounts_reset_by_email"),
            models.Index(fields=["client_digest", "requested_at"], name="accounts_reset_by_client"),
        ]

    def __str__(self) -> str:
        return f"Password reset request at {self.requested_at:%Y-%m-%d %H:%M}"


class SignInPolicy(models.Model):
    """The organisation's sign-in rules: one row (pk 1), edited by organisation admins.

    Single sign-on itself is configured from the environment (docs/integrations.md); what an
    admin may change at any time lives here."""

    is_mfa_required_for_staff = models.BooleanField(
        "Require two-factor authentication for administrators and program managers",
        default=False,
        help_text=(
            "Organisation admins and program managers without a second factor are sent to set "
            "one up when they sign in, and cannot use Peermentor until they have."
        ),
    )
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [models.CheckConstraint(condition=models.Q(pk=1), name="accounts_policy_one")]

    def __str__(self) -> str:
        return "Sign-in policy"
