"""Two people racing for the same place: exactly one wins, on a real PostgreSQL.

SQLite serialises every writer (transaction_mode IMMEDIATE), so the race only means something
where rows are locked one by one:
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/test .venv/bin/pytest tests/connections
"""

import time

import pytest
from django.db import connection as default_connection

from peermentor.connections import services
from peermentor.connections.models import Connection, ConnectionMember
from peermentor.connections.services import placing
from peermentor.core.errors import ApplicationError
from tests.concurrency import race
from tests.factories import ParticipantFactory, ProgramFactory, ProgramManagerFactory

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _needs_postgresql():
    if default_connection.vendor != "postgresql":
        pytest.skip("row locks under real concurrency need PostgreSQL (set DATABASE_URL)")


@pytest.fixture
def slow_checks(monkeypatch):
    """Hold each transaction open after it has read the current places, so that without the
    row lock both would see a free place (and only the unique index would stop the second)."""
    real = placing._members_for

    def slowly(**kwargs):
        time.sleep(0.5)
        return real(**kwargs)

    monkeypatch.setattr(placing, "_members_for", slowly)


@pytest.mark.parametrize(
    ("program_format", "kind", "contested_role", "other_role"),
    [
        ("shadowing", "shadowing", "host", "shadow"),
        ("pairs", "pair", "peer", "peer"),
    ],
)
def test_two_proposals_for_the_last_place_one_wins(
    slow_checks, program_format, kind, contested_role, other_role
):
    program = ProgramFactory(format=program_format)
    manager = ProgramManagerFactory(program=program).user
    contested = ParticipantFactory(program=program, role=contested_role, capacity=1)
    others = [ParticipantFactory(program=program, role=other_role) for _ in range(2)]

    def propose(other):
        return lambda: services.connection_propose(
            actor=manager,
            program=program,
            members=[(contested, contested_role), (other, other_role)],
            kind=kind,
            source="manual",
        )

    started = time.monotonic()
    outcomes = race([propose(others[0]), propose(others[1])])

    won = [o for o in outcomes if isinstance(o, Connection)]
    lost = [o for o in outcomes if isinstance(o, ApplicationError)]
    assert (len(won), len(lost)) == (1, 1), outcomes
    # The loser waited for the winner's row lock and then read the committed place: it was
    # refused by the service's check, not by the unique index after both had checked.
    assert "Someone else" not in lost[0].message
    assert "no free place" in lost[0].message or "current connection" in lost[0].message
    assert time.monotonic() - started >= 1.0  # the second waited for the first to commit
    assert ConnectionMember.objects.filter(participant=contested, is_current=True).count() == 1
    assert Connection.objects.count() == 1
