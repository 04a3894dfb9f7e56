"""Managers act on health (issue 12): the program's connections list shows each connection's
health, last meeting, last check-in and plan progress, and filters by health and "no meeting
yet"; the dashboard's "Needing attention" count links to that filter."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from peermentor.connections.models import Connection
from peermentor.engagement.models import CheckIn, Meeting

pytestmark = pytest.mark.django_db


def _started(connection, days_ago):
    Connection.objects.filter(pk=connection.pk).update(
        started_at=timezone.now() - timedelta(days=days_ago)
    )


def test_list_shows_health_and_activity_and_filters_by_them(client, personas, make_peer, make_pair):
    quiet = make_pair(make_peer(), make_peer())
    _started(quiet, 40)  # 40 days, no meeting held and none scheduled: needs attention
    busy = make_pair(make_peer(), make_peer())
    _started(busy, 40)
    held = timezone.now() - timedelta(days=3)
    Meeting.objects.create(
        connection=busy,
        proposed_by=personas.manager,
        title="First meeting",
        time_zone="UTC",
        starts_at=held,
        duration_minutes=30,
        status="held",
        outcome_logged_at=held,
    )
    CheckIn.objects.create(
        connection=busy, participant=busy.members.first().participant, period=0, rating=4
    )
    client.force_login(personas.manager)
    url = reverse("program_connections", args=[personas.program.pk])

    page = client.get(url).content.decode()
    assert "Needs attention" in page and "On track" in page
    assert "No meeting held in the 40 days since it started." in page
    assert f"{held:%-d %b %Y}" in page  # last meeting and last check-in

    attention = client.get(url, {"health": "needs_attention"})
    assert [c.pk for c, _ in attention.context["rows"]] == [quiet.pk]
    no_meeting = client.get(url, {"health": "no_meeting"})
    assert [c.pk for c, _ in no_meeting.context["rows"]] == [quiet.pk]
    # A value the form does not know is ignored, never an error page.
    assert len(client.get(url, {"health": "bogus"}).context["rows"]) == 2

    dashboard = client.get(reverse("insights_program", args=[personas.program.pk]))
    assert f'href="{url}?health=needs_attention"' in dashboard.content.decode()


@pytest.mark.parametrize(
    ("role", "status"),
    [("anonymous", 302), ("outsider", 403), ("participant", 403), ("manager", 200)],
)
def test_the_health_filter_is_for_the_programs_managers(client, personas, role, status):
    user = getattr(personas, role, None)
    if user is not None:
        client.force_login(user)
    url = reverse("program_connections", args=[personas.program.pk])
    assert client.get(url, {"health": "needs_attention"}).status_code == status
