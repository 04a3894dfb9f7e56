from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from peermentor.flows.privacy.export import person_export
from peermentor.people.models import Person


class Command(BaseCommand):
    help = (
        "Print everything stored about one person as JSON, for a subject-access request the "
        "person cannot download themselves (docs/privacy.md). Without --complete it leaves out "
        "what organisation admins never read, as the admin's export page does."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("person_id", type=int, help="The person's id (in the directory URL).")
        parser.add_argument(
            "--complete",
            action="store_true",
            help="Include private notes, reflections, check-ins and survey answers.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        person = Person.objects.filter(pk=options["person_id"]).first()
        if person is None:
            raise CommandError(f"No person with id {options['person_id']}.")
        data = person_export(viewer=None, person=person, complete=options["complete"])
        self.stdout.write(data.as_json())
