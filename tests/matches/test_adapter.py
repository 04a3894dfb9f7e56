import datetime as dt

import pytest
from django.utils import timezone

from peermentor.enrollment.models import Answer
from peermentor.matches.adapter import availability_tokens, build_engine_input
from peermentor.matching.model import InputError
from peermentor.programs.models import ProfileQuestion
from tests.factories import (
    BlockFactory,
    ConnectionFactory,
    ConnectionMemberFactory,
    ParticipantFactory,
    PersonFactory,
    TrackFactory,
)
from tests.matches.conftest import MatchingWorld

pytestmark = pytest.mark.django_db


def by_name(engine_input):
    return {
        engine_input.id_map[person.id].full_name: person
        for person in engine_input.people
        if person.id in engine_input.id_map
    }


def test_attributes_come_from_answers_and_the_directory(world):
    first = world.participants[0]
    first.person.hire_date = dt.date(2016, 1, 1)
    first.person.languages = ["English", "French"]
    first.person.time_zone = "Asia/Kolkata"
    first.person.job_title = "Analyst; data"
    first.person.save()
    interests = ProfileQuestion.objects.create(
        program=world.program, key="Interests", label="Interests", kind="multiple_choice"
    )
    Answer.objects.create(participant=first, question=interests, value=["Data", "Design"])

    at = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    people, policy, id_map = build_engine_input(world.program, at=at)

    assert policy.format == "pairs"
    assert [c.kind for c in policy.criteria] == ["complement", "different"]
    assert len(people) == 6 and set(id_map) == {p.id for p in people}
    person = by_name(build_engine_input(world.program, at=at))["Person 00"]
    attributes = person.attributes
    assert person.id == str(first.person_id)
    assert attributes["skills_offered"] == "Python"
    assert attributes["skills_wanted"] == "SQL"
    assert attributes["interests"] == "Data;Design"
    assert attributes["department"] == "Dept 0"
    assert attributes["site"] == "Lyon"
    assert attributes["languages"] == "English;French"
    assert attributes["years_experience"] == "10.0"
    assert attributes["utc_offset"] == "5.5"
    # One value that contains the separator stays one value.
    assert attributes["job_title"] == "Analyst, data"
    assert attributes["name"] == "Person 00"
    assert attributes["avoid"] == ""


def test_only_ready_participants_without_a_current_connection_are_matched(world):
    not_ready = ParticipantFactory(program=world.program)
    connected = world.participants[0]
    ConnectionMemberFactory(
        connection=ConnectionFactory(
            program=world.program, status="active", started_at=timezone.now()
        ),
        participant=connected,
    )
    _, _, id_map = build_engine_input(world.program)
    assert str(not_ready.person_id) not in id_map
    assert str(connected.person_id) not in id_map
    assert len(id_map) == 5


def test_track_restricts_the_people_and_overrides_the_policy(world):
    track = TrackFactory(program=world.program, matching_policy={"min_score": 0.4})
    world.participants[1].track = track
    world.participants[1].save()
    _, policy, id_map = build_engine_input(world.program, track=track)
    assert list(id_map) == [str(world.participants[1].person_id)]
    assert policy.min_score == 0.4
    assert [c.kind for c in policy.criteria] == ["complement", "different"]


def test_blocks_and_past_partners_are_avoided_both_ways(world):
    first, second, third = world.participants[:3]
    BlockFactory(blocker=first.person, blocked=second.person)
    past = ConnectionFactory(
        program=world.program,
        status="completed",
        started_at=timezone.now(),
        ended_at=timezone.now(),
    )
    ConnectionMemberFactory(connection=past, participant=first, is_current=False)
    ConnectionMemberFactory(connection=past, participant=third, is_current=False)

    people = {p.id: p for p in build_engine_input(world.program).people}
    avoid = people[str(first.person_id)].attributes["avoid"].split(";")
    assert sorted(avoid) == sorted([str(second.person_id), str(third.person_id)])
    assert people[str(second.person_id)].attributes["avoid"] == str(first.person_id)
    assert people[str(third.person_id)].attributes["avoid"] == str(first.person_id)


def test_past_partners_are_allowed_when_the_program_allows_repeats(world):
    first, second = world.participants[:2]
    past = ConnectionFactory(
        program=world.program,
        status="completed",
        started_at=timezone.now(),
        ended_at=timezone.now(),
    )
    ConnectionMemberFactory(connection=past, participant=first, is_current=False)
    ConnectionMemberFactory(connection=past, participant=second, is_current=False)
    world.program.allow_repeat_pairs = True
    world.program.save()
    people = {p.id: p for p in build_engine_input(world.program).people}
    assert people[str(first.person_id)].attributes["avoid"] == ""


