"""Background work of the matches app: thin adapters that take ids and call a service."""

from django_tasks import task

from peermentor.matches import services


@task()
def match_run_task(run_id: int) -> str:
    return services.match_run_execute(run_id=run_id)


@task()
def match_notify_task(run_id: int, member_ids: list[int]) -> int:
    return services.match_notifications_send(run_id=run_id, member_ids=member_ids)
