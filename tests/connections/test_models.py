"""The rules hold in the database even when the services are bypassed."""

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from peermentor.connections.models import Block, Reflection
from tests.factories import (
    BlockFactory,
    ConnectionFactory,
    ConnectionMemberFactory,
    ParticipantFactory,
    PersonFactory,
    ProgramFactory,
)

pytestmark = pytest.mark.django_db


def test_a_second_current_connection_for_a_peer_is_refused():
    member = ConnectionMemberFactory()
    other = ConnectionFactory(program=member.connection.program)
    with pytest.raises(IntegrityError), transaction.atomic():
        ConnectionMemberFactory(connection=other, participant=member.participant, slot=2)


def test_a_past_connection_does_not_count():
    member = ConnectionMemberFactory(is_current=False)
    other = ConnectionFactory(program=member.connection.program)
    ConnectionMemberFactory(connection=other, participant=member.participant)


def test_a_host_holds_each_slot_once():
    program = ProgramFactory(format="shadowing")
    host = ParticipantFactory(program=program, role="host", capacity=2)
    first = ConnectionMemberFactory(connection__program=program, participant=host, slot=1)
    ConnectionMemberFactory(connection__program=program, participant=host, slot=2)
    with pytest.raises(IntegrityError), transaction.atomic():
        ConnectionMemberFactory(connection__program=program, participant=host, slot=1)
    first.is_current = False
    first.save()
    ConnectionMemberFactory(connection__program=program, participant=host, slot=1)


@pytest.mark.parametrize(
    "fields",
    [
        {"slot": 0},
        {"role": "host", "uses_capacity": False},
    ],
)
def test_member_checks(fields):
    with pytest.raises(IntegrityError), transaction.atomic():
        ConnectionMemberFactory(**fields)


def test_a_participant_appears_once_per_connection():
    member = ConnectionMemberFactory(is_current=False)
    with pytest.raises(IntegrityError), transaction.atomic():
        ConnectionMemberFactory(
            connection=member.connection, participant=member.participant, is_current=False
        )


@pytest.mark.parametrize(
    "fields",
    [
        {"status": "active"},  # no start
        {"status": "proposed", "ended_at": "now"},
        {"status": "completed", "started_at": "now"},  # no end
        {"status": "closed_early", "started_at": "now", "ended_at": "now"},  # no reason
        {"status": "cancelled", "started_at": "now", "ended_at": "now"},
    ],
)
def test_connection_state_checks(fields):
    now = timezone.now()
    values = {k: now if v == "now" else v for k, v in fields.items()}
    with pytest.raises(IntegrityError), transaction.atomic():
        ConnectionFactory(**values)


def test_a_connection_cannot_end_before_it_starts():
    now = timezone.now()
    with pytest.raises(IntegrityError), transaction.atomic():
        ConnectionFactory(
            status="completed", started_at=now, ended_at=now - timezone.timedelta(days=1)
        )


def test_reflections_rate_1_to_5_once_per_member():
    member = ConnectionMemberFactory(
        connection__status="completed",
        connection__started_at=timezone.now(),
        connection__ended_at=timezone.now(),
        is_current=False,
    )
    values = {
        "connection": member.connection,
        "participant": member.participant,
        "went_well": "a",
        "learned": "b",
    }
    with pytest.raises(IntegrityError), transaction.atomic():
        Reflection.objects.create(rating=6, **values)
    Reflection.objects.create(rating=5, **values)
    with pytest.raises(IntegrityError), transaction.atomic():
        Reflection.objects.create(rating=3, **values)


def test_blocks_are_unique_and_never_of_oneself():
    person = PersonFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Block.objects.create(blocker=person, blocked=person)
    block = BlockFactory(blocker=person)
    with pytest.raises(IntegrityError), transaction.atomic():
        Block.objects.create(blocker=person, blocked=block.blocked)
