"""What the commands that run one periodic job by hand share (`send_nudges`, `send_surveys`)."""

from typing import Any

from django.core.management.base import BaseCommand, CommandParser


class JobCommand(BaseCommand):
    """Run one periodic job in this process, or queue it for the task worker with --enqueue.

    A subclass names the task and says in words what a run did: `summary` is formatted with
    the task's return value (a dict). `manage.py run_periodic` runs every such job on a
    schedule; these commands run one alone."""

    task: Any
    summary: str

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--enqueue",
            action="store_true",
            help="Queue the work for the task worker (db_worker) instead of running it here.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["enqueue"]:
            queued = self.task.enqueue()
            self.stdout.write(f"Queued for the task worker: {queued.id}")
            return
        self.stdout.write(self.summary.format(**self.task.call()))
