import datetime

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection as db_connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from peermentor.connections.models import Block, Connection, ConnectionMember, Reflection, Report
from peermentor.connections.selectors import (
    blocked_pairs,
    past_pairs,
    quotable_reflections,
    rematch_candidates,
)
from peermentor.connections.services import (
    ProposalSpec,
    ProposalsRefused,
    block_person,
    connection_activate,
    connection_cancel,
    connection_close_early,
    connection_complete,
    connection_extend,
    connection_propose,
    connections_activate_many,
    connections_cancel_many,
    connections_propose_many,
    participant_connections_end,
    reflection_submit,
    report_person,
    report_review,
)
from peermentor.core.errors import ApplicationError
from peermentor.core.models import AuditEvent
from tests.factories import (
    BlockFactory,
    ParticipantFactory,
    ProgramFactory,
    ProgramManagerFactory,
    TrackFactory,
)

pytestmark = pytest.mark.django_db


def events(connection, action=None):
    qs = AuditEvent.objects.filter(target_type="connections.connection", target_id=connection.pk)
    return qs.filter(action=action) if action else qs


def propose(personas, members, *, kind="pair", actor=None, program=None, **options):
    options.setdefault("source", "manual")
    return connection_propose(
        actor=actor or personas.manager,
        program=program or personas.program,
        members=members,
        kind=kind,
        score=0.75,
        reasons="You both want to learn SQL.",
        **options,
    )


def peers(personas, first, second):
    return [(first, "peer"), (second, "peer")]


# --- propose --------------------------------------------------------------------------------
def test_manager_proposes_a_pair_that_holds_both_places(personas, make_peer):
    other = make_peer()
    connection = propose(personas, peers(personas, personas.participant_record, other))

    assert connection.status == "proposed"
    assert connection.program == personas.program
    assert connection.reasons == "You both want to learn SQL."
    members = ConnectionMember.objects.filter(connection=connection)
    assert {m.participant_id for m in members} == {personas.participant_record.pk, other.pk}
    assert all(m.is_current and m.slot == 1 and not m.uses_capacity for m in members)
    (event,) = events(connection)
    assert (event.action, event.actor, event.to_state) == (
        "connection.proposed",
        personas.manager,
        "proposed",
    )
    assert event.program_id == personas.program.pk


def test_the_common_track_is_recorded(personas, make_peer):
    track = TrackFactory(program=personas.program)
    first, second = make_peer(track=track), make_peer(track=track)
    assert propose(personas, peers(personas, first, second)).track == track
    third, fourth = make_peer(track=track), make_peer()
    assert propose(personas, peers(personas, third, fourth)).track is None


@pytest.mark.parametrize("role", ["participant", "outsider", "other_manager"])
def test_only_managers_connect_other_people(personas, make_peer, role):
    with pytest.raises(PermissionDenied):
        propose(
            personas,
            peers(personas, personas.other_participant_record, make_peer()),
            actor=personas.user(role),
        )
    assert not Connection.objects.exists()


def test_self_match_needs_the_program_setting_and_the_actor_among_the_members(personas, make_peer):
    pair = peers(personas, personas.participant_record, make_peer())
    with pytest.raises(PermissionDenied):
        propose(personas, pair, actor=personas.participant, source="self_match")
    personas.program.is_self_match_enabled = True
    personas.program.save()
    with pytest.raises(PermissionDenied):
        propose(
            personas,
            peers(personas, personas.other_participant_record, make_peer()),
            actor=personas.participant,
            source="self_match",
        )
    connection = propose(personas, pair, actor=personas.participant, source="self_match")
    assert connection.source == "self_match"
    assert events(connection).get().actor == personas.participant


@pytest.mark.parametrize(
    ("kind", "roles", "message"),
    [
        ("circle", ["member", "member"], "takes these kinds"),
        ("pair", ["peer"], "needs 2"),
        ("pair", ["peer", "peer", "peer"], "needs 2"),
        ("pair", ["peer", "host"], "does not belong"),
    ],
)
def test_the_shape_must_fit_the_program(personas, make_peer, kind, roles, message):
    members = [(make_peer(), role) for role in roles]
    with pytest.raises(ApplicationError, match=message):
        propose(personas, members, kind=kind)
    assert not Connection.objects.exists()


def test_a_person_cannot_be_paired_with_themselves(personas):
    record = personas.participant_record
    with pytest.raises(ApplicationError, match="appears twice"):
        propose(personas, [(record, "peer"), (record, "peer")])


def test_a_score_must_be_a_number(personas, make_peer):
    with pytest.raises(ApplicationError, match="score"):
        connection_propose(
            actor=personas.manager,
            program=personas.program,
            members=peers(personas, make_peer(), make_peer()),
            kind="pair",
            score=float("nan"),
            source="match_run",
        )


