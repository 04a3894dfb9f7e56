"""Background work of the matches app: thin adapters that take ids and call the work.

They import execution and notices, not the services package: services enqueue these tasks, so
a task module importing services would make the two import each other.
"""

from django_tasks import task

from peermentor.matches import execution, notices


@task()
def match_run_task(run_id: int) -> str:
    return execution.match_run_execute(run_id=run_id)


@task()
def match_notify_task(run_id: int, member_ids: list[int]) -> int:
    return notices.match_notifications_send(run_id=run_id, member_ids=member_ids)
