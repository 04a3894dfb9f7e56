"""Signed one-click unsubscribe tokens: a link in an e-mail works without signing in.

The token carries the user's id and a fingerprint of their e-mail address, signed with
SECRET_KEY; it does not expire (an unsubscribe link must keep working in old e-mails), but it
stops working if the address changes, so a reassigned address cannot be unsubscribed by
someone holding the old owner's e-mail.
"""

import hashlib
from typing import Any

from django.contrib.auth import get_user_model
from django.core import signing

from peermentor.accounts.models import User

SALT = "peermentor.notifications.unsubscribe"


def _fingerprint(email: str) -> str:
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()[:12]


def unsubscribe_token(user: User) -> str:
    return signing.dumps({"u": user.pk, "e": _fingerprint(user.email)}, salt=SALT)


def user_for_unsubscribe_token(token: str) -> Any:
    """The active user the token was made for, or None for a tampered or stale token."""
    try:
        data = signing.loads(str(token), salt=SALT)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("u"), int):
        return None
    user = get_user_model().objects.filter(pk=data["u"], is_active=True).first()
    if user is None or data.get("e") != _fingerprint(user.email):
        return None
    return user