def test_members_must_be_enrolled_in_this_program_with_that_role(personas, make_peer):
    stranger = ParticipantFactory(program=personas.other_program)
    with pytest.raises(ApplicationError, match="participant of this program"):
        propose(personas, peers(personas, make_peer(), stranger))
    withdrawn = make_peer(status="withdrawn")
    with pytest.raises(ApplicationError, match="not enrolled"):
        propose(personas, peers(personas, make_peer(), withdrawn))
    program = ProgramFactory(format="shadowing")
    host, shadow = make_peer(program, role="host"), make_peer(program, role="shadow")
    with pytest.raises(ApplicationError, match="takes part as host"):
        propose(
            personas,
            [(host, "shadow"), (shadow, "host")],
            kind="shadowing",
            program=program,
            actor=personas.admin,
        )
    assert not Connection.objects.exists()


def test_a_peer_has_one_current_connection(personas, make_peer):
    propose(personas, peers(personas, personas.participant_record, make_peer()))
    with pytest.raises(ApplicationError, match="already has a current connection"):
        propose(personas, peers(personas, make_peer(), personas.participant_record))
    assert Connection.objects.count() == 1


def test_blocked_people_are_never_proposed_in_either_direction(personas, make_peer):
    first, second = make_peer(), make_peer()
    BlockFactory(blocker=second.person, blocked=first.person)
    with pytest.raises(ApplicationError) as refused:
        propose(personas, peers(personas, first, second))
    assert "asked not to be matched" in refused.value.message
    # The message must not say who blocked whom.
    assert first.person.full_name not in refused.value.message
    with pytest.raises(ApplicationError):
        propose(personas, peers(personas, second, first))
    assert not Connection.objects.exists()


def test_people_who_met_before_are_not_proposed_again_unless_a_manager_allows_it(
    personas, make_peer, make_pair
):
    first, second = make_peer(), make_peer()
    earlier = make_pair(first, second)
    connection_complete(actor=personas.manager, connection=earlier)

    with pytest.raises(ApplicationError, match="were connected before"):
        propose(personas, peers(personas, first, second))
    personas.program.is_self_match_enabled = True
    personas.program.save()
    with pytest.raises(PermissionDenied):
        propose(
            personas,
            peers(personas, first, second),
            actor=first.person.user,
            source="self_match",
            allow_repeat=True,
        )
    again = propose(personas, peers(personas, first, second), allow_repeat=True)
    assert again.allow_repeat is True


def test_a_repeat_is_found_across_programs(personas, make_peer, make_pair):
    first, second = make_peer(), make_peer()
    connection_complete(actor=personas.manager, connection=make_pair(first, second))
    program = ProgramFactory()
    again_first = make_peer(program, person=first.person)
    again_second = make_peer(program, person=second.person)
    with pytest.raises(ApplicationError, match="were connected before"):
        propose(
            personas,
            peers(personas, again_first, again_second),
            actor=personas.admin,
            program=program,
        )


def _help_network(personas):
    program = ProgramFactory(format="help_network")
    ProgramManagerFactory(program=program, user=personas.manager)
    return program


def _completed_flash(personas, program, first, second):
    flash = propose(
        personas,
        peers(personas, first, second),
        kind="flash",
        program=program,
        source="help_network",
    )
    connection_activate(actor=personas.manager, connection=flash)
    return connection_complete(actor=personas.manager, connection=flash, reason_code="goals_met")


def test_a_flash_meeting_grows_into_a_pair_of_the_same_two_people(personas):
    program = _help_network(personas)
    asker, helper = ParticipantFactory(program=program), ParticipantFactory(program=program)
    flash = _completed_flash(personas, program, asker, helper)

    pair = propose(
        personas,
        peers(personas, helper, asker),
        actor=asker.person.user,
        program=program,
        source="help_network",
        grows_from=flash,
    )

    assert pair.kind == "pair" and pair.status == "proposed" and pair.allow_repeat is False
    (event,) = events(pair, "connection.proposed")
    assert event.data["grows_from_id"] == flash.pk


def test_repeat_pairs_are_still_refused_without_grows_from_or_from_other_people(personas):
    program = _help_network(personas)
    asker, helper, third = (ParticipantFactory(program=program) for _ in range(3))
    flash = _completed_flash(personas, program, asker, helper)
    other_flash = _completed_flash(personas, program, asker, third)

    with pytest.raises(ApplicationError, match="were connected before"):
        propose(personas, peers(personas, asker, helper), program=program, source="help_network")
    with pytest.raises(ApplicationError, match="exactly the same people"):
        propose(
            personas,
            peers(personas, asker, helper),
            program=program,
            source="help_network",
            grows_from=other_flash,
        )
    with pytest.raises(ApplicationError, match="exactly the same people"):
        # The flash of asker and helper does not excuse asker meeting third again.
        propose(
            personas,
            peers(personas, asker, third),
            program=program,
            source="help_network",
            grows_from=flash,
        )
    assert not Connection.objects.filter(kind="pair").exists()
    assert not AuditEvent.objects.filter(data__has_key="grows_from_id").exists()


