"""The keyed hashes that let an author find their anonymous response and nobody else.

Both are HMAC-SHA256 with the server's SECRET_KEY (Django's `salted_hmac`, one salt each).
Someone who reads the database but not the secret cannot turn a response back into an invitation
or a person; the server can, which is how the author sees and changes their own answers. Keys
made with a secret now in SECRET_KEY_FALLBACKS are still found, so rotating the secret does not
cut authors off from their answers (the next change re-keys the row).
"""

from django.conf import settings
from django.utils.crypto import salted_hmac

RESPONDENT_SALT = "peermentor.surveys.respondent"
PERSON_SALT = "peermentor.surveys.person"


def _secrets() -> list[str]:
    return [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]


def _digest(salt: str, value: str, secret: str) -> str:
    return salted_hmac(salt, value, secret=secret, algorithm="sha256").hexdigest()


def respondent_key(invitation_id: int) -> str:
    """The key an anonymous response to invitation `invitation_id` is stored under."""
    return _digest(RESPONDENT_SALT, str(invitation_id), settings.SECRET_KEY)


def respondent_keys(invitation_id: int) -> list[str]:
    """Every key the response may carry: the current secret's first, then the fallbacks'."""
    return [_digest(RESPONDENT_SALT, str(invitation_id), secret) for secret in _secrets()]


def person_number(program_id: int, participant_id: int) -> int:
    """One pseudonym per person and program (60 bits: collisions are negligible at any program
    size, and it fits a signed 64-bit column): counts people, pairs before and after."""
    digest = _digest(PERSON_SALT, f"{program_id}:{participant_id}", settings.SECRET_KEY)
    return int(digest[:15], 16)
