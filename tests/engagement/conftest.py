import pytest

from peermentor.connections.services import connection_propose
from peermentor.engagement.services import connection_activate
from tests.factories import (
    DepartmentFactory,
    PersonFactory,
    ProgramManagerFactory,
    ReadyParticipantFactory,
    SiteFactory,
    UserFactory,
)


@pytest.fixture
def make_participant(personas):
    """An enrolled, ready participant with an account (in `program`, default the personas')."""

    def make(program=None, *, name=None, time_zone="Europe/London", role="peer", **fields):
        user = UserFactory(time_zone=time_zone, **({"full_name": name} if name else {}))
        person = PersonFactory(
            user=user,
            time_zone=time_zone,
            **({"full_name": name} if name else {}),
        )
        return ReadyParticipantFactory(
            program=program or personas.program, person=person, role=role, **fields
        )

    return make


@pytest.fixture
def partner(make_participant):
    """Bea, a data analyst in Finance, Leeds: `participant`'s partner in `pair`."""
    participant = make_participant(name="Bea Partner")
    person = participant.person
    person.job_title = "Data analyst"
    person.department = DepartmentFactory(name="Finance")
    person.site = SiteFactory(name="Leeds")
    person.save()
    return participant


@pytest.fixture
def connect(personas):
    """Propose (and by default start) a connection of the given (participant, role) members."""

    def make(members, *, kind="pair", program=None, active=True):
        program = program or personas.program
        manager = (
            personas.manager
            if program == personas.program
            else (ProgramManagerFactory(program=program).user)
        )
        connection = connection_propose(
            actor=manager,
            program=program,
            members=members,
            kind=kind,
            score=0.9,
            reasons="Both want to learn SQL.",
            source="manual",
        )
        if active:
            connection = connection_activate(actor=manager, connection=connection)
        return connection

    return make


@pytest.fixture
def pair(personas, partner, connect):
    """An active pair of `participant` and Bea; `other_participant` is not in it."""
    return connect([(personas.participant_record, "peer"), (partner, "peer")])