def test_grows_from_must_be_an_ended_connection_or_a_flash_of_this_program(
    personas, make_peer, make_pair
):
    first, second = make_peer(), make_peer()
    still_active = make_pair(first, second)
    with pytest.raises(ApplicationError, match="has ended, or a flash"):
        propose(personas, peers(personas, first, second), grows_from=still_active)
    connection_complete(actor=personas.manager, connection=still_active)
    again = propose(personas, peers(personas, first, second), grows_from=still_active)
    assert again.status == "proposed"

    program = _help_network(personas)
    elsewhere = _completed_flash(
        personas, program, ParticipantFactory(program=program), ParticipantFactory(program=program)
    )
    third, fourth = make_peer(), make_peer()
    with pytest.raises(ApplicationError, match="belong to this program"):
        propose(personas, peers(personas, third, fourth), grows_from=elsewhere)
    with pytest.raises(ApplicationError, match="existing connection"):
        propose(personas, peers(personas, third, fourth), grows_from=Connection())


def test_a_dropped_proposal_is_not_a_past_pair(personas, make_peer):
    first, second = make_peer(), make_peer()
    connection_cancel(
        actor=personas.manager, connection=propose(personas, peers(personas, first, second))
    )
    assert propose(personas, peers(personas, first, second)).status == "proposed"
    assert past_pairs(program=personas.program) == set()


def shadowing_program(personas, *, capacity):
    program = ProgramFactory(format="shadowing")
    ProgramManagerFactory(program=program, user=personas.manager)
    host = ParticipantFactory(program=program, role="host", capacity=capacity)
    return program, host


def test_a_host_takes_shadows_up_to_capacity_in_numbered_slots(personas):
    program, host = shadowing_program(personas, capacity=2)
    shadows = [ParticipantFactory(program=program, role="shadow") for _ in range(3)]
    placed = [
        propose(personas, [(host, "host"), (s, "shadow")], kind="shadowing", program=program)
        for s in shadows[:2]
    ]
    slots = sorted(ConnectionMember.objects.filter(participant=host).values_list("slot", flat=True))
    assert slots == [1, 2]
    with pytest.raises(ApplicationError, match="no free place"):
        propose(
            personas, [(host, "host"), (shadows[2], "shadow")], kind="shadowing", program=program
        )
    # Ending one placement frees its slot for the next shadow.
    connection_cancel(actor=personas.manager, connection=placed[0])
    third = propose(
        personas, [(host, "host"), (shadows[2], "shadow")], kind="shadowing", program=program
    )
    assert third.members.get(participant=host).slot == 1


def test_circle_size_follows_the_program(personas):
    program = ProgramFactory(format="circles", group_size_min=3, group_size_max=4)
    ProgramManagerFactory(program=program, user=personas.manager)
    people = [ParticipantFactory(program=program, role="member") for _ in range(5)]
    with pytest.raises(ApplicationError, match="needs 3 to 4"):
        propose(personas, [(p, "member") for p in people[:2]], kind="circle", program=program)
    with pytest.raises(ApplicationError, match="needs 3 to 4"):
        propose(personas, [(p, "member") for p in people], kind="circle", program=program)
    circle = propose(personas, [(p, "member") for p in people[:4]], kind="circle", program=program)
    assert circle.members.count() == 4


def test_flash_meetings_use_capacity_so_a_helper_can_help_several(personas):
    program = ProgramFactory(format="help_network")
    ProgramManagerFactory(program=program, user=personas.manager)
    helper = ParticipantFactory(program=program, capacity=2)
    askers = [ParticipantFactory(program=program) for _ in range(3)]
    for asker in askers[:2]:
        propose(
            personas,
            [(helper, "peer"), (asker, "peer")],
            kind="flash",
            program=program,
            source="help_network",
        )
    with pytest.raises(ApplicationError, match="no free place"):
        propose(
            personas,
            [(helper, "peer"), (askers[2], "peer")],
            kind="flash",
            program=program,
            source="help_network",
        )


# --- propose many ---------------------------------------------------------------------------
def _specs(personas, count):
    people = [ParticipantFactory(program=personas.program) for _ in range(2 * count)]
    return [
        ProposalSpec(
            members=[(people[2 * i], "peer"), (people[2 * i + 1], "peer")],
            kind="pair",
            score=0.5,
            reasons="Shared interests.",
        )
        for i in range(count)
    ]


