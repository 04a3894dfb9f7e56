"""Helpers the enrollment services share: locking a participant and checking their status."""

from collections.abc import Sequence

from django.core.exceptions import PermissionDenied

from peermentor.accounts.models import User
from peermentor.core.errors import ApplicationError
from peermentor.enrollment import permissions
from peermentor.enrollment.models import ACTIVE_STATUSES, Participant


def _locked(participant: Participant) -> Participant:
    """Re-read `participant` under a row lock, so two requests cannot both change it."""
    return (
        Participant.objects.select_for_update(of=("self",))
        .select_related("program", "person", "person__manager", "person__user", "track")
        .get(pk=participant.pk)
    )


def _require_status(participant: Participant, statuses: Sequence[str], message: str) -> None:
    if participant.status not in statuses:
        raise ApplicationError(message, status=409)


def _require_own_active(actor: User, participant: Participant) -> None:
    if not permissions.is_own_participation(actor, participant):
        raise PermissionDenied("Only the participant can do this.")
    _require_status(
        participant, ACTIVE_STATUSES, "This participation has ended; enroll again to continue."
    )
