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


@task()
def emails_retry_task() -> dict[str, Any]:
    """Send the e-mails whose earlier attempt failed and whose next attempt is due."""
    from peermentor.notifications.email import emails_retry

    return {"emails_sent": emails_retry()}


def periodic_tasks() -> list[tuple[str, Any]]:
    """Every job that must run on a schedule, in the order `run_periodic` runs them: each is a
    task whose body is safe to repeat, so a round that runs twice, late, or on two machines at
    once sends nothing twice. Expiry goes first, so that the nudges that follow do not remind
    anyone of a request that has just expired.

    A new periodic job is added here, and nowhere else (`manage.py run_periodic`)."""
    from peermentor.selfmatch.tasks import requests_expire_task
    from peermentor.surveys.tasks import send_surveys_task

    return [
        ("request expiry", requests_expire_task),
        ("nudges", send_nudges_task),
        ("surveys", send_surveys_task),
        ("e-mail retries", emails_retry_task),
    ]