def test_propose_many_places_all_in_a_constant_number_of_queries(personas):
    small, large = _specs(personas, 3), _specs(personas, 30)
    with CaptureQueriesContext(db_connection) as few:
        connections_propose_many(
            actor=personas.manager,
            program=personas.program,
            proposals=small,
            source="match_run",
            match_run_id=7,
        )
    with CaptureQueriesContext(db_connection) as many:
        created = connections_propose_many(
            actor=personas.manager,
            program=personas.program,
            proposals=large,
            source="match_run",
            match_run_id=7,
        )
    assert len(many) == len(few)
    assert len(created) == 30 and all(c.pk for c in created)
    assert Connection.objects.filter(match_run_id=7, status="proposed").count() == 33
    assert AuditEvent.objects.filter(action="connection.proposed").count() == 33


def test_propose_many_is_all_or_nothing_and_lists_every_problem(personas):
    specs = _specs(personas, 3)
    specs[2].members = [specs[0].members[0], specs[2].members[1]]
    specs.append(ProposalSpec(members=specs[1].members[:1], kind="pair"))
    with pytest.raises(ProposalsRefused) as refused:
        connections_propose_many(
            actor=personas.manager, program=personas.program, proposals=specs, source="match_run"
        )
    assert [index for index, _ in refused.value.problems] == [3]
    specs.pop()
    with pytest.raises(ProposalsRefused) as refused:
        connections_propose_many(
            actor=personas.manager, program=personas.program, proposals=specs, source="match_run"
        )
    assert refused.value.problems == [
        (2, f"{specs[2].members[0][0].person.full_name} already has a current connection.")
    ]
    assert not Connection.objects.exists()


# --- activate -------------------------------------------------------------------------------
def test_activation_starts_the_connection_with_the_program_end(personas, make_peer):
    personas.program.planned_end_on = datetime.date(2031, 6, 30)
    personas.program.save()
    connection = propose(personas, peers(personas, personas.participant_record, make_peer()))
    connection = connection_activate(actor=personas.manager, connection=connection)
    connection.refresh_from_db()
    assert connection.status == "active"
    assert connection.started_at is not None
    assert connection.planned_end_on == datetime.date(2031, 6, 30)
    event = events(connection, "connection.activated").get()
    assert (event.from_state, event.to_state, event.actor) == (
        "proposed",
        "active",
        personas.manager,
    )


def test_activation_is_refused_to_members_of_a_managed_match_and_twice(personas, make_peer):
    connection = propose(personas, peers(personas, personas.participant_record, make_peer()))
    with pytest.raises(PermissionDenied):
        connection_activate(actor=personas.participant, connection=connection)
    connection_activate(actor=personas.manager, connection=connection)
    with pytest.raises(ApplicationError, match="is active"):
        connection_activate(actor=personas.manager, connection=connection)
    assert events(connection, "connection.activated").count() == 1


def test_members_start_their_own_self_match(personas, make_peer):
    personas.program.is_self_match_enabled = True
    personas.program.save()
    other = make_peer()
    connection = propose(
        personas,
        peers(personas, personas.participant_record, other),
        actor=personas.participant,
        source="self_match",
    )
    connection_activate(actor=other.person.user, connection=connection)
    connection.refresh_from_db()
    assert connection.status == "active"


def test_activate_many_by_run_in_a_constant_number_of_queries(personas):
    # Only the connections' own queries: engagement's plans have their query test in
    # tests/engagement/test_plans.py, with fewer rows (SQLite splits large bulk inserts).
    def run(run_id, count):
        connections_propose_many(
            actor=personas.manager,
            program=personas.program,
            proposals=_specs(personas, count),
            source="match_run",
            match_run_id=run_id,
        )
        with CaptureQueriesContext(db_connection) as queries:
            started = connections_activate_many(
                actor=personas.manager, program=personas.program, match_run_id=run_id
            )
        assert len(started) == count
        return len(queries)

    assert run(1, 3) == run(2, 40)
    assert not Connection.objects.exclude(status="active").exists()
    assert AuditEvent.objects.filter(action="connection.activated").count() == 43
    assert not Connection.objects.filter(started_at__isnull=True).exists()


def test_activate_many_is_all_or_nothing(personas):
    created = connections_propose_many(
        actor=personas.manager,
        program=personas.program,
        proposals=_specs(personas, 3),
        source="match_run",
    )
    connection_activate(actor=personas.manager, connection=created[0])
    with pytest.raises(ApplicationError, match="1 of these connections"):
        connections_activate_many(
            actor=personas.manager,
            program=personas.program,
            connection_ids=[c.pk for c in created],
        )
    assert Connection.objects.filter(status="proposed").count() == 2
    with pytest.raises(ApplicationError, match="either"):
        connections_activate_many(actor=personas.manager, program=personas.program)


