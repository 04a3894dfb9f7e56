"""Members reach the workspace (issue 6) from their connections; managers never do."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def _workspace_url(connection):
    return reverse("workspace", args=[connection.pk])


def test_members_find_the_workspace_on_my_connections_and_the_detail(personas, client, make_pair):
    pair = make_pair(personas.participant_record, personas.other_participant_record)
    client.force_login(personas.participant)
    assert _workspace_url(pair) in client.get(reverse("my_connections")).content.decode()
    detail = client.get(reverse("connection_detail", args=[pair.pk])).content.decode()
    assert _workspace_url(pair) in detail


def test_a_proposal_has_no_workspace_yet(personas, client, make_pair):
    pair = make_pair(personas.participant_record, personas.other_participant_record, active=False)
    client.force_login(personas.participant)
    assert _workspace_url(pair) not in client.get(reverse("my_connections")).content.decode()


def test_managers_see_the_connection_but_no_workspace_link(personas, client, make_pair):
    pair = make_pair(personas.participant_record, personas.other_participant_record)
    client.force_login(personas.manager)
    detail = client.get(reverse("connection_detail", args=[pair.pk]))
    assert detail.status_code == 200
    assert _workspace_url(pair) not in detail.content.decode()
