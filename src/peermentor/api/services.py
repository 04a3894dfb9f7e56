import secrets

from django.db import transaction
from django.utils import timezone

from peermentor.accounts.models import User
from peermentor.api.models import ApiToken, hash_token
from peermentor.core.errors import ApplicationError
from peermentor.core.services import audit_record

TOKEN_PREFIX = "pm_"


@transaction.atomic
def api_token_create(*, actor: User, name: str) -> tuple[ApiToken, str]:
    """Create a token for the actor; returns it and the raw key, which is never stored."""
    name = name.strip()
    if not name:
        raise ApplicationError(
            "Give the token a name, e.g. the script that will use it.", field="name"
        )
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user=actor, name=name, key_hash=hash_token(raw), prefix=raw[:10])
    token.full_clean()
    token.save()
    audit_record(actor=actor, action="api_token.create", target=token)
    return token, raw


@transaction.atomic
def api_token_revoke(*, actor: User, token: ApiToken) -> ApiToken:
    """After the call the token no longer authenticates anyone."""
    if token.user_id != actor.pk:
        raise ApplicationError("That token is not yours.", status=404)
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit_record(actor=actor, action="api_token.revoke", target=token)
    return token


def api_token_authenticate(raw: str) -> User | None:
    token = (
        ApiToken.objects.select_related("user")
        .filter(key_hash=hash_token(raw), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if token is None:
        return None
    # One cheap UPDATE keeps "last used" useful without a write on every single request.
    now = timezone.now()
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user
