import os
from pathlib import Path

import pytest

from peermentor.env import env_bool

# Playwright's sync API runs an event loop in the test thread; the ORM calls the tests make
# around it are still synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if not CHROMIUM.exists():
        pytest.fail(
            "Debian's chromium is missing: `make test` installs it (apt-get install chromium)"
        )
    return {
        **browser_type_launch_args,
        "executable_path": str(CHROMIUM),
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ],
    }


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix):
    """Build SQLite test databases from the models instead of running every migration (about
    20 s per xdist worker). Nothing is lost: `make test` first checks that the migrations
    match the models (makemigrations --check), and CI migrates on both databases (.ci/run sets
    PEERMENTOR_TEST_MIGRATE=true for SQLite; PostgreSQL migrates by default). =false skips the
    migrations on PostgreSQL as well, for quick local runs."""
    from django.conf import settings

    database = settings.DATABASES["default"]
    is_sqlite = database["ENGINE"] == "django.db.backends.sqlite3"
    if not env_bool("PEERMENTOR_TEST_MIGRATE", default=not is_sqlite):
        database.setdefault("TEST", {})["MIGRATE"] = False


@pytest.fixture
def migrated_database(django_db_setup):
    """For a test that runs migrations itself: skipped where the test database was built from
    the models (local SQLite runs); CI migrates on both databases."""
    from django.db import connection

    if connection.settings_dict["TEST"].get("MIGRATE", True) is False:
        pytest.skip("needs a migrated test database: PEERMENTOR_TEST_MIGRATE=true")


@pytest.fixture(autouse=True)
def _email_in_memory(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


class Personas:
    """The named people every permission test uses (healthchecks-style personas).

    - admin: organisation administrator
    - manager: program manager of `program`
    - other_manager: program manager of `other_program` only
    - participant / other_participant: enrolled in `program`
    - outsider: signed-in employee with no role in `program`
    """

    def __init__(self) -> None:
        from tests.factories import (
            ParticipantFactory,
            PersonFactory,
            ProgramFactory,
            ProgramManagerFactory,
            UserFactory,
        )

        self.program = ProgramFactory(name="Skills Exchange")
        self.other_program = ProgramFactory(name="Other Program")
        self.admin = UserFactory(email="admin@example.com", is_org_admin=True)
        self.manager = ProgramManagerFactory(program=self.program).user
        self.other_manager = ProgramManagerFactory(program=self.other_program).user
        self.participant_record = ParticipantFactory(program=self.program)
        self.participant = self.participant_record.person.user
        self.other_participant_record = ParticipantFactory(program=self.program)
        self.other_participant = self.other_participant_record.person.user
        self.outsider = UserFactory(email="outsider@example.com")
        PersonFactory(user=self.outsider)

    def user(self, role: str):
        return None if role == "anonymous" else getattr(self, role)


ROLES = ["anonymous", "outsider", "participant", "other_manager", "manager", "admin"]


@pytest.fixture
def personas(db) -> Personas:
    return Personas()


@pytest.fixture(autouse=True)
def _patient_browser(request):
    """Give pages time on a busy CI machine: a slow page is not a broken one."""
    if "page" in request.fixturenames:
        from playwright.sync_api import expect

        expect.set_options(timeout=20_000)
        request.getfixturevalue("page").set_default_timeout(30_000)
    yield