def test_activate_many_is_for_managers_of_that_program(personas):
    created = connections_propose_many(
        actor=personas.manager,
        program=personas.program,
        proposals=_specs(personas, 2),
        source="match_run",
    )
    with pytest.raises(PermissionDenied):
        connections_activate_many(
            actor=personas.other_manager,
            program=personas.program,
            connection_ids=[c.pk for c in created],
        )
    with pytest.raises(ApplicationError):
        # Another program's manager cannot reach these through their own program either.
        connections_activate_many(
            actor=personas.other_manager,
            program=personas.other_program,
            connection_ids=[c.pk for c in created],
        )
    assert not Connection.objects.filter(status="active").exists()


# --- cancel ---------------------------------------------------------------------------------
def test_cancelling_a_proposal_frees_its_members(personas, make_peer):
    other = make_peer()
    connection = propose(personas, peers(personas, personas.participant_record, other))
    connection_cancel(actor=personas.manager, connection=connection, reason="Reshuffling.")
    connection.refresh_from_db()
    assert connection.status == "cancelled" and connection.ended_at is not None
    assert not connection.members.filter(is_current=True).exists()
    event = events(connection, "connection.cancelled").get()
    assert (event.from_state, event.to_state, event.reason) == (
        "proposed",
        "cancelled",
        "Reshuffling.",
    )
    propose(personas, peers(personas, personas.participant_record, make_peer()))


def test_cancel_is_refused_for_active_connections_and_for_members(personas, make_peer, make_pair):
    proposal = propose(personas, peers(personas, personas.participant_record, make_peer()))
    with pytest.raises(PermissionDenied):
        connection_cancel(actor=personas.participant, connection=proposal)
    active = connection_activate(actor=personas.manager, connection=proposal)
    with pytest.raises(ApplicationError, match="is active"):
        connection_cancel(actor=personas.manager, connection=active)


def test_cancel_many_frees_everyone_of_a_run(personas):
    connections_propose_many(
        actor=personas.manager,
        program=personas.program,
        proposals=_specs(personas, 4),
        source="match_run",
        match_run_id=3,
    )
    cancelled = connections_cancel_many(
        actor=personas.manager, program=personas.program, match_run_id=3, reason="Rerun"
    )
    assert len(cancelled) == 4
    assert not ConnectionMember.objects.filter(is_current=True).exists()
    assert AuditEvent.objects.filter(action="connection.cancelled", reason="Rerun").count() == 4


# --- complete and close early ----------------------------------------------------------------
def test_a_member_completes_the_connection_and_everyone_is_free(personas, make_peer, make_pair):
    other = make_peer()
    connection = make_pair(personas.participant_record, other)
    connection_complete(actor=personas.participant, connection=connection, reason_code="goals_met")
    connection.refresh_from_db()
    assert (connection.status, connection.end_reason) == ("completed", "goals_met")
    assert connection.ended_at >= connection.started_at
    assert not connection.members.filter(is_current=True).exists()
    event = events(connection, "connection.completed").get()
    assert (event.actor, event.from_state, event.reason) == (
        personas.participant,
        "active",
        "Goals met",
    )


def test_complete_refuses_outsiders_proposals_and_unknown_reasons(personas, make_peer, make_pair):
    connection = make_pair(personas.participant_record, make_peer())
    with pytest.raises(PermissionDenied):
        connection_complete(actor=personas.other_participant, connection=connection)
    with pytest.raises(PermissionDenied):
        connection_complete(actor=personas.other_manager, connection=connection)
    with pytest.raises(ApplicationError) as refused:
        connection_complete(actor=personas.manager, connection=connection, reason_code="no_time")
    assert refused.value.field == "reason_code"
    proposal = propose(personas, peers(personas, make_peer(), make_peer()))
    with pytest.raises(ApplicationError, match="is proposed"):
        connection_complete(actor=personas.manager, connection=proposal)
    assert not events(connection, "connection.completed").exists()


