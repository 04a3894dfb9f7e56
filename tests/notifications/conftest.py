import datetime

import pytest
from django.utils import timezone

from peermentor.connections.models import Connection
from peermentor.connections.services import connection_propose
from peermentor.engagement.services import connection_activate
from tests.factories import DepartmentFactory, PersonFactory, ReadyParticipantFactory, UserFactory

# Every nudge test runs "now" at 10:00 UTC: after the digest hour for people in UTC and London.
NOW = timezone.now().replace(hour=10, minute=0, second=0, microsecond=0)


@pytest.fixture
def now():
    return NOW


@pytest.fixture
def running(personas):
    personas.program.status = "running"
    personas.program.save()
    return personas.program


@pytest.fixture
def make_member(personas):
    """An enrolled participant of the personas' program with an account in `time_zone`."""

    def make(name, *, time_zone="UTC"):
        user = UserFactory(full_name=name, time_zone=time_zone)
        person = PersonFactory(
            user=user, full_name=name, department=DepartmentFactory(name="Finance")
        )
        return ReadyParticipantFactory(program=personas.program, person=person)

    return make


@pytest.fixture
def make_connection(personas, running):
    """An active pair started `days_ago` days before NOW (set straight on the row: the
    services stamp the real time)."""

    def make(first, second, *, days_ago=30, planned_end_on=None):
        connection = connection_propose(
            actor=personas.manager,
            program=personas.program,
            members=[(first, "peer"), (second, "peer")],
            kind="pair",
            source="manual",
        )
        connection_activate(actor=personas.manager, connection=connection)
        Connection.objects.filter(pk=connection.pk).update(
            started_at=NOW - datetime.timedelta(days=days_ago), planned_end_on=planned_end_on
        )
        connection.refresh_from_db()
        return connection

    return make
