"""`manage.py send_nudges`: run the reminders now, or hand them to the task worker.

`manage.py run_periodic` schedules it with the other periodic jobs (docs/notifications.md);
this command runs it alone, by hand.
Running it more often, twice, or on two machines at once is harmless.
"""

from typing import Any

from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = (
        "Expire old help-network asks, write the reminders that are due (stalled connections, "
        "waiting requests, plans behind, ends coming up, check-ins due) and e-mail the digests "
        "that are due. Safe to repeat: nothing is sent twice."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--enqueue",
            action="store_true",
            help="Queue the work for the task worker (db_worker) instead of running it here.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        from peermentor.notifications.tasks import send_nudges_task

        if options["enqueue"]:
            result = send_nudges_task.enqueue()
            self.stdout.write(f"Queued for the task worker: {result.id}")
            return
        from peermentor.notifications.nudges import nudges_run

        outcome = nudges_run()
        self.stdout.write(
            f"{outcome.notifications_created} new notifications, "
            f"{outcome.digests_sent} digests e-mailed, "
            f"{outcome.asks_expired} help asks expired."
        )
