import pytest

from peermentor.connections.services import connection_activate, connection_propose
from tests.factories import ParticipantFactory, ProgramManagerFactory


@pytest.fixture
def program_manager(personas):
    return personas.manager


@pytest.fixture
def make_peer(personas):
    """A fresh enrolled peer of the personas' program (or of `program`)."""

    def make(program=None, **fields):
        return ParticipantFactory(program=program or personas.program, **fields)

    return make


@pytest.fixture
def make_pair(personas):
    """A pair proposed (and, with active=True, started) by the program's manager."""

    def make(first, second, *, active=True, program=None, **options):
        connection = connection_propose(
            actor=personas.manager
            if program is None
            else ProgramManagerFactory(program=program).user,
            program=program or personas.program,
            members=[(first, "peer"), (second, "peer")],
            kind="pair",
            score=0.9,
            reasons="Both want to learn SQL; different departments.",
            source="manual",
            **options,
        )
        if active:
            connection = connection_activate(actor=personas.admin, connection=connection)
        return connection

    return make
