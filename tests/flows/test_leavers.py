"""Leavers and withdrawals: accounts closed, connections ended with the reason, partners told,
places freed, and out of the next run; nothing they wrote is deleted."""

from django.contrib.auth import authenticate
from django.core import mail
from django.urls import reverse

from peermentor.connections.models import Connection
from peermentor.enrollment.selectors import ready_participants
from peermentor.flows.leavers import participation_withdraw, people_leave
from peermentor.notifications.models import Notification
from peermentor.people.models import Person
from peermentor.people.services import people_import_file


def test_an_hr_import_marking_someone_inactive_ends_their_connections_and_sign_in(
    personas, running, make_member, make_connection, django_capture_on_commit_callbacks
):
    leaver, partner = make_member("Lee Leaver"), make_member("Pat Partner")
    leaver.person.user.set_password("secret-pass-123")
    leaver.person.user.save()
    pair = make_connection(leaver, partner)
    rows = "external_id,full_name,email,active\n"
    rows += f"{leaver.person.external_id},Lee Leaver,{leaver.person.email},false\n"
    rows += f"{partner.person.external_id},Pat Partner,{partner.person.email},true\n"
    people_import_file(
        actor=personas.admin, file_name="hr.csv", content=rows.encode(), deactivate_missing=False
    )
    assert Person.objects.get(pk=leaver.person.pk).is_active is False

    assert people_leave(actor=None) == 1
    pair.refresh_from_db()
    assert (pair.status, pair.end_reason) == ("closed_early", "left_organisation")
    leaver.refresh_from_db()
    assert leaver.status == "withdrawn"
    assert authenticate(email=leaver.person.email, password="secret-pass-123") is None
    assert leaver not in ready_participants(program=personas.program)
    assert partner in ready_participants(program=personas.program)
    told = Notification.objects.get(recipient=partner.person.user)
    assert told.title == "Lee Leaver has left the organisation"
    assert people_leave(actor=None) == 0  # safe to repeat


def test_withdrawing_ends_the_connection_and_tells_the_partner(
    client, personas, running, make_member, make_connection
):
    leaver, partner = make_member("Wyn Withdrawer"), make_member("Pat Partner")
    pair = make_connection(leaver, partner)
    client.force_login(leaver.person.user)
    url = reverse("participation_withdraw", args=[leaver.pk])
    assert client.post(url, {"reason": "No time this term"}).status_code == 302
    pair.refresh_from_db()
    assert (pair.status, pair.end_reason) == ("closed_early", "withdrew")
    assert Notification.objects.filter(
        recipient=partner.person.user, kind="connection_ended"
    ).exists()
    assert Connection.objects.filter(status="active").count() == 0


def test_the_service_refuses_someone_else(personas, running, make_member, make_connection):
    import pytest
    from django.core.exceptions import PermissionDenied

    leaver, partner = make_member("A"), make_member("B")
    make_connection(leaver, partner)
    with pytest.raises(PermissionDenied):
        participation_withdraw(actor=partner.person.user, participant=leaver, reason="x")
    assert Connection.objects.filter(status="active").count() == 1
    assert mail.outbox == []
