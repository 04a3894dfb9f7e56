"""Background work of self-match: thin adapters that take ids and call a service."""

from django_tasks import task

from peermentor.matches import request_services


@task()
def request_notices_task(request_ids: list[int]) -> int:
    return request_services.request_notices_send(request_ids=request_ids)


@task()
def requests_expire_task() -> int:
    """Expire requests past their date; `manage.py run_periodic` queues it every round
    (`notifications.tasks.periodic_tasks`)."""
    return request_services.requests_expire()
