"""A participant's home page, "my participations" in the API: the next step follows from the
participation's connections, so a matched participant sees their partner by name."""

import pytest
from django.db import connection as db_connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from peermentor.connections.services import connection_propose
from peermentor.engagement.services import connection_activate, connection_complete
from tests.factories import PersonFactory, ReadyParticipantFactory, UserFactory

MINE = "/api/v1/enrollment/participations/mine"


@pytest.fixture
def pair(personas):
    personas.program.status = "running"
    personas.program.save()

    def member(name):
        person = PersonFactory(user=UserFactory(full_name=name), full_name=name)
        return ReadyParticipantFactory(program=personas.program, person=person)

    ana, sean = member("Ana Lopez"), member("Sean Ferguson")
    proposal = connection_propose(
        actor=personas.manager,
        program=personas.program,
        members=[(ana, "peer"), (sean, "peer")],
        kind="pair",
        source="manual",
    )
    return ana, sean, proposal


def test_a_matched_participant_sees_her_partner_state_and_workspace(client, personas, pair):
    ana, _sean, proposal = pair
    client.force_login(ana.person.user)
    page = client.get(reverse("home")).content.decode()
    assert "Sean Ferguson" in page
    assert "waiting for the program team" not in page
    assert "the program team confirms it soon" in page
    assert "waiting for a match" not in page

    connection_activate(actor=personas.manager, connection=proposal)
    page = client.get(reverse("home")).content.decode()
    assert "Matched with:</strong> Sean Ferguson" in page
    assert reverse("workspace", args=[proposal.pk]) in page
    assert "Meet Sean Ferguson" in page
    assert "Ready to match" not in page and "waiting for a match" not in page

    connection_complete(actor=personas.manager, connection=proposal)
    page = client.get(reverse("home")).content.decode()
    assert "has ended: share your reflection" in page


def test_my_participations_api_names_partners_and_the_same_next_step(client, personas, pair):
    ana, _sean, proposal = pair
    connection_activate(actor=personas.manager, connection=proposal)
    client.force_login(ana.person.user)
    item = client.get(MINE).json()["items"][0]
    assert item["connections"] == [
        {
            "id": proposal.pk,
            "kind": "pair",
            "status": "active",
            "partners": ["Sean Ferguson"],
            "url": reverse("workspace", args=[proposal.pk]),
        }
    ]
    assert item["next_step"].startswith("Meet Sean Ferguson")


def test_home_queries_do_not_grow_with_connections(client, personas, pair):
    ana, _sean, proposal = pair
    connection_activate(actor=personas.manager, connection=proposal)
    client.force_login(ana.person.user)

    def count():
        with CaptureQueriesContext(db_connection) as queries:
            assert client.get(reverse("home")).status_code == 200
        return len(queries)

    few = count()
    for _ in range(4):
        other = ReadyParticipantFactory(person__user=UserFactory())
        ReadyParticipantFactory(program=other.program, person=ana.person)
        connection_propose(
            actor=personas.admin,
            program=other.program,
            members=[
                (other, "peer"),
                (other.program.participants.exclude(pk=other.pk).get(), "peer"),
            ],
            kind="pair",
            source="manual",
        )
    assert count() == few