def test_a_manager_outside_the_program_keeps_the_reporting_line_whole(world):
    director = world.participants[0].person
    team_lead = PersonFactory(manager=director)  # not a participant
    report = world.add(10, manager=team_lead)
    engine_input = build_engine_input(world.program)
    people = {p.id: p for p in engine_input.people}
    assert people[str(report.person_id)].attributes["manager_id"] == str(team_lead.pk)
    assert engine_input.context_ids == (str(team_lead.pk),)
    assert people[str(team_lead.pk)].attributes["manager_id"] == str(director.pk)
    assert str(team_lead.pk) not in engine_input.id_map


def test_shadowing_gives_roles_and_remaining_capacity(db):
    world = MatchingWorld(format="shadowing", goals=["cross_functional"], people=0)
    host = world.add(0, role="host", capacity=3)
    shadow = world.add(1, role="shadow")
    busy_shadow = world.add(2, role="shadow")
    world.add(3, role="peer")  # a role this format does not use is left out
    connection = ConnectionFactory(program=world.program, kind="shadowing")
    ConnectionMemberFactory(connection=connection, participant=host, slot=1)
    ConnectionMemberFactory(connection=connection, participant=busy_shadow)

    people, policy, id_map = build_engine_input(world.program)
    assert policy.format == "bipartite"
    assert (policy.sides.a, policy.sides.b) == ("host", "shadow")
    attributes = {p.id: p.attributes for p in people}
    assert attributes[str(host.person_id)]["role"] == "host"
    assert attributes[str(host.person_id)]["capacity"] == "2"
    assert attributes[str(shadow.person_id)]["role"] == "shadow"
    assert set(id_map) == {str(host.person_id), str(shadow.person_id)}


def test_circles_use_the_program_group_size_and_set_facilitators_aside(db):
    world = MatchingWorld(
        format="circles",
        goals=["wellbeing"],
        people=5,
        group_size_min=3,
        group_size_max=5,
        has_facilitator=True,
    )
    facilitator = world.add(9, role="facilitator")
    engine_input = build_engine_input(world.program)
    assert engine_input.policy.format == "circles"
    assert engine_input.policy.group_size == (3, 5)
    assert str(facilitator.person_id) not in engine_input.id_map
    assert [(row.pk, places) for row, places in engine_input.facilitators] == [(facilitator.pk, 1)]


def test_defaults_from_goals_when_no_policy_is_saved(db):
    world = MatchingWorld(people=2)
    _, policy, _ = build_engine_input(world.program)
    assert any(c.kind == "complement" for c in policy.criteria)
    assert any(c.kind == "not_in_reporting_line" for c in policy.constraints)


def test_a_policy_the_engine_refuses_raises_input_error(world):
    with pytest.raises(InputError):
        build_engine_input(world.program, policy=world.policy(min_score=3))


def test_availability_becomes_utc_hours():
    at = dt.datetime(2026, 1, 15, tzinfo=dt.UTC)
    slots = [{"day": 0, "start": "09:30", "end": "11:00"}]
    assert availability_tokens(slots, "Europe/Paris", at) == ["d0h8", "d0h9"]
    # Monday 01:00 in Paris is Sunday 00:00 UTC: the week wraps.
    assert availability_tokens(
        [{"day": 0, "start": "00:00", "end": "01:00"}], "Europe/Paris", at
    ) == ["d6h23"]


def test_queries_do_not_grow_with_participants(world, django_assert_max_num_queries):
    with django_assert_max_num_queries(8) as small:
        build_engine_input(world.program)
    for index in range(20, 60):
        world.add(index)
    with django_assert_max_num_queries(len(small.captured_queries)):
        people, _, _ = build_engine_input(world.program)
    assert len(people) == 46


def test_respect_room_false_keeps_people_who_hold_a_place(world):
    connected = world.participants[0]
    ConnectionMemberFactory(
        connection=ConnectionFactory(
            program=world.program, status="active", started_at=timezone.now()
        ),
        participant=connected,
    )
    _, _, id_map = build_engine_input(world.program, respect_room=False)
    assert str(connected.person_id) in id_map
    _, _, id_map = build_engine_input(world.program)
    assert str(connected.person_id) not in id_map


def test_help_network_people_are_read_as_peers(db):
    world = MatchingWorld(format="help_network", goals=[], people=3)
    policy = {"criterion": [{"kind": "overlap", "field": "skills_offered", "weight": 1}]}
    people, engine_policy, _ = build_engine_input(world.program, policy=policy)
    assert engine_policy.format == "pairs" and len(people) == 3
