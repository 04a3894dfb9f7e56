"""The account's part of a subject-access or erasure request (see core/privacy.py).

Password reset requests are stored only as keyed hashes of the address (accounts/services.py),
which name nobody; they are not part of the export and expire within the hour.
"""

from typing import Any

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.socialaccount.models import SocialAccount
from django.db import transaction

from peermentor.accounts.models import User
from peermentor.core.privacy import record, records

USER_FIELDS = (
    "id",
    "email",
    "full_name",
    "time_zone",
    "is_org_admin",
    "is_active",
    "date_joined",
    "last_login",
)


def personal_data(*, user: User) -> dict[str, Any]:
    """The account `user` signs in with, the identity provider accounts linked to it (with
    the claims the provider sent) and its second factors (their kinds and dates: never the
    secrets)."""
    return {
        "account": [record(user, USER_FIELDS)],
        "sign_in_identities": records(
            SocialAccount.objects.filter(user=user).order_by("pk"),
            ("provider", "uid", "date_joined", "last_login", "extra_data"),
        ),
        "second_factors": records(
            Authenticator.objects.filter(user=user).order_by("pk"),
            ("type", "created_at", "last_used_at"),
        ),
    }


@transaction.atomic
def personal_data_erase(*, user: User, full_name: str, email: str) -> None:
    """Afterwards the account carries `full_name` and `email` (a placeholder), cannot sign in
    (inactive, unusable password: Django refuses inactive users on every request, so sessions
    already open end too) and holds no role."""
    user.full_name = full_name
    user.email = email
    user.set_unusable_password()
    user.is_active = False
    user.is_org_admin = False
    user.is_staff = False
    user.is_superuser = False
    user.save(
        update_fields=[
            "full_name",
            "email",
            "password",
            "is_active",
            "is_org_admin",
            "is_staff",
            "is_superuser",
        ]
    )
    user.groups.clear()
    user.user_permissions.clear()
    # The single sign-on links (and the provider's claims), second factors and allauth's copy
    # of the address go: nothing left can sign in or name the person.
    SocialAccount.objects.filter(user=user).delete()
    Authenticator.objects.filter(user=user).delete()
    EmailAddress.objects.filter(user=user).delete()
