"""`manage.py import_people PATH [--deactivate-missing] [--dry-run]`: the import for cron."""

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from peermentor.core.errors import ApplicationError
from peermentor.people.hr_import import check_export
from peermentor.people.services import ImportRejected, people_import_file


class Command(BaseCommand):
    help = (
        "Import people from an HR export (CSV or XLSX). Every bad row is printed and nothing is "
        "written if there is one; otherwise people are created and updated by external id."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", help="The .csv or .xlsx export.")
        parser.add_argument(
            "--deactivate-missing",
            action="store_true",
            help="Deactivate active people who are not in the file (leavers).",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Check and report; write nothing."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["path"])
        try:
            content = path.read_bytes()
        except OSError as error:
            raise CommandError(f"Cannot read {path}: {error.strerror}") from None
        try:
            if options["dry_run"]:
                _, plan, errors = check_export(file_name=path.name, content=content)
                if errors:
                    raise ImportRejected("", errors=errors)
                counts = plan.preview()
                self.stdout.write(
                    f"Dry run, nothing written: {counts['creates']} to create, "
                    f"{counts['updates']} to update, {counts['unchanged']} unchanged, "
                    f"{counts['missing_active']} active people not in the file"
                    + (" would be deactivated." if options["deactivate_missing"] else ".")
                )
                return
            _, summary = people_import_file(
                actor=None,
                file_name=path.name,
                content=content,
                deactivate_missing=options["deactivate_missing"],
            )
        except ImportRejected as rejected:
            for problem in rejected.errors:
                where = f"line {problem['line']}" + (
                    f", {problem['field']}" if problem["field"] else ""
                )
                self.stderr.write(f"{path.name}: {where}: {problem['message']}")
            raise CommandError(
                f"{len(rejected.errors)} problem(s) in {path.name}; nothing was imported."
            ) from None
        except ApplicationError as error:
            raise CommandError(f"{path.name}: {error.message}") from None
        self.stdout.write(
            self.style.SUCCESS(
                "Imported {created} created, {updated} updated, {unchanged} unchanged, "
                "{deactivated} deactivated; {job_changes} job change(s) recorded.".format(**summary)
            )
        )
