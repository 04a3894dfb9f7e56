"""Closing a program: what it will do, then every connection ended in one transaction; no
active connection is ever left in a closed program (SQLite and PostgreSQL alike)."""

import datetime

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from peermentor.connections.models import Connection
from peermentor.engagement.models import Meeting
from peermentor.flows.program_close import closure_preview, planned_ends_run, program_close
from peermentor.programs.models import Program
from peermentor.surveys.models import SurveyInvitation
from tests.factories import (
    MeetingFactory,
    SurveyFactory,
    TrackFactory,
)


def _assert_no_active_connection_in_a_closed_program():
    assert not Connection.objects.filter(
        program__status="closed", status__in=["active", "proposed"]
    ).exists()


@pytest.fixture
def three_pairs(personas, running, make_member, make_connection):
    pairs = [
        make_connection(make_member(f"A{index}"), make_member(f"B{index}")) for index in range(3)
    ]
    SurveyFactory(
        program=personas.program,
        schedule="at_closure",
        audience="connection_members",
        status="open",
        opened_at=timezone.now(),
        title="Wrap-up",
    )
    MeetingFactory(
        connection=pairs[0],
        status="scheduled",
        starts_at=timezone.now() + datetime.timedelta(days=3),
    )
    return pairs


def test_closing_completes_every_connection_and_asks_the_closing_survey_at_once(
    personas, three_pairs, django_capture_on_commit_callbacks
):
    preview = closure_preview(program=personas.program)
    assert (preview.active_connections, preview.upcoming_meetings) == (3, 1)
    assert preview.closing_surveys == ["Wrap-up"]

    with django_capture_on_commit_callbacks(execute=True):
        result = program_close(actor=personas.manager, program=personas.program, reason="Done")

    assert result.completed == 3
    assert Program.objects.get(pk=personas.program.pk).status == "closed"
    assert set(Connection.objects.values_list("status", "end_reason")) == {
        ("completed", "completed")
    }
    assert Meeting.objects.get().status == "cancelled"
    # Six members asked at once, not at the next periodic round.
    assert SurveyInvitation.objects.count() == 6
    _assert_no_active_connection_in_a_closed_program()


def test_closing_refused_leaves_everything_as_it_was(personas, three_pairs):
    from peermentor.core.errors import ApplicationError

    with pytest.raises(ApplicationError):
        program_close(actor=personas.manager, program=personas.program, reason="  ")
    assert Connection.objects.filter(status="active").count() == 3


def test_the_api_closes_through_the_flow(client, personas, three_pairs):
    client.force_login(personas.manager)
    url = f"/api/v1/programs/{personas.program.pk}"
    assert client.get(f"{url}/closure").json()["active_connections"] == 3
    response = client.post(
        f"{url}/transition",
        {"to_status": "closed", "reason": "The cohort ended"},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "closed"
    _assert_no_active_connection_in_a_closed_program()
    assert client.get(f"{url}/closure").json()["active_connections"] == 0


def test_the_page_shows_what_will_happen_before_closing(client, personas, three_pairs):
    client.force_login(personas.manager)
    url = reverse("program_transition", args=[personas.program.pk])
    page = client.post(url, {"to_status": "closed", "reason": "Done"})
    assert page.status_code == 200
    text = page.content.decode()
    assert "3</strong> active connections will be completed" in text
    assert "“Wrap-up”" in text
    assert Connection.objects.filter(status="active").count() == 3

    done = client.post(
        reverse("program_close", args=[personas.program.pk]),
        {"to_status": "closed", "reason": "Done", "confirm": "1"},
    )
    assert done.status_code == 302
    assert Connection.objects.filter(status="active").count() == 0
    _assert_no_active_connection_in_a_closed_program()


@pytest.mark.parametrize(
    "role,status",
    [
        ("outsider", 403),
        ("participant", 403),
        ("other_manager", 403),
        ("manager", 200),
        ("admin", 200),
    ],
)
def test_close_page_permissions(client, personas, role, status):
    client.force_login(personas.user(role))
    assert client.get(reverse("program_close", args=[personas.program.pk])).status_code == status
    track = TrackFactory(program=personas.program)
    url = reverse("program_track_complete", args=[personas.program.pk, track.pk])
    assert client.get(url).status_code == status


def test_a_track_s_connections_complete_together(
    client, personas, running, make_member, make_connection
):
    track = TrackFactory(program=personas.program)
    inside = make_connection(make_member("A"), make_member("B"))
    outside = make_connection(make_member("C"), make_member("D"))
    Connection.objects.filter(pk=inside.pk).update(track=track)
    client.force_login(personas.manager)
    url = reverse("program_track_complete", args=[personas.program.pk, track.pk])
    assert "1</strong> active connection of this track" in client.get(url).content.decode()
    assert client.post(url, {"reason_code": "goals_met"}).status_code == 302
    inside.refresh_from_db()
    outside.refresh_from_db()
    assert (inside.status, inside.end_reason, outside.status) == (
        "completed",
        "goals_met",
        "active",
    )


def test_planned_end_completes_connections_then_closes_the_program(
    personas, running, make_member, make_connection
):
    today = timezone.localdate()
    ended = make_connection(
        make_member("A"), make_member("B"), planned_end_on=today - datetime.timedelta(days=1)
    )
    extended = make_connection(
        make_member("C"), make_member("D"), planned_end_on=today + datetime.timedelta(days=20)
    )
    Program.objects.filter(pk=personas.program.pk).update(
        planned_end_on=today - datetime.timedelta(days=1)
    )

    result = planned_ends_run(today=today)
    assert (result.connections_completed, result.programs_closed) == (1, 0)
    ended.refresh_from_db()
    assert ended.status == "completed"
    # The extended connection keeps its program running until it ends too.
    assert Program.objects.get(pk=personas.program.pk).status == "running"

    later = today + datetime.timedelta(days=21)
    result = planned_ends_run(today=later)
    assert (result.connections_completed, result.programs_closed) == (1, 1)
    extended.refresh_from_db()
    assert extended.status == "completed"
    assert Program.objects.get(pk=personas.program.pk).status == "closed"
    _assert_no_active_connection_in_a_closed_program()
    assert planned_ends_run(today=later) == type(result)(0, 0)
    assert mail.outbox is not None
