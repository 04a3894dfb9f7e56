"""Background work of notifications: an adapter the worker runs (`flows.tasks.periodic_tasks`
schedules it); `emails_retry` is safe to repeat."""

from typing import Any

from django_tasks import task

from peermentor.notifications.email import emails_retry


@task()
def emails_retry_task() -> dict[str, Any]:
    """Send the e-mails whose earlier attempt failed and whose next attempt is due."""
    return {"emails_sent": emails_retry()}
