"""Scheduled work for surveys: an adapter the worker runs; `surveys_send_due` is safe to repeat
(see schedules.py for why a re-run sends nothing twice)."""

from typing import Any

from django_tasks import task

from peermentor.surveys.schedules import surveys_send_due


@task()
def send_surveys_task() -> dict[str, Any]:
    """Ask whoever an open survey is due for, tell them, and remind those still to answer."""
    result = surveys_send_due()
    return {
        "invitations_created": result.invitations_created,
        "notified": result.notified,
        "reminded": result.reminded,
    }
