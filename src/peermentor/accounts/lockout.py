"""What django-axes counts sign-in failures under (see AXES_* in settings)."""

from typing import Any

from django.http import HttpRequest


def lockout_username(request: HttpRequest, credentials: dict[str, Any] | None) -> str | None:
    """The account a sign-in attempt is for, spelled as the account is stored.

    The sign-in form posts `username` (the e-mail address) while the user model's
    USERNAME_FIELD is `email`; axes would read the latter and count every failure under an
    empty name, so the right password still got in. Addresses are stored lower-cased, so
    `Ana@Example.org ` and `ana@example.org` are one account to the lock as to sign-in.
    """
    source = credentials if credentials is not None else getattr(request, "POST", {})
    value = source.get("username") if source else None
    if not isinstance(value, str) or not value.strip():
        return None
    return value.strip().lower()
