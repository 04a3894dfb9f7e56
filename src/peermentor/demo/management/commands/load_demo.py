from django.core.management.base import BaseCommand

from peermentor.demo.builder import DEMO_PASSWORD, demo_load


class Command(BaseCommand):
    help = (
        "Load the demo organisation (deterministic: 300+ people, 8 departments, 4 sites, one "
        "program of each format). Does nothing if it is already loaded."
    )

    def handle(self, *args: object, **options: object) -> None:
        summary = demo_load()
        if summary.already_loaded:
            self.stdout.write("The demo organisation is already loaded.")
        else:
            self.stdout.write(self.style.SUCCESS(summary.describe()))
        self.stdout.write(
            f"Sign in: admin@example.org or ana@example.org, password {DEMO_PASSWORD}"
        )
