"""Invitations: sending them (e-mailed after commit, in batches) and the invited person's
account, claimed with a password or linked to the signed-in user."""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import password_validation
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from peermentor.accounts.models import User
from peermentor.core.errors import ApplicationError, application_error
from peermentor.core.services import audit_record
from peermentor.core.tasks import enqueue_on_commit
from peermentor.enrollment import permissions
from peermentor.enrollment.models import Invitation
from peermentor.enrollment.selectors import invitation_audience
from peermentor.enrollment.tasks import send_invitation_emails
from peermentor.people.models import Person
from peermentor.programs.models import Program, ProgramStatus, Track

EMAIL_BATCH_SIZE = 100


@dataclass(frozen=True)
class InvitationReport:
    invited: int
    already: int
    ineligible: int
    reinvited: int = 0  # Of `invited`: people whose earlier link had expired unanswered.


@transaction.atomic
def invitations_send(
    *,
    actor: User,
    program: Program,
    people_filter: Mapping[str, Any] | None = None,
    person_ids: list[int] | None = None,
    track: Track | None = None,
) -> InvitationReport:
    """Invite, by e-mail, every active eligible person the directory filter (or `person_ids`)
    names who is neither taking part in `program` nor holding a still-valid invitation to it.
    After the call one Invitation per such person exists (an expired, unanswered one is renewed
    in place), and the e-mails go out from background tasks in batches once the transaction
    commits. Returns how many were invited and skipped."""
    _check_invitable(
        actor=actor,
        program=program,
        track=track,
        people_filter=people_filter,
        person_ids=person_ids,
    )
    audience = invitation_audience(
        program=program,
        track=track,
        people_filter=dict(people_filter) if people_filter is not None else None,
        person_ids=person_ids,
        today=timezone.localdate(),
    )
    # Expired, unanswered invitations are sent again on the same row, with a fresh link.
    renewed = list(
        Invitation.objects.filter(program=program, person__in=audience.to_invite.values("pk"))
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    new_person_pks = list(
        audience.to_invite.exclude(
            Exists(Invitation.objects.filter(program=program, person=OuterRef("pk")))
        ).values_list("pk", flat=True)
    )
    for start in range(0, len(renewed), 500):
        Invitation.objects.filter(pk__in=renewed[start : start + 500]).update(
            sent_at=timezone.now(), emailed_at=None, invited_by=actor, track=track
        )
    invitations = _create_invitations(
        actor=actor, program=program, track=track, person_pks=new_person_pks
    )
    report = InvitationReport(
        invited=len(invitations) + len(renewed),
        already=audience.already,
        ineligible=audience.ineligible,
        reinvited=len(renewed),
    )
    audit_record(
        actor=actor,
        action="invitations.sent",
        target=program,
        program_id=program.pk,
        data={
            "invited": report.invited,
            "reinvited": report.reinvited,
            "already": report.already,
            "ineligible": report.ineligible,
            "track_id": track.pk if track else None,
            "filter": dict(people_filter) if people_filter is not None else None,
            "person_ids": person_ids,
        },
    )
    _email_after_commit(renewed + [invitation.pk for invitation in invitations])
    return report


def _check_invitable(
    *,
    actor: Any,
    program: Program,
    track: Track | None,
    people_filter: Mapping[str, Any] | None,
    person_ids: list[int] | None,
) -> None:
    if not permissions.can_manage_program(actor, program):
        raise PermissionDenied("Only this program's managers can invite people.")
    if program.status != ProgramStatus.ENROLLING:
        raise ApplicationError("Open enrollment before sending invitations.", status=409)
    if track is not None and track.program_id != program.pk:
        raise ApplicationError("Choose one of this program's tracks.", field="track")
    if (people_filter is None) == (person_ids is None):
        raise ApplicationError("Choose people either by a directory filter or one by one.")


def _create_invitations(
    *, actor: Any, program: Program, track: Track | None, person_pks: list[int]
) -> list[Invitation]:
    try:
        with transaction.atomic():
            return Invitation.objects.bulk_create(
                [
                    Invitation(program=program, person_id=pk, track=track, invited_by=actor)
                    for pk in person_pks
                ],
                batch_size=500,
            )
    except IntegrityError:
        raise ApplicationError(
            "Someone else is inviting people to this program right now; try again.", status=409
        ) from None


def _email_after_commit(invitation_pks: list[int]) -> None:
    """E-mail the invitations from background tasks, in batches, once the transaction commits."""
    for start in range(0, len(invitation_pks), EMAIL_BATCH_SIZE):
        enqueue_on_commit(
            send_invitation_emails, invitation_ids=invitation_pks[start : start + EMAIL_BATCH_SIZE]
        )


@transaction.atomic
def invitation_account_claim(*, invitation: Invitation, password: str) -> User:
    """First use of an invitation link by someone without a password: after the call the
    invited person has an account (created or found by e-mail), linked to them, with
    `password` set. Raises ApplicationError if the account already has a password."""
    person = (
        Person.objects.select_for_update(of=("self",))
        .select_related("user")
        .get(pk=invitation.person_id)
    )
    user = person.user or User.objects.filter(email__iexact=person.email).first()
    if user is not None and user.has_usable_password():
        raise ApplicationError("You already have an account: sign in with your password.")
    if user is not None and not user.is_active:
        raise ApplicationError("This account is disabled.", status=403)
    if user is None:
        user = User(
            email=person.email.lower(),
            full_name=person.full_name,
            time_zone=person.time_zone or "UTC",
        )
    try:
        password_validation.validate_password(password, user)
    except ValidationError as error:
        raise application_error(error, field="new_password1") from None
    is_new = user.pk is None
    user.set_password(password)
    user.save()
    if person.user_id != user.pk:
        if Person.objects.filter(user=user).exclude(pk=person.pk).exists():
            raise ApplicationError("This account belongs to someone else in the directory.")
        person.user = user
        person.save(update_fields=["user", "updated_at"])
    audit_record(
        actor=user,
        action="account.created_from_invitation" if is_new else "account.password_set",
        target=person,
        program_id=invitation.program_id,
        data={"invitation_id": invitation.pk},
    )
    return user


@transaction.atomic
def invitation_account_link(*, actor: User, invitation: Invitation) -> Person:
    """A signed-in account with the invited person's e-mail but no directory link: after the
    call the person is linked to it. Refused for any other account."""
    person = Person.objects.select_for_update().get(pk=invitation.person_id)
    if person.user_id == actor.pk:
        return person
    if person.user_id is not None or person.email.lower() != actor.email.lower():
        raise PermissionDenied("This invitation is for someone else.")
    if Person.objects.filter(user=actor).exists():
        raise PermissionDenied("Your account already belongs to someone in the directory.")
    person.user = actor
    person.save(update_fields=["user", "updated_at"])
    audit_record(
        actor=actor,
        action="account.linked_from_invitation",
        target=person,
        program_id=invitation.program_id,
        data={"invitation_id": invitation.pk},
    )
    return person


@transaction.atomic
def invitation_resend(*, actor: User, invitation: Invitation) -> Invitation:
    """Afterwards the invitation's e-mail goes out again (after commit) with a fresh link valid
    for the full period, for someone invited who has not enrolled. Audited."""
    invitation = (
        Invitation.objects.select_for_update().select_related("program").get(pk=invitation.pk)
    )
    program = invitation.program
    if not permissions.can_manage_program(actor, program):
        raise PermissionDenied("Only this program's managers can invite people.")
    if program.status != ProgramStatus.ENROLLING:
        raise ApplicationError("Open enrollment before sending invitations.", status=409)
    if program.participants.filter(person_id=invitation.person_id).exists():
        raise ApplicationError("They have already enrolled.", status=409)
    invitation.sent_at = timezone.now()
    invitation.emailed_at = None
    invitation.invited_by = actor
    invitation.save(update_fields=["sent_at", "emailed_at", "invited_by"])
    audit_record(
        actor=actor,
        action="invitation.resent",
        target=invitation,
        program_id=program.pk,
        data={"person_id": invitation.person_id},
    )
    enqueue_on_commit(send_invitation_emails, invitation_ids=[invitation.pk])
    return invitation
