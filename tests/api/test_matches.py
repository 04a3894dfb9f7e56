import pytest

from peermentor.connections.models import Connection
from peermentor.matches.models import MatchRun, ProposalMember, UnmatchedEntry
from tests.api.conftest import assert_error
from tests.factories import (
    MatchRunFactory,
    ProposalFactory,
    ReadyParticipantFactory,
    TrackFactory,
)
from tests.matches.conftest import MatchingWorld

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(db):
    world = MatchingWorld()
    world.save_policy()
    return world


def runs_url(program):
    return f"/api/v1/matches/programs/{program.pk}/runs"


def run_url(run_id, rest=""):
    return f"/api/v1/matches/runs/{run_id}{rest}"


@pytest.fixture
def start(django_capture_on_commit_callbacks):
    """POST a run and let its task run (ImmediateBackend) once the request commits."""

    def post(api, program, payload=None):
        with django_capture_on_commit_callbacks(execute=True):
            response = api.post(runs_url(program), payload)
        assert response.status_code == 201, response.content
        return response.json()

    return post


def test_a_manager_starts_a_run_polls_it_reviews_and_publishes(api_as, world, start, mailoutbox):
    api = api_as(world.manager)
    queued = start(api, world.program, {"seed": 3})
    assert queued["status"] == "queued" and queued["is_active"] is True and queued["seed"] == 3

    run = api.get(run_url(queued["id"])).json()
    assert run["status"] == "succeeded" and run["progress"] == 1.0 and not run["is_active"]
    assert run["proposal_count"] == 3 and run["placed_count"] == 6
    assert run["gap"] is not None and run["upper_bound"] >= run["total_score"]
    assert run["proposal_counts"] == {
        "total": 3,
        "locked": 0,
        "excluded": 0,
        "manual": 0,
        "with_warnings": 0,
    }

    proposals = api.get(run_url(queued["id"], "/proposals")).json()
    assert proposals["count"] == 3
    scores = [item["score"] for item in proposals["items"]]
    assert scores == sorted(scores, reverse=True)
    first = proposals["items"][0]
    assert first["reasons"] and len(first["members"]) == 2
    assert {member["person"]["full_name"][:6] for member in first["members"]} == {"Person"}
    ascending = api.get(run_url(queued["id"], "/proposals"), sort="score").json()
    assert [item["score"] for item in ascending["items"]] == sorted(scores)
    assert api.get(run_url(queued["id"], "/proposals"), state="locked").json()["count"] == 0

    published = api.post(run_url(queued["id"], "/publish"))
    assert published.status_code == 200, published.content
    assert published.json()["connection_count"] == 3
    assert published.json()["run"]["published_at"] is not None
    assert Connection.objects.filter(match_run_id=queued["id"], status="active").count() == 3
    again = assert_error(api.post(run_url(queued["id"], "/publish")), 409)
    assert "published" in again["message"]


def test_people_left_out_are_listed_with_the_reason(api_as, world, start):
    world.add(7)
    api = api_as(world.manager)
    run_id = start(api, world.program)["id"]
    body = api.get(run_url(run_id, "/unmatched")).json()
    assert body["count"] == 1
    entry = body["items"][0]
    # Whom the engine leaves out is its choice; that someone is, and why, is the contract.
    assert entry["reason"] and entry["person"]["full_name"].startswith("Person ")


def test_a_run_of_one_track_matches_only_that_track(api_as, world, start):
    track = TrackFactory(program=world.program)
    for participant in world.participants[:2]:
        participant.track = track
        participant.save()
    api = api_as(world.manager)
    run = start(api, world.program, {"track": track.pk})
    assert run["track"] == {"id": track.pk, "name": track.name}
    assert api.get(run_url(run["id"])).json()["placed_count"] == 2


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"track": 999999}, "track"),
        ({"track": "first"}, "track"),
        ({"seed": -1}, "seed"),
        ({"seed": 2**31}, "seed"),
        ({"seed": "lucky"}, "seed"),
    ],
)
def test_bad_run_settings_are_refused_beside_their_field(api_as, world, payload, field):
    assert_error(api_as(world.manager).post(runs_url(world.program), payload), 400, field)
    assert not MatchRun.objects.exists()


def test_a_track_of_another_program_is_refused(api_as, world):
    other = TrackFactory()
    response = api_as(world.manager).post(runs_url(world.program), {"track": other.pk})
    assert_error(response, 400, "track")


def test_a_run_needs_someone_ready(api_as, world):
    for participant in world.participants:
        participant.ready_at = None
        participant.save()
    body = assert_error(api_as(world.manager).post(runs_url(world.program)), 400)
    assert "ready" in body["message"]


def test_one_run_at_a_time(api_as, world):
    api = api_as(world.manager)
    assert api.post(runs_url(world.program)).status_code == 201
    # A conflict with the run's state: 409, as the API's error table says (was 400).
    body = assert_error(api.post(runs_url(world.program)), 409)
    assert "in progress" in body["message"]
    assert MatchRun.objects.count() == 1


def test_a_queued_run_can_be_cancelled_once(api_as, world):
    api = api_as(world.manager)
    run_id = api.post(runs_url(world.program)).json()["id"]
    response = api.post(run_url(run_id, "/cancel"))
    assert response.status_code == 200 and response.json()["status"] == "cancelled"
    body = assert_error(api.post(run_url(run_id, "/cancel")), 409)
    assert "already finished" in body["message"]


def test_a_run_that_is_not_finished_cannot_be_published(api_as, world):
    api = api_as(world.manager)
    run_id = api.post(runs_url(world.program)).json()["id"]
    body = assert_error(api.post(run_url(run_id, "/publish")), 409)
    assert "finished" in body["message"]
    assert not Connection.objects.exists()


def test_participants_may_not_see_runs(api_as, world):
    run = MatchRunFactory(program=world.program)
    participant = world.participants[0].person.user
    assert_error(api_as(participant).get(run_url(run.pk)), 403)
    assert_error(api_as(participant).post(runs_url(world.program)), 403)


# --- query budgets -------------------------------------------------------------------------
def _proposal(run, program):
    proposal = ProposalFactory(run=run)
    for _ in range(2):
        ProposalMember.objects.create(
            proposal=proposal,
            run=run,
            participant=ReadyParticipantFactory(program=program),
            role="peer",
        )


def test_run_lists_run_the_same_queries_for_more_rows(api_as, world):
    api = api_as(world.manager)
    run = MatchRunFactory(program=world.program, track=TrackFactory(program=world.program))
    _proposal(run, world.program)
    UnmatchedEntry.objects.create(run=run, participant=world.participants[0], reason="Alone.")
    urls = [
        runs_url(world.program),
        run_url(run.pk, "/proposals"),
        run_url(run.pk, "/unmatched"),
    ]
    few = [api.queries(url) for url in urls]
    for _ in range(11):
        MatchRunFactory(program=world.program, track=TrackFactory(program=world.program))
        _proposal(run, world.program)
        UnmatchedEntry.objects.create(
            run=run, participant=ReadyParticipantFactory(program=world.program), reason="Alone."
        )
    assert [api.queries(url) for url in urls] == few
    assert max(few) <= 10
