import re
from datetime import timedelta

import pytest
from django.core import signing
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from peermentor.accounts.models import User
from peermentor.core.errors import ApplicationError
from peermentor.core.models import AuditEvent
from peermentor.enrollment.models import Invitation
from peermentor.enrollment.services import (
    invitation_account_claim,
    invitation_account_link,
    invitation_emails_send,
    invitations_send,
)
from peermentor.enrollment.tokens import SALT, invitation_from_token, invitation_token
from peermentor.notifications.email import emails_retry
from peermentor.notifications.models import OutgoingEmail
from tests.factories import (
    DepartmentFactory,
    InvitationFactory,
    ParticipantFactory,
    PersonFactory,
    ProgramManagerFactory,
    SiteFactory,
    TrackFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def sales(db):
    return DepartmentFactory(name="Sales")


@pytest.fixture
def directory(program, sales):
    """Five people in Sales: two fresh, one invited, one taking part, one too junior; and one
    person in Legal the filter leaves out."""
    program.eligibility = {"levels": ["L2", "L3"]}
    program.save()
    fresh = [PersonFactory(department=sales, level="L2") for _ in range(2)]
    invited = PersonFactory(department=sales, level="L2")
    InvitationFactory(program=program, person=invited)
    taking_part = PersonFactory(department=sales, level="L3", user=UserFactory())
    ParticipantFactory(program=program, person=taking_part)
    PersonFactory(department=sales, level="L1")
    PersonFactory(department=DepartmentFactory(name="Legal"), level="L2")
    PersonFactory(department=sales, level="L2", is_active=False)
    return fresh


def test_bulk_invitation_skips_the_invited_participating_and_ineligible(
    program, program_manager, directory, sales, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        report = invitations_send(
            actor=program_manager, program=program, people_filter={"department_ids": [sales.pk]}
        )

    assert (report.invited, report.already, report.ineligible) == (2, 2, 1)
    invited_people = set(
        Invitation.objects.filter(invited_by=program_manager).values_list("person", flat=True)
    )
    assert invited_people == {person.pk for person in directory}
    assert sorted(message.to[0] for message in mailoutbox) == sorted(p.email for p in directory)
    assert mailoutbox[0].subject == "You're invited to Skills Exchange"
    event = AuditEvent.objects.get(action="invitations.sent")
    assert event.data["invited"] == 2 and event.actor == program_manager


def test_invitation_email_links_back_to_the_invitation(
    program, program_manager, directory, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        invitations_send(actor=program_manager, program=program, person_ids=[directory[0].pk])
    token = re.search(r"/enrollment/invitations/([^/\s]+)/", mailoutbox[0].body).group(1)
    assert invitation_from_token(token).person == directory[0]
    assert "valid for 30 days" in mailoutbox[0].body


def test_no_email_leaves_before_the_transaction_commits(
    program, program_manager, directory, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        invitations_send(actor=program_manager, program=program, person_ids=[directory[0].pk])
    assert mailoutbox == []
    assert len(callbacks) == 1


def test_emails_go_in_batches_and_a_rerun_mails_nobody_twice(
    program, program_manager, sales, mailoutbox, django_capture_on_commit_callbacks, settings
):
    people = [PersonFactory(department=sales) for _ in range(105)]
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        report = invitations_send(
            actor=program_manager, program=program, person_ids=[p.pk for p in people]
        )
    assert report.invited == 105
    assert len(callbacks) == 2  # batches of 100
    assert len(mailoutbox) == 105
    assert not Invitation.objects.filter(emailed_at__isnull=True).exists()

    all_ids = list(Invitation.objects.values_list("pk", flat=True))
    assert invitation_emails_send(invitation_ids=all_ids) == 0
    assert len(mailoutbox) == 105


def test_a_failed_send_is_kept_for_a_retry(program, directory, settings, mailoutbox):
    # Before: the claim was released and the task failed, and nothing ever tried again. Now the
    # e-mail waits in the notifications outbox, which retries it (and a rerun sends no second).
    invitation = InvitationFactory(program=program, person=directory[0])
    settings.EMAIL_BACKEND = "tests.enrollment.test_invitations.BrokenBackend"
    assert invitation_emails_send(invitation_ids=[invitation.pk]) == 0
    waiting = OutgoingEmail.objects.get(purpose="enrollment.invitation")
    assert waiting.sent_at is None and waiting.to == directory[0].email
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert invitation_emails_send(invitation_ids=[invitation.pk]) == 0
    assert emails_retry(now=timezone.now() + timedelta(hours=1)) == 1
    assert [message.to for message in mailoutbox] == [[directory[0].email]]


class BrokenBackend:
    def __init__(self, *args, **kwargs):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *args):
        return False

    def open(self):
        raise ConnectionError("SMTP is down")

    def close(self):
        pass

    def send_messages(self, messages):
        raise ConnectionError("SMTP is down")


def test_only_the_programs_managers_invite(program, directory):
    for actor in (ProgramManagerFactory().user, directory[0].user or UserFactory()):
        with pytest.raises(PermissionDenied):
            invitations_send(actor=actor, program=program, people_filter={})
    assert not Invitation.objects.filter(invited_by__isnull=False).exists()


def test_invitations_need_open_enrollment_and_one_way_to_choose_people(
    program, program_manager, directory
):
    with pytest.raises(ApplicationError, match="either by a directory filter"):
        invitations_send(actor=program_manager, program=program)
    with pytest.raises(ApplicationError, match="either by a directory filter"):
        invitations_send(actor=program_manager, program=program, people_filter={}, person_ids=[])
    with pytest.raises(ApplicationError) as error:
        invitations_send(
            actor=program_manager, program=program, people_filter={}, track=TrackFactory()
        )
    assert error.value.field == "track"
    program.status = "draft"
    program.save()
    with pytest.raises(ApplicationError, match="Open enrollment"):
        invitations_send(actor=program_manager, program=program, people_filter={})


def test_a_track_rule_applies_to_invitations(program, program_manager, sales):
    lyon = SiteFactory(name="Lyon")
    track = TrackFactory(program=program, eligibility={"site_ids": [lyon.pk]})
    in_lyon = PersonFactory(department=sales, site=lyon)
    PersonFactory(department=sales, site=SiteFactory(name="Oslo"))
    report = invitations_send(
        actor=program_manager,
        program=program,
        people_filter={"department_ids": [sales.pk]},
        track=track,
    )
    assert (report.invited, report.ineligible) == (1, 1)
    assert Invitation.objects.get().person == in_lyon


# --- tokens -----------------------------------------------------------------------------------
def test_a_token_names_its_invitation(program, directory):
    invitation = InvitationFactory(program=program, person=directory[0])
    assert invitation_from_token(invitation_token(invitation)) == invitation


def test_an_expired_token_is_refused_with_410(program, directory, monkeypatch):
    invitation = InvitationFactory(program=program, person=directory[0])
    token = invitation_token(invitation)
    real_time = signing.time.time
    monkeypatch.setattr(
        signing.time, "time", lambda: real_time() + timedelta(days=31).total_seconds()
    )
    with pytest.raises(ApplicationError, match="expired") as error:
        invitation_from_token(token)
    assert error.value.status == 410


def test_a_tampered_token_is_refused_with_404(program, directory):
    invitation = InvitationFactory(program=program, person=directory[0])
    token = invitation_token(invitation)
    forged = signing.dumps({"invitation": invitation.pk, "person": directory[1].pk}, salt="other")
    for bad in (token[:-2] + "xx", forged, "nonsense"):
        with pytest.raises(ApplicationError, match="not valid") as error:
            invitation_from_token(bad)
        assert error.value.status == 404


def test_a_token_for_a_deleted_invitation_is_refused(program, directory):
    invitation = InvitationFactory(program=program, person=directory[0])
    token = signing.dumps({"invitation": invitation.pk, "person": invitation.person_id}, salt=SALT)
    invitation.delete()
    with pytest.raises(ApplicationError, match="no longer exists"):
        invitation_from_token(token)


# --- accounts from invitations ----------------------------------------------------------------
def test_first_use_creates_the_account_and_links_the_person(program):
    person = PersonFactory(email="Newbie@Example.org", full_name="New Bie", time_zone="Asia/Tokyo")
    invitation = InvitationFactory(program=program, person=person)

    user = invitation_account_claim(invitation=invitation, password="a-long-secret-phrase")

    person.refresh_from_db()
    assert person.user == user
    assert user.email == "newbie@example.org" and user.time_zone == "Asia/Tokyo"
    assert user.check_password("a-long-secret-phrase")
    assert AuditEvent.objects.filter(action="account.created_from_invitation").exists()


def test_a_weak_password_is_refused_and_no_account_is_made(program):
    invitation = InvitationFactory(program=program, person=PersonFactory())
    with pytest.raises(ApplicationError) as error:
        invitation_account_claim(invitation=invitation, password="123")
    assert error.value.field == "new_password1"
    assert not User.objects.exists()


def test_an_account_with_a_password_cannot_be_claimed_again(program, employee):
    invitation = InvitationFactory(program=program, person=employee)
    with pytest.raises(ApplicationError, match="sign in"):
        invitation_account_claim(invitation=invitation, password="a-long-secret-phrase")


def test_a_signed_in_account_with_the_same_email_is_linked(program):
    person = PersonFactory(email="sam@example.org")
    user = UserFactory(email="sam@example.org")
    invitation = InvitationFactory(program=program, person=person)
    invitation_account_link(actor=user, invitation=invitation)
    person.refresh_from_db()
    assert person.user == user


def test_another_account_cannot_take_an_invitation(program, employee):
    invitation = InvitationFactory(program=program, person=PersonFactory())
    with pytest.raises(PermissionDenied):
        invitation_account_link(actor=employee.user, invitation=invitation)


def test_the_email_task_sends_a_batch_and_reports_how_many(program, directory, mailoutbox):
    from peermentor.enrollment.tasks import send_invitation_emails

    invitations = [InvitationFactory(program=program, person=person) for person in directory]
    result = send_invitation_emails.enqueue(invitation_ids=[item.pk for item in invitations])
    assert result.return_value == 2
    assert {message.to[0] for message in mailoutbox} == {person.email for person in directory}


def test_an_expired_unanswered_invitation_is_renewed_in_place(
    program, program_manager, sales, mailoutbox, django_capture_on_commit_callbacks
):
    from django.utils import timezone

    long_ago = timezone.now() - timedelta(days=31)
    expired = InvitationFactory(program=program, person=PersonFactory(department=sales))
    answered = InvitationFactory(program=program, person=PersonFactory(department=sales))
    Invitation.objects.filter(pk=expired.pk).update(emailed_at=long_ago, sent_at=long_ago)
    Invitation.objects.filter(pk=answered.pk).update(
        emailed_at=long_ago, sent_at=long_ago, accepted_at=long_ago
    )

    with django_capture_on_commit_callbacks(execute=True):
        report = invitations_send(
            actor=program_manager, program=program, people_filter={"department_ids": [sales.pk]}
        )

    assert (report.invited, report.reinvited, report.already) == (1, 1, 1)
    assert [message.to[0] for message in mailoutbox] == [expired.person.email]
    expired.refresh_from_db()
    assert expired.emailed_at > long_ago and expired.invited_by == program_manager
    assert Invitation.objects.count() == 2
