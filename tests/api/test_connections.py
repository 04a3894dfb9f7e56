import pytest
from django.utils import timezone

from peermentor.core.models import AuditEvent
from tests.api.conftest import assert_error
from tests.factories import ConnectionFactory, ConnectionMemberFactory, TrackFactory

pytestmark = pytest.mark.django_db

MINE = "/api/v1/connections/mine"


def connect(program, *participants, status="active", **fields):
    started = {"started_at": timezone.now()} if status != "proposed" else {}
    ended = {"ended_at": timezone.now()} if status in ("completed", "cancelled") else {}
    connection = ConnectionFactory(program=program, status=status, **started, **ended, **fields)
    for participant in participants:
        ConnectionMemberFactory(
            connection=connection, participant=participant, is_current=status == "active"
        )
    return connection


@pytest.fixture
def pair(personas):
    return connect(personas.program, personas.participant_record, personas.other_participant_record)


def close_url(connection):
    return f"/api/v1/connections/{connection.pk}/close"


# --- my connections --------------------------------------------------------------------------
def test_members_see_their_partner_why_they_were_matched_and_what_is_next(api_as, personas, pair):
    body = api_as(personas.participant).get(MINE).json()
    assert body["count"] == 1
    item = body["items"][0]
    assert item["id"] == pair.pk and item["status"] == "active" and item["my_role"] == "peer"
    assert [partner["full_name"] for partner in item["partners"]] == [
        personas.other_participant_record.person.full_name
    ]
    assert item["reasons"] == pair.reasons
    assert item["next_step"] == "Schedule your first meeting."
    assert "score" not in item
    assert api_as(personas.outsider).get(MINE).json()["count"] == 0


def test_my_connections_run_the_same_queries_for_more_connections(api_as, personas):
    from tests.factories import ParticipantFactory, ProgramFactory

    api = api_as(personas.participant)
    connect(personas.program, personas.participant_record, personas.other_participant_record)
    few = api.queries(MINE)
    for _ in range(12):
        program = ProgramFactory()
        me = ParticipantFactory(program=program, person=personas.participant_record.person)
        connect(program, me, ParticipantFactory(program=program), status="completed")
    assert api.queries(MINE) == few <= 8


# --- one connection --------------------------------------------------------------------------
def test_a_connection_shows_the_viewer_their_side(api_as, personas, pair):
    url = f"/api/v1/connections/{pair.pk}"
    as_member = api_as(personas.participant).get(url).json()
    assert as_member["is_manager"] is False and as_member["my_role"] == "peer"
    assert len(as_member["partners"]) == 1
    as_manager = api_as(personas.manager).get(url).json()
    assert as_manager["is_manager"] is True and as_manager["my_role"] is None
    assert len(as_manager["partners"]) == 2


# --- a program's connections -------------------------------------------------------------------
def test_managers_list_and_filter_the_programs_connections(api_as, personas, pair):
    from tests.factories import ParticipantFactory

    program = personas.program
    track = TrackFactory(program=program)
    proposed = connect(
        program,
        ParticipantFactory(program=program, person__full_name="Quinn Proposed"),
        ParticipantFactory(program=program),
        status="proposed",
        track=track,
    )
    api = api_as(personas.manager)
    url = f"/api/v1/connections/programs/{program.pk}"
    body = api.get(url).json()
    assert body["count"] == 2
    counts = {row["status"]: row["count"] for row in body["status_counts"]}
    assert counts["active"] == 1 and counts["proposed"] == 1
    assert body["average_rating"] is None
    first = body["items"][0]
    assert {"score", "source", "members"} <= set(first)
    assert len(first["members"]) == 2

    def ids(**filters):
        return [item["id"] for item in api.get(url, **filters).json()["items"]]

    assert ids(status="active") == [pair.pk]
    assert ids(track_id=track.pk) == [proposed.pk]
    assert ids(search="quinn") == [proposed.pk]
    assert ids(kind="circle") == []
    assert_error(api.get(url, status="paused"), 400, "status")
    assert_error(api.get(url, page=2), 404, "page")


def test_the_programs_connections_run_the_same_queries_for_more(api_as, personas):
    from tests.factories import ParticipantFactory

    program = personas.program
    api = api_as(personas.manager)
    url = f"/api/v1/connections/programs/{program.pk}"
    connect(program, ParticipantFactory(program=program), ParticipantFactory(program=program))
    few = api.queries(url)
    for _ in range(15):
        connect(
            program,
            ParticipantFactory(program=program),
            ParticipantFactory(program=program),
            track=TrackFactory(program=program),
        )
    assert api.queries(url) == few <= 12


# --- closing early -----------------------------------------------------------------------------
@pytest.mark.parametrize("role", ["participant", "manager"])
def test_a_member_or_manager_closes_a_connection_early_with_a_reason(api_as, personas, pair, role):
    response = api_as(personas.user(role)).post(
        close_url(pair), {"reason_code": "no_time", "reason_text": "  Busy quarter.  "}
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "closed_early" and body["end_reason"] == "no_time"
    pair.refresh_from_db()
    assert pair.end_reason_text == "Busy quarter." and pair.ended_at is not None
    assert not pair.members.filter(is_current=True).exists()
    event = AuditEvent.objects.get(action="connection.closed_early", target_id=pair.pk)
    assert event.actor == personas.user(role) and event.reason == "Busy quarter."


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({}, "reason_code"),
        ({"reason_code": "bored"}, "reason_code"),
        ({"reason_code": "completed"}, "reason_code"),
        ({"reason_code": "other"}, "reason_text"),
        ({"reason_code": "other", "reason_text": "   "}, "reason_text"),
        ({"reason_code": "no_time", "reason_text": "x" * 2001}, "reason_text"),
        ({"reason_code": "no_time", "reason_text": 5}, "reason_text"),
    ],
)
def test_closing_needs_a_reason(api_as, personas, pair, payload, field):
    assert_error(api_as(personas.participant).post(close_url(pair), payload), 400, field)
    pair.refresh_from_db()
    assert pair.status == "active"


def test_only_an_active_connection_closes(api_as, personas):
    proposed = connect(
        personas.program,
        personas.participant_record,
        personas.other_participant_record,
        status="proposed",
    )
    body = assert_error(
        api_as(personas.manager).post(close_url(proposed), {"reason_code": "no_time"}), 400
    )
    assert "cannot be closed early" in body["message"]
    proposed.refresh_from_db()
    assert proposed.status == "proposed"
