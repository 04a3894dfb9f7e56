"""Shared set-up of the self-match tests: a program that lets participants ask one another."""

from peermentor.selfmatch import services as request_services
from tests.factories import PersonFactory, ReadyParticipantFactory, UserFactory
from tests.matches.conftest import MatchingWorld


def self_match_world(*, format="pairs", people=6, **program_fields):
    world = MatchingWorld(
        format=format, people=people, is_self_match_enabled=True, **program_fields
    )
    world.save_policy()
    return world


def add_ready(world, name, *, role="peer", capacity=1, department=None, **person):
    """A ready participant without profile answers (scores only on department)."""
    record = PersonFactory(
        full_name=name,
        department=department or world.departments[0],
        site=world.site,
        user=UserFactory(),
        **person,
    )
    participant = ReadyParticipantFactory(
        program=world.program, person=record, role=role, capacity=capacity
    )
    world.participants.append(participant)
    return participant


def user_of(participant):
    return participant.person.user


def send(world, requester, recipient, message=""):
    return request_services.request_send(
        actor=user_of(requester), program=world.program, recipient=recipient, message=message
    )
