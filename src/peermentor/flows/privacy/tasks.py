from typing import Any

from django_tasks import task

from peermentor.flows.privacy.retention import retention_apply


@task()
def apply_retention_task() -> dict[str, Any]:
    """Apply the retention rules (flows/privacy/retention.py); safe to run again."""
    result = retention_apply()
    return {
        "people_erased": result.people_erased,
        "people_skipped": result.people_skipped,
        "notes_deleted": result.notes_deleted,
    }
