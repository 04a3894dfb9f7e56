"""Background work of self-match: thin adapters that call a service.

The e-mail task (`request_notices_task`) lives in `selfmatch.notices`, beside the e-mail it
sends: the services enqueue it, and this module imports the services.
"""

from django_tasks import task

from peermentor.selfmatch import services


@task()
def requests_expire_task() -> int:
    """Expire requests past their date; `manage.py run_periodic` queues it every round
    (`flows.tasks.periodic_tasks`)."""
    return services.requests_expire()
