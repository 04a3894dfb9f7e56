"""`manage.py send_nudges`: run the reminders now, or hand them to the task worker.

`manage.py run_periodic` schedules it with the other periodic jobs (docs/notifications.md);
this command runs it alone, by hand.
Running it more often, twice, or on two machines at once is harmless.
"""

from peermentor.core.commands import JobCommand
from peermentor.flows.tasks import send_nudges_task


class Command(JobCommand):
    help = (
        "Expire old help-network asks, write the reminders that are due (stalled connections, "
        "waiting requests, plans behind, ends coming up, check-ins due) and e-mail the digests "
        "that are due. Safe to repeat: nothing is sent twice."
    )
    task = send_nudges_task

    summary = (
        "{notifications_created} new notifications, {digests_sent} digests e-mailed, "
        "{asks_expired} help asks expired."
    )