def test_early_closure_needs_a_reason_and_opens_rematching(personas, make_peer, make_pair):
    now = timezone.now()
    first, second = make_peer(ready_at=None), make_peer()
    connection = make_pair(personas.participant_record, second)
    with pytest.raises(ApplicationError) as refused:
        connection_close_early(actor=personas.participant, connection=connection, reason_code="")
    assert refused.value.field == "reason_code"
    with pytest.raises(ApplicationError) as refused:
        connection_close_early(
            actor=personas.participant, connection=connection, reason_code="completed"
        )
    assert refused.value.field == "reason_code"
    with pytest.raises(ApplicationError) as refused:
        connection_close_early(
            actor=personas.participant, connection=connection, reason_code="other", reason_text=" "
        )
    assert refused.value.field == "reason_text"
    assert not rematch_candidates(program=personas.program).filter(pk=second.pk).exists()

    connection_close_early(
        actor=personas.participant,
        connection=connection,
        reason_code="no_time",
        reason_text="New role takes all my time.",
    )
    connection.refresh_from_db()
    assert (connection.status, connection.end_reason) == ("closed_early", "no_time")
    event = events(connection, "connection.closed_early").get()
    assert event.reason == "New role takes all my time."
    assert event.data == {"reason_code": "no_time"}
    assert event.created_at >= now
    # Ready people without a current connection can be matched again; unready ones cannot.
    second.is_profile_complete = second.is_training_complete = True
    second.ready_at = now
    second.save()
    candidates = set(rematch_candidates(program=personas.program))
    assert second in candidates and first not in candidates


def test_close_early_refused_for_a_proposal(personas, make_peer):
    proposal = propose(personas, peers(personas, make_peer(), make_peer()))
    with pytest.raises(ApplicationError, match="is proposed"):
        connection_close_early(actor=personas.manager, connection=proposal, reason_code="no_time")


def test_rematch_candidates_include_hosts_with_room(personas):
    program, host = shadowing_program(personas, capacity=2)
    now = timezone.now()
    ready = {"is_profile_complete": True, "is_training_complete": True, "ready_at": now}
    host.is_profile_complete = host.is_training_complete = True
    host.ready_at = now
    host.save()
    shadows = [ParticipantFactory(program=program, role="shadow", **ready) for _ in range(3)]
    propose(personas, [(host, "host"), (shadows[0], "shadow")], kind="shadowing", program=program)
    assert set(rematch_candidates(program=program)) == {host, shadows[1], shadows[2]}
    propose(personas, [(host, "host"), (shadows[1], "shadow")], kind="shadowing", program=program)
    assert set(rematch_candidates(program=program)) == {shadows[2]}


# --- extend ---------------------------------------------------------------------------------
def test_a_manager_extends_the_planned_end(personas, make_peer, make_pair):
    connection = make_pair(
        personas.participant_record,
        make_peer(),
        planned_end_on=timezone.localdate() + datetime.timedelta(days=30),
    )
    later = timezone.localdate() + datetime.timedelta(days=90)
    connection_extend(
        actor=personas.manager,
        connection=connection,
        planned_end_on=later,
        reason="They want to finish their project.",
    )
    connection.refresh_from_db()
    assert connection.planned_end_on == later
    event = events(connection, "connection.extended").get()
    assert event.reason == "They want to finish their project."
    assert event.data["planned_end_on"] == later.isoformat()


def test_extend_refuses_bad_dates_missing_reasons_and_members(personas, make_peer, make_pair):
    soon = timezone.localdate() + datetime.timedelta(days=30)
    connection = make_pair(personas.participant_record, make_peer(), planned_end_on=soon)

    def extend(actor=personas.manager, days=60, reason="More time"):
        connection_extend(
            actor=actor,
            connection=connection,
            planned_end_on=timezone.localdate() + datetime.timedelta(days=days),
            reason=reason,
        )

    for days in (-1, 0, 10, 30):
        with pytest.raises(ApplicationError) as refused:
            extend(days=days)
        assert refused.value.field == "planned_end_on"
    with pytest.raises(ApplicationError) as refused:
        extend(reason="  ")
    assert refused.value.field == "reason"
    with pytest.raises(PermissionDenied):
        extend(actor=personas.participant)
    connection_complete(actor=personas.manager, connection=connection)
    with pytest.raises(ApplicationError, match="is completed"):
        extend()
    connection.refresh_from_db()
    assert connection.planned_end_on == soon
    assert not events(connection, "connection.extended").exists()


# --- reflections ----------------------------------------------------------------------------
def reflect(actor, connection, **fields):
    values = {
        "went_well": "We met every week.",
        "learned": "How to review SQL.",
        "rating": 4,
        "may_quote": True,
    }
    values.update(fields)
    return reflection_submit(actor=actor, connection=connection, **values)


