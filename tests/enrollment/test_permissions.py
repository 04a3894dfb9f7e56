"""Every enrollment URL for every persona, and the status code they get (STYLE rule 5)."""

import pytest
from django.urls import reverse

from tests.factories import TrainingModuleFactory

pytestmark = pytest.mark.django_db

ROLES = [
    "anonymous",
    "outsider",
    "participant",
    "other_participant",
    "other_manager",
    "manager",
    "admin",
]


def status_for(client, personas, role, url, method="get", data=None):
    user = personas.user(role)
    if user is not None:
        client.force_login(user)
    response = getattr(client, method)(url, data or {})
    if response.status_code == 302 and user is None:
        assert response["Location"].startswith(reverse("login"))
    return response.status_code


EXPECTED = {
    # URL name: statuses for ROLES in order
    "program_enroll": [302, 200, 200, 200, 200, 200, 200],
    "participant_list": [302, 403, 403, 403, 403, 200, 200],
    "program_invite": [302, 403, 403, 403, 403, 200, 200],
    "participation_detail": [302, 404, 200, 404, 404, 200, 200],
    "participation_profile": [302, 404, 200, 404, 404, 403, 403],
    "participation_training": [302, 404, 200, 404, 404, 403, 403],
    "participation_withdraw": [302, 404, 200, 404, 404, 200, 200],
}


def url_for(name, personas):
    program = personas.program
    participant = personas.participant_record
    if name in ("program_enroll", "participant_list", "program_invite"):
        return reverse(name, args=[program.pk])
    if name == "participation_training":
        module = TrainingModuleFactory(program=program)
        return reverse(name, args=[participant.pk, module.pk])
    return reverse(name, args=[participant.pk])


@pytest.mark.parametrize("name", sorted(EXPECTED))
@pytest.mark.parametrize("role", ROLES)
def test_every_view_for_every_role(client, personas, name, role):
    expected = EXPECTED[name][ROLES.index(role)]
    assert status_for(client, personas, role, url_for(name, personas)) == expected


@pytest.mark.parametrize(
    ("role", "expected"),
    list(zip(ROLES, [302, 404, 403, 404, 404, 302, 302], strict=True)),
)
def test_deciding_an_enrollment_for_every_role(client, personas, role, expected):
    participant = personas.participant_record
    participant.status = "pending_approval"
    participant.save()
    url = reverse("participation_decide", args=[participant.pk])
    assert status_for(client, personas, role, url, "post", {"decision": "approve"}) == expected
    participant.refresh_from_db()
    assert participant.status == (
        "enrolled" if role in ("manager", "admin") else "pending_approval"
    )


@pytest.mark.parametrize(
    ("name", "statuses"),
    [
        # A program that no longer enrolls is hidden from outsiders and other managers.
        ("participant_list", [302, 404, 403, 403, 404, 200, 200]),
        ("program_invite", [302, 404, 403, 403, 404, 200, 200]),
        ("program_enroll", [302, 404, 200, 200, 404, 200, 200]),
    ],
)
@pytest.mark.parametrize("role", ROLES)
def test_a_running_program_is_hidden_from_outsiders(client, personas, name, statuses, role):
    personas.program.status = "running"
    personas.program.save()
    url = reverse(name, args=[personas.program.pk])
    assert status_for(client, personas, role, url) == statuses[ROLES.index(role)]


def test_a_draft_program_cannot_be_enrolled_in_by_employees(client, personas):
    personas.program.status = "draft"
    personas.program.save()
    client.force_login(personas.outsider)
    assert client.get(reverse("program_enroll", args=[personas.program.pk])).status_code == 404


def test_a_decision_needs_post(client, personas):
    client.force_login(personas.manager)
    url = reverse("participation_decide", args=[personas.participant_record.pk])
    assert client.get(url).status_code == 405


def test_unknown_ids_are_404(client, personas):
    client.force_login(personas.admin)
    assert client.get(reverse("participation_detail", args=[999999])).status_code == 404
    assert client.get(reverse("participant_list", args=[999999])).status_code == 404
    client.force_login(personas.participant)
    url = reverse("participation_training", args=[personas.participant_record.pk, 999999])
    assert client.get(url).status_code == 404


@pytest.mark.parametrize(
    ("role", "expected"),
    list(zip(ROLES, [302, 403, 403, 403, 403, 302, 302], strict=True)),
)
def test_resending_an_invitation_for_every_role(
    client, personas, role, expected, django_capture_on_commit_callbacks
):
    from peermentor.core.models import AuditEvent
    from peermentor.enrollment.models import Invitation
    from tests.factories import PersonFactory

    personas.program.status = "enrolling"
    personas.program.save()
    invitation = Invitation.objects.create(program=personas.program, person=PersonFactory())
    url = reverse("invitation_resend", args=[invitation.pk])
    assert client.get(url).status_code in (302, 405)
    with django_capture_on_commit_callbacks(execute=True):
        assert status_for(client, personas, role, url, "post") == expected
    resent = AuditEvent.objects.filter(action="invitation.resent").count()
    assert resent == (1 if role in ("manager", "admin") else 0)
