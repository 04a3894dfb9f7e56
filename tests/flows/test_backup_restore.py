"""Backup and restore round trip (docs/privacy.md, "Backups"): pg_dump of a database with the
demo organisation loaded, pg_restore into a new database, and the app works on the copy.

PostgreSQL only, and slow-ish (the demo load takes most of it):
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/NAME \
        .venv/bin/pytest tests/flows/test_backup_restore.py
"""

import os
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest
from django.db import connection as default_connection
from django.db import connections
from django.urls import reverse

from peermentor.accounts.models import User
from peermentor.connections.models import Connection
from peermentor.core.models import AuditEvent
from peermentor.demo.builder import demo_load
from peermentor.demo.directory import ADMIN
from peermentor.engagement.models import Note
from peermentor.people.models import Person
from peermentor.surveys.models import SurveyAnswer

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]

COUNTED = (Person, User, Connection, Note, SurveyAnswer, AuditEvent)
TIMEOUT_SECONDS = 120


@pytest.fixture(autouse=True)
def _needs_postgresql():
    if default_connection.vendor != "postgresql":
        pytest.skip("pg_dump and pg_restore need PostgreSQL (set DATABASE_URL)")
    if not (shutil.which("pg_dump") and shutil.which("pg_restore")):
        pytest.skip("pg_dump and pg_restore are not installed")


def _libpq_env(settings_dict: dict) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "PGHOST": str(settings_dict.get("HOST") or "127.0.0.1"),
            "PGPORT": str(settings_dict.get("PORT") or 5432),
            "PGUSER": str(settings_dict.get("USER") or "postgres"),
        }
    )
    if settings_dict.get("PASSWORD"):
        env["PGPASSWORD"] = str(settings_dict["PASSWORD"])
    return env


def _run(*command: str, env: dict[str, str]) -> None:
    subprocess.run(command, env=env, check=True, capture_output=True, timeout=TIMEOUT_SECONDS)


def test_a_dump_of_the_demo_restores_into_a_working_database(client, tmp_path: Path):
    demo_load()
    before = {model.__name__: model.objects.count() for model in COUNTED}
    settings_dict = default_connection.settings_dict
    env = _libpq_env(settings_dict)
    dump = tmp_path / "peermentor.dump"
    restored_name = f"restored_{uuid.uuid4().hex[:12]}"

    _run("pg_dump", "--format=custom", f"--file={dump}", settings_dict["NAME"], env=env)
    _run("createdb", restored_name, env=env)
    original_name = settings_dict["NAME"]
    try:
        _run("pg_restore", "--no-owner", f"--dbname={restored_name}", str(dump), env=env)
        # Point the app at the copy, as a restored deployment would be.
        default_connection.close()
        settings_dict["NAME"] = restored_name
        after = {model.__name__: model.objects.count() for model in COUNTED}
        assert after == before
        assert before["Person"] > 300
        client.force_login(User.objects.get(email=ADMIN.email))
        for url in (reverse("home"), reverse("person_list"), reverse("audit_log")):
            assert client.get(url).status_code == 200, url
    finally:
        default_connection.close()
        settings_dict["NAME"] = original_name
        connections["default"].close()
        _run("dropdb", "--if-exists", "--force", restored_name, env=env)