def test_reflection_opens_at_closure_once_per_member(personas, make_peer, make_pair):
    other = make_peer()
    connection = make_pair(personas.participant_record, other)
    with pytest.raises(ApplicationError, match="once the connection has ended"):
        reflect(personas.participant, connection)
    connection_close_early(actor=other.person.user, connection=connection, reason_code="no_time")

    reflection = reflect(personas.participant, connection)
    assert (reflection.participant, reflection.rating, reflection.may_quote) == (
        personas.participant_record,
        4,
        True,
    )
    with pytest.raises(ApplicationError, match="already shared"):
        reflect(personas.participant, connection, rating=5)
    reflect(other.person.user, connection, may_quote=False)
    assert Reflection.objects.filter(connection=connection).count() == 2
    event = AuditEvent.objects.get(action="reflection.submitted", actor=personas.participant)
    assert "SQL" not in str(event.data) and event.reason == ""


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"rating": 0}, "rating"),
        ({"rating": 6}, "rating"),
        ({"rating": "4"}, "rating"),
        ({"went_well": "  "}, "went_well"),
        ({"learned": ""}, "learned"),
    ],
)
def test_reflection_bad_input(personas, make_peer, make_pair, fields, field):
    connection = make_pair(personas.participant_record, make_peer())
    connection_complete(actor=personas.manager, connection=connection)
    with pytest.raises(ApplicationError) as refused:
        reflect(personas.participant, connection, **fields)
    assert refused.value.field == field
    assert not Reflection.objects.exists()


@pytest.mark.parametrize("role", ["manager", "admin", "other_participant", "outsider"])
def test_only_members_reflect(personas, make_peer, make_pair, role):
    connection = make_pair(personas.participant_record, make_peer())
    connection_complete(actor=personas.manager, connection=connection)
    with pytest.raises(PermissionDenied):
        reflect(personas.user(role), connection)


# --- blocks and reports ---------------------------------------------------------------------
def test_blocking_a_partner_ends_the_pair_and_forbids_it_for_good(personas, make_peer, make_pair):
    other = make_peer()
    connection = make_pair(personas.participant_record, other)
    block = block_person(
        actor=personas.participant, blocked=other.person, reason="Rude.", connection=connection
    )
    assert (block.blocker, block.blocked, block.program) == (
        personas.participant_record.person,
        other.person,
        personas.program,
    )
    connection.refresh_from_db()
    assert (connection.status, connection.end_reason) == ("closed_early", "not_a_good_fit")
    assert blocked_pairs() == {
        tuple(sorted([other.person_id, personas.participant_record.person_id]))
    }
    with pytest.raises(ApplicationError, match="asked not to be matched"):
        propose(personas, peers(personas, personas.participant_record, other), allow_repeat=True)
    # Blocking again keeps the one block.
    assert block_person(actor=personas.participant, blocked=other.person) == block
    assert Block.objects.count() == 1
    assert AuditEvent.objects.filter(action="block.created").count() == 1


def test_blocking_refuses_self_and_other_peoples_connections(personas, make_peer, make_pair):
    me = personas.participant_record.person
    with pytest.raises(ApplicationError) as refused:
        block_person(actor=personas.participant, blocked=me)
    assert refused.value.field == "person"
    first, second = make_peer(), make_peer()
    connection = make_pair(first, second)
    with pytest.raises(PermissionDenied):
        block_person(actor=personas.participant, blocked=first.person, connection=connection)
    with pytest.raises(PermissionDenied):
        block_person(actor=personas.manager, blocked=first.person)  # managers have no Person
    with pytest.raises(ApplicationError) as refused:
        block_person(actor=first.person.user, blocked=me, connection=connection)
    assert refused.value.field == "person"
    assert not Block.objects.exists()
    connection.refresh_from_db()
    assert connection.status == "active"


def test_a_report_waits_for_review_by_the_programs_managers(personas, make_peer, make_pair):
    other = make_peer()
    connection = make_pair(personas.participant_record, other)
    report = report_person(
        actor=personas.participant,
        reported=other.person,
        text="Made me uncomfortable.",
        connection=connection,
    )
    assert (report.status, report.program, report.reporter) == (
        "open",
        personas.program,
        personas.participant_record.person,
    )
    assert AuditEvent.objects.filter(action="report.created", target_id=report.pk).exists()
    with pytest.raises(PermissionDenied):
        report_review(actor=personas.other_manager, report=report, note="?")
    with pytest.raises(PermissionDenied):
        report_review(actor=personas.participant, report=report)
    report_review(actor=personas.manager, report=report, note="Talked to both.")
    report.refresh_from_db()
    assert (report.status, report.reviewed_by, report.review_note) == (
        "reviewed",
        personas.manager,
        "Talked to both.",
    )
    with pytest.raises(ApplicationError, match="already been reviewed"):
        report_review(actor=personas.admin, report=report)


def test_report_bad_input(personas, make_peer):
    other = make_peer()
    with pytest.raises(ApplicationError) as refused:
        report_person(actor=personas.participant, reported=other.person, text="   ")
    assert refused.value.field == "text"
    with pytest.raises(ApplicationError):
        report_person(
            actor=personas.participant, reported=personas.participant_record.person, text="x"
        )
    assert not Report.objects.exists()


