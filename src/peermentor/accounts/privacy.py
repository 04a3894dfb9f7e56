"""The account's part of a subject-access or erasure request (see core/privacy.py).

Password reset requests are stored only as keyed hashes of the address (accounts/services.py),
which name nobody; they are not part of the export and expire within the hour.
"""

from typing import Any

from django.db import transaction

from peermentor.accounts.models import User
from peermentor.core.privacy import record

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
    """The account `user` signs in with (no query: the row is at hand)."""
    return {"account": [record(user, USER_FIELDS)]}


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
