"""Signed invitation links: nothing secret is stored; the signature and its age are the proof."""

from datetime import timedelta

from django.core import signing

from peermentor.core.errors import ApplicationError
from peermentor.enrollment.models import Invitation

SALT = "peermentor.enrollment.invitation"
MAX_AGE = timedelta(days=30)


def invitation_token(invitation: Invitation) -> str:
    return signing.dumps({"invitation": invitation.pk, "person": invitation.person_id}, salt=SALT)


def invitation_from_token(token: str) -> Invitation:
    """The invitation a link names, or ApplicationError: 410 when expired, 404 when invalid."""
    try:
        payload = signing.loads(token, salt=SALT, max_age=MAX_AGE)
    except signing.SignatureExpired:
        raise ApplicationError(
            "This invitation link has expired. Ask the program manager to invite you again.",
            status=410,
        ) from None
    except signing.BadSignature:
        raise ApplicationError("This invitation link is not valid.", status=404) from None
    invitation = (
        Invitation.objects.select_related("program", "person", "person__user", "track")
        .filter(pk=payload.get("invitation"), person_id=payload.get("person"))
        .first()
    )
    if invitation is None:
        raise ApplicationError("This invitation no longer exists.", status=404)
    return invitation