# --- history selectors ----------------------------------------------------------------------
def test_past_pairs_cover_every_pair_in_a_circle_and_each_program(personas, make_peer, make_pair):
    first, second = make_peer(), make_peer()
    make_pair(first, second)
    program = ProgramFactory(format="circles", group_size_min=3)
    ProgramManagerFactory(program=program, user=personas.manager)
    people = [ParticipantFactory(program=program, role="member") for _ in range(3)]
    circle = propose(personas, [(p, "member") for p in people], kind="circle", program=program)
    assert past_pairs(program=program) == set()  # only proposed so far
    connection_activate(actor=personas.manager, connection=circle)
    ids = sorted(p.person_id for p in people)
    assert past_pairs(program=program) == {(ids[0], ids[1]), (ids[0], ids[2]), (ids[1], ids[2])}
    assert past_pairs() == past_pairs(program=program) | {
        tuple(sorted([first.person_id, second.person_id]))
    }


def test_blocked_pairs_for_some_people_in_slices():
    first, second = BlockFactory(), BlockFactory()
    unrelated_ids = list(range(10**6, 10**6 + 1500))  # more than one slice of ids
    pair = tuple(sorted([first.blocker_id, first.blocked_id]))
    assert blocked_pairs(person_ids=[*unrelated_ids, first.blocked_id]) == {pair}
    assert blocked_pairs() == {pair, tuple(sorted([second.blocker_id, second.blocked_id]))}


# --- someone leaves -------------------------------------------------------------------------
def test_a_leaver_frees_every_place_and_circles_go_on(personas):
    program, host = shadowing_program(personas, capacity=2)
    shadows = [ParticipantFactory(program=program, role="shadow") for _ in range(2)]
    active = propose(
        personas, [(host, "host"), (shadows[0], "shadow")], kind="shadowing", program=program
    )
    connection_activate(actor=personas.manager, connection=active)
    proposal = propose(
        personas, [(host, "host"), (shadows[1], "shadow")], kind="shadowing", program=program
    )

    ended = participant_connections_end(
        actor=host.person.user, participant=host, reason_code="left_organisation"
    )
    assert ended.count == 2
    active.refresh_from_db()
    proposal.refresh_from_db()
    assert (active.status, active.end_reason) == ("closed_early", "left_organisation")
    assert proposal.status == "cancelled"
    assert not ConnectionMember.objects.filter(participant=host, is_current=True).exists()

    circles = ProgramFactory(format="circles", group_size_min=3)
    ProgramManagerFactory(program=circles, user=personas.manager)
    people = [ParticipantFactory(program=circles, role="member") for _ in range(3)]
    circle = propose(personas, [(p, "member") for p in people], kind="circle", program=circles)
    connection_activate(actor=personas.manager, connection=circle)
    participant_connections_end(
        actor=personas.manager, participant=people[0], reason_code="no_time"
    )
    circle.refresh_from_db()
    assert circle.status == "active"
    assert set(circle.members.filter(is_current=True).values_list("participant", flat=True)) == {
        people[1].pk,
        people[2].pk,
    }
    assert events(circle, "connection.member_left").get().data["participant_id"] == people[0].pk
    # With one member left there is no circle any more.
    participant_connections_end(
        actor=personas.manager, participant=people[1], reason_code="no_time"
    )
    circle.refresh_from_db()
    assert circle.status == "closed_early"


def test_leaving_needs_a_reason_and_the_right_person(personas, make_peer, make_pair):
    connection = make_pair(personas.participant_record, make_peer())
    record = personas.participant_record
    for actor in (personas.other_participant, personas.other_manager):
        with pytest.raises(PermissionDenied):
            participant_connections_end(actor=actor, participant=record, reason_code="no_time")
    with pytest.raises(ApplicationError) as refused:
        participant_connections_end(
            actor=personas.participant, participant=record, reason_code="completed"
        )
    assert refused.value.field == "reason_code"
    with pytest.raises(ApplicationError) as refused:
        participant_connections_end(
            actor=personas.participant, participant=record, reason_code="other"
        )
    assert refused.value.field == "reason_text"
    connection.refresh_from_db()
    assert connection.status == "active"


def test_only_consenting_reflections_are_quotable_and_without_names(personas, make_peer, make_pair):
    other = make_peer()
    connection = make_pair(personas.participant_record, other)
    connection_complete(actor=personas.manager, connection=connection)
    reflect(personas.participant, connection, went_well="Shared freely", may_quote=True)
    reflect(other.person.user, connection, went_well="Keep this private", may_quote=False)
    quotes = quotable_reflections(viewer=personas.manager, program=personas.program)
    assert [q.went_well for q in quotes] == ["Shared freely"]
    assert quotes[0].kind == "pair" and not hasattr(quotes[0], "participant")
    with pytest.raises(PermissionDenied):
        quotable_reflections(viewer=personas.participant, program=personas.program)
