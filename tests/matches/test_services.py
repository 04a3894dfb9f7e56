import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from peermentor.connections.models import Connection, ConnectionMember
from peermentor.core.errors import ApplicationError
from peermentor.core.models import AuditEvent
from peermentor.flows import publish
from peermentor.matches import execution, services
from peermentor.matches.models import MatchRun, Proposal, ProposalMember, UnmatchedEntry
from tests.factories import ParticipantFactory, UserFactory
from tests.matches.conftest import MatchingWorld

pytestmark = pytest.mark.django_db


@pytest.fixture
def run_now(django_capture_on_commit_callbacks):
    """Start a run and let its task run (ImmediateBackend) when the transaction commits."""

    def start(world, actor=None, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            run = services.match_run_start(
                actor=actor or world.manager, program=world.program, **kwargs
            )
        run.refresh_from_db()
        return run

    return start


def names(proposal):
    return sorted(m.participant.person.full_name for m in proposal.members.all())


# --- runs -----------------------------------------------------------------------------------
def test_a_run_stores_proposals_with_scores_reasons_and_its_gap(world, run_now):
    run = run_now(world)
    assert run.status == "succeeded"
    assert run.progress == 1.0 and run.finished_at is not None
    assert run.proposal_count == 3 and run.placed_count == 6 and run.unmatched_count == 0
    assert run.total_score == pytest.approx(sum(p.score for p in Proposal.objects.filter(run=run)))
    assert run.gap is not None and run.gap >= 0
    proposal = Proposal.objects.filter(run=run).first()
    assert proposal.members.count() == 2
    assert proposal.reasons
    assert set(proposal.members.values_list("role", flat=True)) == {"peer"}
    actions = set(AuditEvent.objects.filter(target_id=run.pk).values_list("action", flat=True))
    assert {"match_run.queued", "match_run.succeeded"} <= actions


def test_people_left_out_are_listed_with_a_reason(world, run_now):
    world.add(7)
    run = run_now(world)
    assert run.unmatched_count == 1
    entry = UnmatchedEntry.objects.get(run=run)
    assert entry.reason


def test_a_run_keeps_the_settings_it_was_started_with(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        run = services.match_run_start(actor=world.manager, program=world.program)
    world.save_policy(min_score=0.99)
    for callback in callbacks:
        callback()
    run.refresh_from_db()
    assert run.parameters["policy"]["min_score"] == 0.0
    assert run.status == "succeeded" and run.proposal_count == 3


def test_a_failed_run_says_why_and_writes_nothing(world, run_now, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("solver exploded")

    monkeypatch.setattr(execution, "engine_match", broken)
    run = run_now(world)
    assert run.status == "failed"
    assert "solver exploded" in run.error_message
    assert not Proposal.objects.filter(run=run).exists()
    assert AuditEvent.objects.filter(target_id=run.pk, action="match_run.failed").exists()


def test_a_failure_while_saving_leaves_no_half_written_proposals(world, run_now, monkeypatch):
    original = UnmatchedEntry.objects.bulk_create

    def fail_late(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(UnmatchedEntry.objects, "bulk_create", fail_late)
    run = run_now(world)
    monkeypatch.setattr(UnmatchedEntry.objects, "bulk_create", original)
    assert run.status == "failed" and "disk full" in run.error_message
    assert not Proposal.objects.filter(run=run).exists()
    assert not ProposalMember.objects.filter(run=run).exists()


def test_cancelling_a_running_run_stops_the_engine_and_writes_nothing(world, run_now, monkeypatch):
    real_engine = services.engine_match
    seen = []

    def cancelled_midway(people, policy, *, locks, seed, progress):
        run = MatchRun.objects.get(status="running")
        services.match_run_cancel(actor=world.manager, run=run)
        progress("Solving", 0.5)  # the next progress report notices and aborts
        seen.append("not stopped")
        return real_engine(people, policy, locks=locks, seed=seed, progress=progress)

    monkeypatch.setattr(execution, "engine_match", cancelled_midway)
    monkeypatch.setattr(execution, "PROGRESS_INTERVAL_SECONDS", 0)
    run = run_now(world)
    assert run.status == "cancelled"
    assert seen == []
    assert not Proposal.objects.filter(run=run).exists()


def test_cancel_a_queued_run_and_the_worker_skips_it(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        run = services.match_run_start(actor=world.manager, program=world.program)
    services.match_run_cancel(actor=world.manager, run=run)
    for callback in callbacks:
        callback()
    run.refresh_from_db()
    assert run.status == "cancelled"
    assert services.match_run_execute(run_id=run.pk) == "cancelled"
    with pytest.raises(ApplicationError, match="already finished"):
        services.match_run_cancel(actor=world.manager, run=run)


def test_a_run_is_claimed_once(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        run = services.match_run_start(actor=world.manager, program=world.program)
    assert services.match_run_execute(run_id=run.pk) == "succeeded"
    assert services.match_run_execute(run_id=run.pk) == "succeeded"
    assert Proposal.objects.filter(run=run).count() == 3


def test_only_one_active_run_per_program(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        services.match_run_start(actor=world.manager, program=world.program)
        with pytest.raises(ApplicationError, match="already in progress"):
            services.match_run_start(actor=world.manager, program=world.program)


def test_starting_is_refused_for_non_managers_and_without_ready_people(world, db):
    participant_user = world.participants[0].person.user
    with pytest.raises(PermissionDenied):
        services.match_run_start(actor=participant_user, program=world.program)
    with pytest.raises(PermissionDenied):
        services.match_run_start(actor=UserFactory(), program=world.program)
    empty = MatchingWorld(people=0)
    with pytest.raises(ApplicationError, match="Nobody is ready"):
        services.match_run_start(actor=empty.manager, program=empty.program)


def test_a_bad_saved_policy_is_refused_before_queueing(world):
    world.program.matching_policy = {"format": "pairs", "min_score": 7}
    world.program.save()
    with pytest.raises(ApplicationError):
        services.match_run_start(actor=world.manager, program=world.program)
    assert not MatchRun.objects.exists()


# --- review ---------------------------------------------------------------------------------
def test_rerun_keeps_locked_proposals_and_never_reforms_excluded_pairs(world, run_now):
    run = run_now(world)
    proposals = list(Proposal.objects.filter(run=run).order_by("id"))
    locked, excluded = proposals[0], proposals[1]
    services.proposal_set_locked(actor=world.manager, proposal=locked, is_locked=True)
    services.proposal_set_excluded(actor=world.manager, proposal=excluded, is_excluded=True)
    excluded_pair = set(excluded.members.values_list("participant_id", flat=True))
    locked_pair = set(locked.members.values_list("participant_id", flat=True))

    rerun = services.match_run_rerun(actor=world.manager, run=run)
    services.match_run_execute(run_id=rerun.pk)
    rerun.refresh_from_db()
    assert rerun.status == "succeeded" and rerun.parent_id == run.pk
    groups = [
        set(p.members.values_list("participant_id", flat=True))
        for p in Proposal.objects.filter(run=rerun)
    ]
    assert locked_pair in groups
    assert excluded_pair not in groups
    kept = Proposal.objects.get(run=rerun, is_locked=True)
    assert set(kept.members.values_list("participant_id", flat=True)) == locked_pair
    assert [list(pair) for pair in rerun.parameters["forbidden"]]


def test_lock_and_exclude_are_exclusive_and_audited(world, run_now):
    run = run_now(world)
    proposal = Proposal.objects.filter(run=run).first()
    services.proposal_set_locked(actor=world.manager, proposal=proposal, is_locked=True)
    with pytest.raises(ApplicationError, match="Unlock"):
        services.proposal_set_excluded(actor=world.manager, proposal=proposal, is_excluded=True)
    with pytest.raises(PermissionDenied):
        services.proposal_set_locked(
            actor=world.participants[0].person.user, proposal=proposal, is_locked=False
        )
    assert AuditEvent.objects.filter(action="match_proposal.locked", target_id=proposal.pk).exists()


def test_manual_pair_shows_warnings_and_is_created_locked(world, run_now):
    boss = world.participants[0]
    report = world.participants[1]
    report.person.manager = boss.person
    report.person.save()
    run = run_now(world)
    from peermentor.matches.selectors import manual_pair_check

    check = manual_pair_check(viewer=world.manager, run=run, first=boss, second=report)
    assert not check.refusal
    assert any("reporting line" in warning for warning in check.warnings)
    assert 0 <= check.score <= 1

    proposal = services.proposal_create_manual(
        actor=world.manager, run=run, first=boss, second=report
    )
    assert proposal.is_manual and proposal.is_locked and proposal.has_warnings
    assert set(proposal.members.values_list("participant_id", flat=True)) == {boss.pk, report.pk}
    # Each person is in one proposal; their former partners are now listed as left out.
    for participant in (boss, report):
        assert ProposalMember.objects.filter(run=run, participant=participant).count() == 1
    assert UnmatchedEntry.objects.filter(run=run).count() == 2


def test_manual_pair_refuses_outsiders_and_the_same_person(world, run_now):
    run = run_now(world)
    stranger = ParticipantFactory()
    with pytest.raises(ApplicationError, match="take part"):
        services.proposal_create_manual(
            actor=world.manager, run=run, first=world.participants[0], second=stranger
        )
    with pytest.raises(ApplicationError, match="two different"):
        services.proposal_create_manual(
            actor=world.manager,
            run=run,
            first=world.participants[0],
            second=world.participants[0],
        )


# --- publishing -----------------------------------------------------------------------------
def test_publish_creates_active_connections_and_notifies_everyone(
    world, run_now, mailoutbox, django_capture_on_commit_callbacks
):
    run = run_now(world)
    excluded = Proposal.objects.filter(run=run).first()
    services.proposal_set_excluded(actor=world.manager, proposal=excluded, is_excluded=True)
    with django_capture_on_commit_callbacks(execute=True):
        count = publish.match_run_publish(actor=world.manager, run=run)
    assert count == 2
    connections = Connection.objects.filter(match_run_id=run.pk)
    assert connections.count() == 2
    assert set(connections.values_list("status", flat=True)) == {"active"}
    assert all(c.reasons for c in connections)
    assert ConnectionMember.objects.filter(connection__in=connections).count() == 4
    run.refresh_from_db()
    assert run.is_published and run.published_by == world.manager
    assert len(mailoutbox) == 4
    message = mailoutbox[0]
    assert "You have been matched" in message.subject
    assert "/connections/" in message.body
    with pytest.raises(ApplicationError, match="published"):
        publish.match_run_publish(actor=world.manager, run=run)


def test_publish_is_all_or_nothing(world, run_now, mailoutbox):
    run = run_now(world)
    # Someone gets connected elsewhere meanwhile: their proposal can no longer be placed.
    from peermentor.connections.services import connection_propose

    taken = Proposal.objects.filter(run=run).last().members.first().participant
    free = ParticipantFactory(program=world.program, role="peer")
    connection_propose(
        actor=world.manager,
        program=world.program,
        members=[(taken, "peer"), (free, "peer")],
        kind="pair",
        source="manual",
    )
    with pytest.raises(ApplicationError, match="Nothing was published"):
        publish.match_run_publish(actor=world.manager, run=run)
    assert not Connection.objects.filter(match_run_id=run.pk).exists()
    run.refresh_from_db()
    assert not run.is_published
    assert mailoutbox == []


def test_publish_is_refused_to_non_managers(world, run_now):
    run = run_now(world)
    with pytest.raises(PermissionDenied):
        publish.match_run_publish(actor=world.participants[0].person.user, run=run)


def test_publish_withdraws_the_self_match_requests_it_made_impossible(
    run_now, mailoutbox, django_capture_on_commit_callbacks, db
):
    from peermentor.selfmatch.models import MatchRequest
    from tests.selfmatch.world import self_match_world, send

    world = self_match_world(people=6)
    run = run_now(world)
    left_out, *published = Proposal.objects.filter(run=run).order_by("id")
    services.proposal_set_excluded(actor=world.manager, proposal=left_out, is_excluded=True)
    free_a, free_b = (m.participant for m in left_out.members.order_by("id"))
    placed_a, placed_b = (m.participant for m in published[0].members.order_by("id"))
    placed_c = published[1].members.order_by("id").first().participant
    to_placed = send(world, free_a, placed_a)
    between_placed = send(world, placed_b, placed_c)
    between_free = send(world, free_b, free_a)
    mailoutbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        assert publish.match_run_publish(actor=world.manager, run=run) == 2

    for request in (to_placed, between_placed, between_free):
        request.refresh_from_db()
    assert (to_placed.status, between_placed.status) == ("cancelled", "cancelled")
    assert to_placed.response_note == (
        f"{placed_a.person.full_name} has been matched by the program's match run."
    )
    # People the run left out may still answer each other.
    assert between_free.status == "pending"
    assert set(
        AuditEvent.objects.filter(action="match_request.cancelled").values_list(
            "target_id", "actor_id"
        )
    ) == {(to_placed.pk, world.manager.pk), (between_placed.pk, world.manager.pk)}
    run_audit = AuditEvent.objects.get(action="match_run.published")
    assert run_audit.data["requests_withdrawn"] == 2
    # Both people of each withdrawn request are told, beside the four "you have been matched".
    notices = [m for m in mailoutbox if "was withdrawn" in m.subject]
    assert sorted(address for m in notices for address in m.to) == sorted(
        p.person.email for p in (free_a, placed_a, placed_b, placed_c)
    )
    assert MatchRequest.objects.filter(status="pending").count() == 1


def test_withdrawing_impossible_requests_takes_the_same_queries_for_one_or_many(db):
    from django.db import connection as db_connection
    from django.test.utils import CaptureQueriesContext

    from peermentor.connections.services import connection_activate, connection_propose
    from peermentor.selfmatch import services as request_services
    from tests.selfmatch.world import self_match_world, send

    def cancelled_with_queries(people, connected, askers_each):
        world = self_match_world(people=people)
        placed = world.participants[:connected]
        others = world.participants[connected:]
        for index, participant in enumerate(placed):
            for asker in others[index * askers_each : (index + 1) * askers_each]:
                send(world, asker, participant)
        for first, second in zip(placed[::2], placed[1::2], strict=True):
            connection = connection_propose(
                actor=world.manager,
                program=world.program,
                members=[(first, "peer"), (second, "peer")],
                kind="pair",
                source="manual",
            )
            connection_activate(actor=world.manager, connection=connection)
        with CaptureQueriesContext(db_connection) as queries:
            count = request_services.requests_cancel_unhonourable(
                actor=world.manager, participant_ids=[p.pk for p in placed]
            )
        return count, len(queries)

    few, few_queries = cancelled_with_queries(people=4, connected=2, askers_each=1)
    many, many_queries = cancelled_with_queries(people=16, connected=4, askers_each=3)
    assert (few, many) == (2, 12)
    assert many_queries == few_queries


def test_notifications_are_sent_once_per_member(world, run_now, mailoutbox):
    run = run_now(world)
    publish.match_run_publish(actor=world.manager, run=run)
    ids = list(ProposalMember.objects.filter(run=run).values_list("id", flat=True))
    assert services.match_notifications_send(run_id=run.pk, member_ids=ids) == 6
    assert services.match_notifications_send(run_id=run.pk, member_ids=ids) == 0
    assert len(mailoutbox) == 6


# --- every format ---------------------------------------------------------------------------
def test_shadowing_hosts_take_shadows_up_to_capacity_and_publish(run_now, mailoutbox, db):
    world = MatchingWorld(format="shadowing", goals=["cross_functional"], people=0)
    host = world.add(0, role="host", capacity=2)
    other_host = world.add(1, role="host", capacity=1)
    shadows = [world.add(index, role="shadow") for index in (2, 3, 4, 5)]
    world.save_policy(constraint=[])
    run = run_now(world)
    assert run.status == "succeeded"
    proposals = list(Proposal.objects.filter(run=run))
    assert len(proposals) == 3
    per_host = {}
    for proposal in proposals:
        roles = dict(proposal.members.values_list("role", "participant_id"))
        assert set(roles) == {"host", "shadow"}
        per_host[roles["host"]] = per_host.get(roles["host"], 0) + 1
    assert per_host[host.pk] <= 2 and per_host.get(other_host.pk, 0) <= 1
    assert UnmatchedEntry.objects.filter(run=run).count() == 1
    assert publish.match_run_publish(actor=world.manager, run=run) == 3
    assert set(Connection.objects.values_list("kind", flat=True)) == {"shadowing"}
    assert shadows


def test_buddies_are_bipartite(run_now, db):
    world = MatchingWorld(format="buddies", goals=["onboarding"], people=0)
    world.add(0, role="buddy", capacity=2)
    world.add(1, role="newcomer")
    world.add(2, role="newcomer")
    world.save_policy(constraint=[])
    run = run_now(world)
    assert run.proposal_count == 2
    assert publish.match_run_publish(actor=world.manager, run=run) == 2
    assert set(Connection.objects.values_list("kind", flat=True)) == {"buddy"}


def test_circles_get_facilitators_in_turn(run_now, db):
    world = MatchingWorld(
        format="circles",
        goals=["wellbeing"],
        people=12,
        group_size_min=4,
        group_size_max=5,
        has_facilitator=True,
    )
    facilitators = [world.add(20, role="facilitator"), world.add(21, role="facilitator")]
    world.save_policy(constraint=[])
    run = run_now(world)
    proposals = list(Proposal.objects.filter(run=run).order_by("id"))
    assert len(proposals) == 3
    with_facilitator = 0
    for proposal in proposals:
        roles = list(proposal.members.values_list("role", flat=True))
        assert roles.count("facilitator") <= 1
        with_facilitator += roles.count("facilitator")
        assert 4 <= roles.count("member") <= 5
    # Each facilitator takes as many circles as connections lets them hold at once.
    assert with_facilitator == 2
    for facilitator in facilitators:
        assert ProposalMember.objects.filter(participant=facilitator).count() == 1
    assert publish.match_run_publish(actor=world.manager, run=run) == 3
    assert set(Connection.objects.values_list("kind", flat=True)) == {"circle"}


def test_a_facilitator_with_capacity_leads_that_many_circles(run_now, db):
    world = MatchingWorld(
        format="circles",
        goals=["wellbeing"],
        people=12,
        group_size_min=4,
        group_size_max=5,
        has_facilitator=True,
    )
    facilitator = world.add(20, role="facilitator", capacity=2)
    world.save_policy(constraint=[])
    run = run_now(world)
    assert Proposal.objects.filter(run=run).count() == 3
    assert ProposalMember.objects.filter(participant=facilitator).count() == 2
    assert publish.match_run_publish(actor=world.manager, run=run) == 3
    led = Connection.objects.filter(members__participant=facilitator, status="active")
    assert led.count() == 2


def test_runs_per_track(run_now, world):
    from tests.factories import TrackFactory

    track = TrackFactory(program=world.program)
    for participant in world.participants[:4]:
        participant.track = track
        participant.save()
    run = run_now(world, track=track)
    assert run.track == track
    assert run.placed_count == 4


# --- settings -------------------------------------------------------------------------------
def test_settings_save_validates_and_audits(world):
    policy = world.policy(min_score=0.2)
    saved = services.matching_settings_save(
        actor=world.manager, program=world.program, policy=policy
    )
    world.program.refresh_from_db()
    assert world.program.matching_policy == saved
    assert saved["format"] == "pairs" and saved["min_score"] == 0.2
    assert AuditEvent.objects.filter(action="matching.settings_saved").exists()
    with pytest.raises(ApplicationError):
        services.matching_settings_save(
            actor=world.manager,
            program=world.program,
            policy=world.policy(criterion=[{"kind": "near", "field": "department", "scale": 2}]),
        )
    with pytest.raises(PermissionDenied):
        services.matching_settings_save(
            actor=world.participants[0].person.user, program=world.program, policy=policy
        )


def test_preview_writes_nothing_and_samples_large_programs(world):
    preview = services.matching_preview(
        actor=world.manager, program=world.program, policy=world.policy(), limit=4
    )
    assert preview.participant_count == 6 and preview.sample_size == 4 and preview.is_sample
    assert preview.placed == 4 and preview.group_count == 2
    assert preview.groups[0].reasons
    assert not MatchRun.objects.exists() and not Proposal.objects.exists()


def test_shadowing_rerun_keeps_a_locked_placement_and_the_host_takes_others(run_now, db):
    world = MatchingWorld(format="shadowing", goals=["cross_functional"], people=0)
    host = world.add(0, role="host", capacity=2, department=world.departments[0])
    shadows = [
        world.add(index, role="shadow", department=world.departments[1]) for index in (1, 2, 3)
    ]
    world.save_policy(constraint=[], criterion=[{"kind": "same", "field": "site", "weight": 1}])
    run = run_now(world)
    assert run.proposal_count == 2
    kept = Proposal.objects.filter(run=run).order_by("id").first()
    kept_shadow = kept.members.get(role="shadow").participant
    services.proposal_set_locked(actor=world.manager, proposal=kept, is_locked=True)

    rerun = services.match_run_rerun(actor=world.manager, run=run)
    services.match_run_execute(run_id=rerun.pk)
    rerun.refresh_from_db()
    assert rerun.status == "succeeded", rerun.error_message
    placements = {
        (p.members.get(role="host").participant_id, p.members.get(role="shadow").participant_id)
        for p in Proposal.objects.filter(run=rerun)
    }
    assert (host.pk, kept_shadow.pk) in placements
    assert len(placements) == 2  # the host still takes a second shadow
    assert (
        Proposal.objects.get(run=rerun, is_locked=True).members.get(role="shadow").participant
        == kept_shadow
    )
    assert len(shadows) == 3


def test_manual_host_and_shadow_respects_the_host_capacity(run_now, db):
    world = MatchingWorld(format="shadowing", goals=["cross_functional"], people=0)
    host = world.add(0, role="host", capacity=1)
    first, second = world.add(1, role="shadow"), world.add(2, role="shadow")
    world.save_policy(constraint=[])
    run = run_now(world)
    placed = Proposal.objects.get(run=run).members.get(role="shadow").participant
    waiting = second if placed == first else first
    with pytest.raises(ApplicationError, match="no free place"):
        services.proposal_create_manual(actor=world.manager, run=run, first=waiting, second=host)
    with pytest.raises(ApplicationError, match="one host and one shadow"):
        services.proposal_create_manual(actor=world.manager, run=run, first=first, second=second)
    # Dropping the host's proposal frees the place; the order of the two does not matter.
    Proposal.objects.filter(run=run).update(is_excluded=True)
    proposal = services.proposal_create_manual(
        actor=world.manager, run=run, first=waiting, second=host
    )
    roles = dict(proposal.members.values_list("role", "participant_id"))
    assert roles == {"host": host.pk, "shadow": waiting.pk}


def test_manual_join_moves_someone_from_an_excluded_circle_into_another(run_now, db):
    world = MatchingWorld(
        format="circles", goals=["wellbeing"], people=8, group_size_min=4, group_size_max=5
    )
    world.save_policy(constraint=[])
    run = run_now(world)
    dropped, kept = Proposal.objects.filter(run=run).order_by("id")
    assert dropped.size == kept.size == 4
    mover, second_mover = [m.participant for m in dropped.members.all()[:2]]
    anchor = kept.members.first().participant
    with pytest.raises(ApplicationError, match="exclude that circle first"):
        services.proposal_create_manual(actor=world.manager, run=run, first=mover, second=anchor)
    services.proposal_set_excluded(actor=world.manager, proposal=dropped, is_excluded=True)
    proposal = services.proposal_create_manual(
        actor=world.manager, run=run, first=mover, second=anchor
    )
    assert proposal.pk == kept.pk and proposal.is_manual and proposal.is_locked
    assert proposal.members.count() == 5 and proposal.size == 5
    assert not dropped.members.filter(participant=mover).exists()
    with pytest.raises(ApplicationError, match="already has 5"):
        services.proposal_create_manual(
            actor=world.manager, run=run, first=second_mover, second=anchor
        )


def test_a_line_break_in_the_program_s_name_does_not_lose_the_notices(world, run_now, mailoutbox):
    world.program.name = "Skills\r\nExchange"
    world.program.save()
    run = run_now(world)
    publish.match_run_publish(actor=world.manager, run=run)
    ids = list(ProposalMember.objects.filter(run=run).values_list("id", flat=True))
    mailoutbox.clear()
    assert services.match_notifications_send(run_id=run.pk, member_ids=ids) == 6
    assert {message.subject for message in mailoutbox} == {
        "You have been matched in Skills Exchange"
    }


def test_notices_that_fail_are_sent_by_a_later_retry(world, run_now, mailoutbox, settings):
    from peermentor.notifications.email import emails_retry

    run = run_now(world)
    publish.match_run_publish(actor=world.manager, run=run)
    ids = list(ProposalMember.objects.filter(run=run).values_list("id", flat=True))
    mailoutbox.clear()
    settings.EMAIL_BACKEND = "tests.notifications.test_email.FailingBackend"
    assert services.match_notifications_send(run_id=run.pk, member_ids=ids) == 0
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    # A retried batch does not send them twice; the retry job sends each once.
    assert services.match_notifications_send(run_id=run.pk, member_ids=ids) == 0
    assert emails_retry(now=timezone.now() + dt.timedelta(hours=1)) == 6
    assert len(mailoutbox) == 6


# --- the run's figures follow hand edits (issue 12) ----------------------------------------------
def _kept_total(run):
    return sum(Proposal.objects.filter(run=run, is_excluded=False).values_list("score", flat=True))


def test_hand_pairs_recompute_the_total_and_the_gap_to_the_same_bound(world, run_now):
    run = run_now(world)
    bound, engine_total = run.upper_bound, run.total_score
    assert run.is_certified_result and run.engine_total_score == engine_total
    first, second = Proposal.objects.filter(run=run).order_by("-score", "id")[:2]
    a, b = (m.participant for m in first.members.all())
    c, d = (m.participant for m in second.members.all())

    # Replace the two best proposals by hand pairs of their people, crossed over.
    services.proposal_create_manual(actor=world.manager, run=run, first=a, second=c)
    run.refresh_from_db()
    assert run.placed_count == 4 and run.unmatched_count == 2  # b and d, left by hand
    services.proposal_create_manual(actor=world.manager, run=run, first=b, second=d)
    run.refresh_from_db()

    total = _kept_total(run)
    assert total < engine_total - 1e-9
    assert run.total_score == pytest.approx(total, abs=1e-9)
    assert run.upper_bound == bound  # the engine's certificate for the run's problem
    assert run.gap == pytest.approx((bound - total) / bound, abs=1e-9)
    assert run.placed_count == 6 and run.unmatched_count == 0
    assert run.engine_total_score == engine_total
    assert not run.is_certified_result


def test_excluding_a_proposal_leaves_its_people_out_until_it_is_included(world, run_now):
    run = run_now(world)
    engine_total = run.total_score
    proposal = Proposal.objects.filter(run=run).order_by("-score", "id").first()
    services.proposal_set_excluded(actor=world.manager, proposal=proposal, is_excluded=True)
    run.refresh_from_db()
    assert run.total_score == pytest.approx(engine_total - proposal.score, abs=1e-9)
    assert (run.placed_count, run.unmatched_count) == (4, 2)
    assert set(UnmatchedEntry.objects.filter(run=run).values_list("reason", flat=True)) == {
        "Their proposal is excluded."
    }
    assert not run.is_certified_result

    services.proposal_set_excluded(actor=world.manager, proposal=proposal, is_excluded=False)
    run.refresh_from_db()
    assert (run.placed_count, run.unmatched_count) == (6, 0)
    assert run.total_score == pytest.approx(engine_total, abs=1e-6)
    assert run.is_certified_result  # the edit was undone: the engine's result again

    # Locking changes nothing in the set: the figures stay the engine's.
    services.proposal_set_locked(actor=world.manager, proposal=proposal, is_locked=True)
    run.refresh_from_db()
    assert run.is_certified_result and run.placed_count == 6


def test_joining_a_circle_updates_its_mean_score_and_the_total(run_now, db):
    world = MatchingWorld(format="circles", goals=("wellbeing",), people=12)
    world.program.group_size_min, world.program.group_size_max = 4, 6
    world.program.save()
    world.save_policy()
    run = run_now(world)
    circles = list(Proposal.objects.filter(run=run).order_by("id"))
    assert len(circles) >= 2
    source, target = circles[0], circles[1]
    services.proposal_set_excluded(actor=world.manager, proposal=source, is_excluded=True)
    mover = source.members.first().participant
    target_member = target.members.first().participant
    services.proposal_create_manual(actor=world.manager, run=run, first=mover, second=target_member)
    run.refresh_from_db()
    target.refresh_from_db()
    size = target.members.count()
    kept = Proposal.objects.filter(run=run, is_excluded=False)
    expected = sum(p.score * p.members.count() for p in kept)
    assert run.total_score == pytest.approx(expected, abs=1e-9)
    assert run.placed_count == sum(p.members.count() for p in kept)
    assert size == target.size
