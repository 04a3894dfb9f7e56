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


@task()
def send_program_surveys_task(program_id: int) -> dict[str, Any]:
    """What send_surveys_task does, for one program now: a closing program's closing survey
    reaches its members at once instead of at the next periodic round."""
    result = surveys_send_due(program_id=program_id)
    return {
        "invitations_created": result.invitations_created,
        "notified": result.notified,
        "reminded": result.reminded,
    }
