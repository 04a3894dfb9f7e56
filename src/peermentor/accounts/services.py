import enum
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac

from peermentor.accounts.models import PasswordResetRequest, SignInPolicy, User
from peermentor.core.permissions import require
from peermentor.core.services import audit_record


@transaction.atomic
def user_update_preferences(*, actor: User, full_name: str, time_zone: str) -> User:
    """After the call the user's display name and time zone are saved."""
    actor.full_name = full_name
    actor.time_zone = time_zone
    actor.full_clean(exclude=["password"])
    actor.save(update_fields=["full_name", "time_zone"])
    return actor


class ResetDecision(enum.Enum):
    SEND = "send"
    # Too many links asked for this e-mail address: ask quietly (the page does not say so).
    EMAIL_LIMITED = "email_limited"
    # Too many requests from this client, whatever the addresses: refuse openly (429).
    CLIENT_LIMITED = "client_limited"


RESET_WINDOW = timedelta(hours=1)


def _digest(kind: str, value: str) -> str:
    return salted_hmac(f"peermentor.password_reset.{kind}", value).hexdigest()


@transaction.atomic
def password_reset_request_record(
    *, email: str, client_address: str, now: datetime | None = None
) -> ResetDecision:
    """Count a password reset request and say whether to send the link.

    Afterwards the request is recorded (unless the client was over its limit) and requests
    older than the window are gone. At most PASSWORD_RESET_MAX_PER_EMAIL links per address and
    PASSWORD_RESET_MAX_PER_ADDRESS requests per client address go out per hour: without a
    limit anyone could fill a colleague's mailbox, or probe the directory, at full speed."""
    now = now or timezone.now()
    since = now - RESET_WINDOW
    PasswordResetRequest.objects.filter(requested_at__lt=since).delete()
    email_digest = _digest("email", email.strip().lower())
    client_digest = _digest("client", client_address)
    recent = PasswordResetRequest.objects.filter(requested_at__gte=since)
    if (
        recent.filter(client_digest=client_digest).count()
        >= settings.PASSWORD_RESET_MAX_PER_ADDRESS
    ):
        return ResetDecision.CLIENT_LIMITED
    for_email = recent.filter(email_digest=email_digest).count()
    PasswordResetRequest.objects.create(
        email_digest=email_digest, client_digest=client_digest, requested_at=now
    )
    if for_email >= settings.PASSWORD_RESET_MAX_PER_EMAIL:
        return ResetDecision.EMAIL_LIMITED
    return ResetDecision.SEND


@transaction.atomic
def sign_in_policy_update(*, actor: User, is_mfa_required_for_staff: bool) -> SignInPolicy:
    """After the call the organisation's sign-in policy holds the given rule, and the audit
    trail says who changed it. Only organisation admins may."""
    require(
        actor.is_active and actor.is_org_admin,
        "Only organisation admins change the sign-in policy.",
    )
    policy, _ = SignInPolicy.objects.select_for_update().get_or_create(pk=1)
    before = policy.is_mfa_required_for_staff
    policy.is_mfa_required_for_staff = is_mfa_required_for_staff
    policy.updated_by = actor
    policy.save()
    audit_record(
        actor=actor,
        action="sign_in_policy.update",
        target=policy,
        from_state="mfa required" if before else "mfa optional",
        to_state="mfa required" if is_mfa_required_for_staff else "mfa optional",
    )
    return policy
