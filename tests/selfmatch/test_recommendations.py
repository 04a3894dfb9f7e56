"""Self-match recommendations: exactly the best allowed partners under the program's policy."""

import numpy as np
import pytest

from peermentor.connections import services as connection_services
from peermentor.matches.adapter import build_engine_input
from peermentor.matching.model import Locks
from peermentor.matching.scoring import Scorer
from peermentor.selfmatch.recommendations import Filters, pair_fit, recommendations_for
from tests.factories import BlockFactory, ParticipantFactory
from tests.selfmatch.world import add_ready, self_match_world

pytestmark = pytest.mark.django_db


def recommend(world, participant, **options):
    return recommendations_for(program=world.program, participant=participant, **options)


def test_the_list_is_exactly_the_top_allowed_partners_by_score(db):
    world = self_match_world(people=14)
    world.save_policy(constraint=[{"kind": "must_differ", "field": "department"}])
    me = world.participants[0]
    result = recommend(world, me, top=5)

    # The same answer from the engine's scorer directly, over every candidate.
    engine_input = build_engine_input(world.program)
    scorer = Scorer(
        engine_input.people, engine_input.policy, locks=Locks(context=engine_input.context_ids)
    )
    mine = scorer.index(str(me.person_id))
    others = [p for p in world.participants if p.pk != me.pk]
    indices = np.array([scorer.index(str(p.person_id)) for p in others])
    scores, allowed = scorer.pair_scores(np.full(len(indices), mine), indices)
    expected = sorted(
        ((-float(scores[k]), str(p.person_id), p.pk) for k, p in enumerate(others) if allowed[k])
    )[:5]
    assert [row.participant_id for row in result.rows] == [pk for _, _, pk in expected]
    assert [row.score for row in result.rows] == pytest.approx([-s for s, _, _ in expected])
    # must_differ on department: nobody from my own department.
    assert me.person.department.name not in {row.department for row in result.rows}
    assert all(row.reasons for row in result.rows)


def test_blocked_people_and_past_partners_are_never_recommended(db):
    world = self_match_world(people=5)
    me, blocked_me, i_blocked, past, free = world.participants
    BlockFactory(blocker=blocked_me.person, blocked=me.person)
    BlockFactory(blocker=me.person, blocked=i_blocked.person)
    connection = connection_services.connection_propose(
        actor=world.manager,
        program=world.program,
        members=[(me, "peer"), (past, "peer")],
        kind="pair",
        source="manual",
    )
    connection_services.connection_activate(actor=world.manager, connection=connection)
    connection_services.connection_complete(actor=world.manager, connection=connection)

    assert [row.participant_id for row in recommend(world, me).rows] == [free.pk]
    # Nor am I recommended to them.
    for other in (blocked_me, i_blocked, past):
        assert me.pk not in {row.participant_id for row in recommend(world, other).rows}
    assert not pair_fit(program=world.program, requester=me, recipient=blocked_me).is_allowed


def test_held_back_people_are_counted_only_when_they_would_have_made_the_list(db):
    world = self_match_world(people=8)
    me = world.participants[0]
    full = recommend(world, me, top=3)
    best, _second, third = (row.participant_id for row in full.rows)

    result = recommend(world, me, top=3, held_back_ids=[best])
    assert best not in {row.participant_id for row in result.rows}
    assert len(result.rows) == 3 and result.held_back == 1
    # Someone who would not have been in the top three is not counted.
    everyone = recommend(world, me, top=7)
    worst = everyone.rows[-1].participant_id
    assert recommend(world, me, top=3, held_back_ids=[worst]).held_back == 0
    assert third in {row.participant_id for row in result.rows}


def test_a_reporting_line_through_someone_filtered_out_still_holds(db):
    world = self_match_world(people=0)
    boss = add_ready(world, "Boss", department=world.departments[1])
    lead = add_ready(world, "Lead", department=world.departments[2], manager=boss.person)
    me = add_ready(world, "Me", department=world.departments[0], manager=lead.person)
    add_ready(world, "Peer", department=world.departments[1])
    # Only department 1 is asked for; the lead between me and the boss is filtered out.
    result = recommend(world, me, filters=Filters(department=world.departments[1].name))
    assert [row.full_name for row in result.rows] == ["Peer"]


def test_shadows_see_hosts_with_room_and_hosts_see_shadows(db):
    world = self_match_world(format="shadowing", people=0)
    host = add_ready(world, "Host", role="host", capacity=1)
    full_host = add_ready(world, "Full Host", role="host", capacity=1)
    shadow = add_ready(world, "Shadow", role="shadow")
    other_shadow = add_ready(world, "Other Shadow", role="shadow")
    taken = connection_services.connection_propose(
        actor=world.manager,
        program=world.program,
        members=[(full_host, "host"), (other_shadow, "shadow")],
        kind="shadowing",
        source="manual",
    )
    assert taken.pk
    assert [row.full_name for row in recommend(world, shadow).rows] == ["Host"]
    assert [row.full_name for row in recommend(world, host).rows] == ["Shadow"]


def test_why_there_is_nothing_to_recommend(db):
    world = self_match_world(people=2)
    not_ready = ParticipantFactory(program=world.program)
    assert "Finish your profile" in recommend(world, not_ready).problem
    assert "not taking part" in recommend(world, None).problem
    world.program.matching_policy = {"criterion": [{"kind": "bogus", "weight": 1}]}
    world.program.save()
    result = recommend(world, world.participants[0])
    assert "matching settings need attention" in result.problem
    assert result.rows == []
