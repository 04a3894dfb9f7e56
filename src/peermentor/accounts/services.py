from django.db import transaction

from peermentor.accounts.models import User


@transaction.atomic
def user_update_preferences(*, actor: User, full_name: str, time_zone: str) -> User:
    """After the call the user's display name and time zone are saved."""
    actor.full_name = full_name
    actor.time_zone = time_zone
    actor.full_clean(exclude=["password"])
    actor.save(update_fields=["full_name", "time_zone"])
    return actor
