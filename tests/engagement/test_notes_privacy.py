"""Notes are the members' own: private notes their author's, shared notes the members'.
Organisation admins, program managers and other participants never see either, anywhere."""

import pytest
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from peermentor.core.errors import ApplicationError
from peermentor.core.models import AuditEvent
from peermentor.engagement.models import CheckIn, CirclePost, Note
from peermentor.engagement.services import check_in_submit, note_create, note_delete, note_update
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PRIVATE = "PRIVATE-NOTE: I worry I am not pulling my weight."
SHARED = "SHARED-NOTE: next time we try window functions."
PULSE = "PULSE-COMMENT: my partner keeps cancelling."


@pytest.fixture
def notes(personas, partner, pair):
    private = note_create(
        actor=personas.participant, connection=pair, body=PRIVATE, visibility="private"
    )
    shared = note_create(
        actor=personas.participant, connection=pair, body=SHARED, visibility="shared"
    )
    check_in_submit(actor=personas.participant, connection=pair, rating=2, comment=PULSE)
    return private, shared


# --- services ---------------------------------------------------------------------------------
def test_note_create_records_author_and_visibility(personas, notes):
    private, shared = notes
    assert private.author.person.user == personas.participant
    assert (private.visibility, shared.visibility) == ("private", "shared")


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"body": "   ", "visibility": "shared"}, "body"),
        ({"body": "x" * 5001, "visibility": "shared"}, "body"),
        ({"body": "Hi", "visibility": "public"}, "visibility"),
    ],
)
def test_note_create_refuses_bad_input(personas, pair, fields, field):
    with pytest.raises(ApplicationError) as error:
        note_create(actor=personas.participant, connection=pair, **fields)
    assert error.value.field == field
    assert not Note.objects.exists()


@pytest.mark.parametrize("role", ["other_participant", "manager", "admin", "outsider"])
def test_only_members_write_notes(personas, pair, role):
    with pytest.raises(PermissionDenied):
        note_create(actor=personas.user(role), connection=pair, body="Hi", visibility="shared")


def test_only_the_author_edits_or_deletes(personas, partner, notes):
    _, shared = notes
    with pytest.raises(PermissionDenied):
        note_update(actor=partner.person.user, note=shared, body="Edited", visibility="shared")
    with pytest.raises(PermissionDenied):
        note_delete(actor=partner.person.user, note=shared)
    updated = note_update(
        actor=personas.participant, note=shared, body="Now private", visibility="private"
    )
    assert (updated.body, updated.visibility) == ("Now private", "private")
    note_delete(actor=personas.participant, note=shared)
    assert not Note.objects.filter(pk=shared.pk).exists()


def test_the_audit_trail_keeps_no_note_text_and_no_program(notes):
    events = AuditEvent.objects.filter(action__startswith="note.")
    assert events.count() == 2
    for event in events:
        assert event.program_id is None
        assert PRIVATE not in str(event.data) and SHARED not in str(event.data)
    pulse = AuditEvent.objects.get(action="check_in.submitted")
    assert PULSE not in str(pulse.data) and "rating" not in pulse.data


# --- pages ------------------------------------------------------------------------------------
def _workspace(pair):
    return reverse("workspace", args=[pair.pk])


def test_the_author_sees_both_notes(client, personas, pair, notes):
    client.force_login(personas.participant)
    html = client.get(_workspace(pair)).content.decode()
    assert PRIVATE in html and SHARED in html and PULSE in html


def test_the_partner_sees_the_shared_note_only(client, partner, pair, notes):
    client.force_login(partner.person.user)
    html = client.get(_workspace(pair)).content.decode()
    assert SHARED in html
    assert PRIVATE not in html
    assert PULSE not in html
    private, _ = notes
    assert client.get(reverse("note_edit", args=[private.pk])).status_code == 404
    assert client.get(reverse("note_delete", args=[private.pk])).status_code == 404


def _pages_for(personas, pair):
    """Every page that could show something about the connection, for managers and admins."""
    return [
        _workspace(pair),
        reverse("connection_detail", args=[pair.pk]),
        reverse("connection_history", args=[pair.pk]),
        reverse("program_connections", args=[personas.program.pk]),
        reverse("program_history", args=[personas.program.pk]),
        reverse("program_detail", args=[personas.program.pk]),
        reverse("plan_templates", args=[personas.program.pk]),
        reverse("home"),
    ]


@pytest.mark.parametrize("role", ["admin", "manager", "other_manager", "other_participant"])
def test_no_one_else_sees_any_note_on_any_page(client, personas, pair, notes, role):
    client.force_login(personas.user(role))
    assert client.get(_workspace(pair)).status_code == 404
    for note in notes:
        assert client.get(reverse("note_edit", args=[note.pk])).status_code == 404
        assert client.get(reverse("note_delete", args=[note.pk])).status_code == 404
    for url in _pages_for(personas, pair):
        html = client.get(url).content.decode()
        for secret in (PRIVATE, SHARED, PULSE):
            assert secret not in html, (url, secret)


def test_a_member_who_is_also_the_manager_sees_only_what_members_see(
    client, personas, partner, pair, notes
):
    from peermentor.programs.models import ProgramManager

    ProgramManager.objects.create(program=personas.program, user=partner.person.user)
    client.force_login(partner.person.user)
    html = client.get(_workspace(pair)).content.decode()
    assert SHARED in html and PRIVATE not in html


def test_django_admin_exposes_no_note_post_or_pulse(client, notes):
    for model in (Note, CirclePost, CheckIn):
        assert model not in admin.site._registry
    superuser = UserFactory(is_staff=True, is_superuser=True, is_org_admin=True)
    client.force_login(superuser)
    assert client.get("/django-admin/engagement/note/").status_code == 404
    assert client.get("/django-admin/engagement/checkin/").status_code == 404
    index = client.get("/django-admin/").content.decode()
    assert "engagement/note" not in index
    for secret in (PRIVATE, SHARED, PULSE):
        assert secret not in index
