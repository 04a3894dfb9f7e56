"""`manage.py run_periodic`: the one schedule of the periodic work.

Every job listed by `flows.tasks.periodic_tasks` (self-match request expiry, the nudges
and digests, the surveys that fall due) is handed to the task worker (db_worker), or with
`--now` run in this process:

    manage.py run_periodic                 # a long-running process: a round every 15 minutes
    manage.py run_periodic --every 300     # ... every 5 minutes
    manage.py run_periodic --once          # one round, for cron or a systemd timer
    manage.py run_periodic --once --now    # one round run here, without a worker

Each job is safe to repeat, so a round that runs twice, late, or on two machines at once sends
nothing twice. A job that fails is logged and the others still run; the loop carries on with
the next round, and `--once` ends with an error once every job has had its turn.
"""

from __future__ import annotations

import logging
import signal
import threading
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import close_old_connections, connection
from django.utils import timezone

from peermentor.flows.tasks import periodic_tasks

logger = logging.getLogger(__name__)

DEFAULT_EVERY_SECONDS = 900


def _summary(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{key.replace('_', ' ')} {count}" for key, count in value.items())
    return str(value)


class Command(BaseCommand):
    help = (
        "Run every periodic job (self-match request expiry, nudges and e-mail digests, surveys "
        "due, e-mail retries, retention rules): hand them to the task worker every --every "
        "seconds, or once with --once; with --now run them in this process. Safe to repeat: "
        "nothing is sent twice."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--once",
            action="store_true",
            help="One round, then exit (for cron or a systemd timer).",
        )
        parser.add_argument(
            "--now",
            action="store_true",
            help="Run the jobs in this process instead of queueing them for db_worker.",
        )
        parser.add_argument(
            "--every",
            type=int,
            default=DEFAULT_EVERY_SECONDS,
            help=f"Seconds between rounds without --once (default {DEFAULT_EVERY_SECONDS}).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        every = options["every"]
        if every < 1:
            raise CommandError("--every must be at least 1 second.")
        if options["once"]:
            failed = self._round(now=options["now"])
            if failed:
                raise CommandError(f"Failed: {', '.join(failed)} (see the log above).")
            return
        stop = threading.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: stop.set())
        mode = "running" if options["now"] else "queueing"
        self.stdout.write(f"Periodic jobs: {mode} a round every {every} seconds (Ctrl-C stops).")
        while not stop.is_set():
            self._round(now=options["now"])
            # A connection held across a long sleep may have been closed by the server. Not
            # inside a caller's transaction (a test's): closing would end it.
            if not connection.in_atomic_block:
                close_old_connections()
            stop.wait(every)

    def _round(self, *, now: bool) -> list[str]:
        """Queue (or run) every periodic job once; write one line; return the jobs that
        failed."""
        done: list[str] = []
        failed: list[str] = []
        for label, task in periodic_tasks():
            try:
                if now:
                    done.append(f"{label}: {_summary(task.call())}")
                else:
                    done.append(f"{label} {task.enqueue().id}")
            except Exception:
                logger.exception("Periodic job %r failed", label)
                failed.append(label)
        verb = "ran" if now else "queued"
        line = f"{timezone.now():%Y-%m-%d %H:%M:%S} UTC {verb} " + "; ".join(done)
        if failed:
            line += f"; FAILED {', '.join(failed)}"
        self.stdout.write(line)
        self.stdout.flush()
        return failed
