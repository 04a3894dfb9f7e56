"""Self-match under real concurrency, on PostgreSQL: accepts and sends racing for one place.

SQLite serialises every writer, so these races only mean something where rows are locked one
by one:
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/test \
        .venv/bin/pytest tests/matches/test_requests_concurrency.py
"""

import time

import pytest
from django.db import connection as default_connection

from peermentor.connections.models import Connection, ConnectionMember
from peermentor.connections.services import placing
from peermentor.core.errors import ApplicationError
from peermentor.selfmatch import services
from peermentor.selfmatch.models import MatchRequest, SelfMatchSettings
from peermentor.selfmatch.services import asking
from tests.concurrency import race
from tests.selfmatch.world import add_ready, self_match_world, send, user_of

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _needs_postgresql():
    if default_connection.vendor != "postgresql":
        pytest.skip("row locks under real concurrency need PostgreSQL (set DATABASE_URL)")


@pytest.fixture
def slow_placement(monkeypatch):
    """Hold each accept open after it has read the current places, so that without the row
    locks both would see a free place."""
    real = placing._members_for

    def slowly(**kwargs):
        time.sleep(0.4)
        return real(**kwargs)

    monkeypatch.setattr(placing, "_members_for", slowly)


@pytest.fixture
def slow_counts(monkeypatch):
    """Hold each send open after it has checked the room of the two people."""
    real = asking._current_places

    def slowly(ids):
        result = real(ids)
        time.sleep(0.4)
        return result

    monkeypatch.setattr(asking, "_current_places", slowly)


def test_two_recipients_accept_the_same_requester_at_once_one_connection(slow_placement):
    world = self_match_world(people=3)
    ana, ben, cleo = world.participants
    to_ben = send(world, ana, ben)
    to_cleo = send(world, ana, cleo)

    outcomes = race(
        [
            lambda: services.request_accept(actor=user_of(ben), request=to_ben),
            lambda: services.request_accept(actor=user_of(cleo), request=to_cleo),
        ]
    )

    accepted = [o for o in outcomes if not isinstance(o, Exception)]
    refused = [o for o in outcomes if isinstance(o, Exception)]
    assert len(accepted) == 1 and accepted[0].status == "accepted", outcomes
    assert len(refused) == 1 and isinstance(refused[0], ApplicationError), outcomes
    assert Connection.objects.count() == 1
    assert ConnectionMember.objects.filter(participant=ana, is_current=True).count() == 1
    statuses = sorted(MatchRequest.objects.values_list("status", flat=True))
    assert statuses == ["accepted", "cancelled"]


def test_a_host_with_one_place_accepting_twice_at_once_keeps_the_capacity(slow_placement):
    world = self_match_world(format="shadowing", people=0)
    host = add_ready(world, "Host", role="host", capacity=1)
    first = send(world, add_ready(world, "Shadow A", role="shadow"), host)
    second = send(world, add_ready(world, "Shadow B", role="shadow"), host)

    outcomes = race(
        [
            lambda: services.request_accept(actor=user_of(host), request=first),
            lambda: services.request_accept(actor=user_of(host), request=second),
        ]
    )

    assert sum(not isinstance(o, Exception) for o in outcomes) == 1, outcomes
    assert Connection.objects.filter(status="active").count() == 1
    assert ConnectionMember.objects.filter(participant=host, is_current=True).count() == 1


def test_a_host_with_two_places_takes_exactly_two_of_three_accepted_at_once(slow_placement):
    world = self_match_world(format="shadowing", people=0)
    SelfMatchSettings.objects.create(program=world.program, max_pending_incoming=5)
    host = add_ready(world, "Host", role="host", capacity=2)
    requests = [send(world, add_ready(world, f"Shadow {i}", role="shadow"), host) for i in range(3)]

    race([(lambda r=r: services.request_accept(actor=user_of(host), request=r)) for r in requests])

    assert Connection.objects.filter(status="active").count() == 2
    assert ConnectionMember.objects.filter(participant=host, is_current=True).count() == 2
    assert sorted(MatchRequest.objects.values_list("status", flat=True)) == [
        "accepted",
        "accepted",
        "cancelled",
    ]


def test_sends_at_once_never_pass_the_pending_cap(slow_counts):
    world = self_match_world(people=5)
    SelfMatchSettings.objects.create(program=world.program, max_pending_incoming=2)
    popular = world.participants[0]
    send(world, world.participants[1], popular)

    outcomes = race(
        [(lambda asker=asker: send(world, asker, popular)) for asker in world.participants[2:5]]
    )

    assert sum(not isinstance(o, Exception) for o in outcomes) == 1, outcomes
    assert MatchRequest.objects.filter(recipient=popular, status="pending").count() == 2


def test_two_people_asking_each_other_at_once_make_one_request(slow_counts):
    world = self_match_world(people=2)
    ana, ben = world.participants

    outcomes = race([lambda: send(world, ana, ben), lambda: send(world, ben, ana)])

    assert sum(not isinstance(o, Exception) for o in outcomes) == 1, outcomes
    assert MatchRequest.objects.filter(status="pending").count() == 1
