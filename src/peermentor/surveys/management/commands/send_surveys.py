"""`manage.py send_surveys`: send the surveys that are due now, or hand that to the worker.

Schedule it hourly (cron, a systemd timer, any scheduler), next to `send_nudges`; docs/surveys.md
shows how. Running it more often, twice, or on two machines at once is harmless.
"""

from typing import Any

from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = (
        "Invite participants to the open surveys that are due (on a date, at enrollment, or "
        "relative to a connection's start and end), notify them, and remind those who have "
        "not answered. Safe to repeat: nothing is sent twice."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--enqueue",
            action="store_true",
            help="Queue the work for the task worker (db_worker) instead of running it here.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        from peermentor.surveys.tasks import send_surveys_task

        if options["enqueue"]:
            result = send_surveys_task.enqueue()
            self.stdout.write(f"Queued for the task worker: {result.id}")
            return
        from peermentor.surveys.schedules import surveys_send_due

        outcome = surveys_send_due()
        self.stdout.write(
            f"{outcome.invitations_created} invitations, {outcome.notified} people notified, "
            f"{outcome.reminded} reminders."
        )
