"""The periodic schedule: every job that must run on a schedule, as tasks the worker runs.

Each job's body is safe to repeat, so a round that runs twice, late, or on two machines at once
sends nothing twice (see nudges.py, surveys/schedules.py, selfmatch's expiry).
"""

from typing import Any

from django_tasks import task

from peermentor.flows import nudges
from peermentor.flows.leavers import people_leave
from peermentor.flows.privacy.retention import retention_apply
from peermentor.flows.program_close import planned_ends_run
from peermentor.notifications.tasks import emails_retry_task
from peermentor.selfmatch.tasks import requests_expire_task
from peermentor.surveys.tasks import send_surveys_task


@task()
def send_nudges_task() -> dict[str, Any]:
    """Expire help asks, write the reminders due now and send the digests due now."""
    result = nudges.nudges_run()
    return {
        "notifications_created": result.notifications_created,
        "digests_sent": result.digests_sent,
        "asks_expired": result.asks_expired,
    }


@task()
def leavers_task() -> dict[str, Any]:
    """People the directory marked inactive: accounts closed, participations withdrawn,
    connections ended, partners told (flows/leavers.py). Nothing to do the second time."""
    return {"participations_withdrawn": people_leave(actor=None)}


@task()
def planned_ends_task() -> dict[str, Any]:
    """Complete connections past their planned end; close programs past theirs."""
    result = planned_ends_run()
    return {
        "connections_completed": result.connections_completed,
        "programs_closed": result.programs_closed,
    }


@task()
def apply_retention_task() -> dict[str, Any]:
    """Apply the retention rules (flows/privacy/retention.py): erase leavers and delete private
    notes past their time. A second run finds nothing more to do."""
    result = retention_apply()
    return {
        "people_erased": result.people_erased,
        "people_skipped": result.people_skipped,
        "notes_deleted": result.notes_deleted,
    }


def periodic_tasks() -> list[tuple[str, Any]]:
    """Every job that must run on a schedule, in the order `run_periodic` runs them. Expiry goes
    first, so that the nudges that follow do not remind anyone of a request that has just
    expired.

    A new periodic job is added here, and nowhere else (`manage.py run_periodic`)."""
    return [
        ("request expiry", requests_expire_task),
        ("leavers", leavers_task),
        ("planned ends", planned_ends_task),
        ("nudges", send_nudges_task),
        ("surveys", send_surveys_task),
        ("e-mail retries", emails_retry_task),
        ("retention", apply_retention_task),
    ]
