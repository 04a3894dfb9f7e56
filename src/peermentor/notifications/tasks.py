"""Scheduled work: adapters that the worker runs; each calls one function that is safe to
repeat (see nudges.py for why a re-run sends nothing twice)."""

from typing import Any

from django_tasks import task


@task()
def send_nudges_task() -> dict[str, Any]:
    """Expire help asks, write the reminders due now and send the digests due now."""
    from peermentor.notifications.nudges import nudges_run

    result = nudges_run()
    return {
        "notifications_created": result.notifications_created,
        "digests_sent": result.digests_sent,
        "asks_expired": result.asks_expired,
    }
