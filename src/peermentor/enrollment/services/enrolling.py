"""Joining and leaving a program: enrol (self or invited), approval, decline, withdrawal."""

from datetime import datetime
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone

from peermentor.accounts.models import User
from peermentor.core.errors import ApplicationError, full_clean
from peermentor.core.services import audit_record
from peermentor.enrollment import permissions
from peermentor.enrollment.eligibility import check_eligibility
from peermentor.enrollment.models import (
    ACTIVE_STATUSES,
    ROLES_WITH_CAPACITY,
    Invitation,
    Participant,
    ParticipantRole,
    ParticipantStatus,
    roles_for_program,
)
from peermentor.enrollment.selectors import enrollment_closed_reason, person_for_user
from peermentor.enrollment.services._common import _locked, _require_status
from peermentor.enrollment.services.readiness import participant_refresh_readiness
from peermentor.people.models import Person
from peermentor.programs.models import Program, Track


def _person_of(actor: User) -> Person:
    person = person_for_user(actor)
    if person is None:
        raise ApplicationError(
            "Your account is not linked to anyone in the directory, so you cannot enroll. "
            "Ask an administrator to link it.",
            status=403,
        )
    return person


def _role_for(program: Program, role: str | None) -> str:
    roles = roles_for_program(program)
    if role:
        if role not in roles:
            raise ApplicationError(
                "Choose one of: "
                + ", ".join(str(ParticipantRole(item).label) for item in roles)
                + ".",
                field="role",
            )
        return role
    if len(roles) == 1 or program.format == "circles":
        return roles[0]
    raise ApplicationError(
        "Choose whether you take part as "
        + " or ".join(str(ParticipantRole(item).label).lower() for item in roles)
        + ".",
        field="role",
    )


def _track_for(program: Program, track: Track | None, invitation: Invitation | None) -> Any:
    if track is None and invitation is not None and invitation.track_id:
        track = invitation.track
    if track is not None and track.program_id != program.pk:
        raise ApplicationError("Choose one of this program's tracks.", field="track")
    if track is None and program.tracks.exists():
        raise ApplicationError("Choose a track.", field="track")
    return track


@transaction.atomic
def participant_enroll(
    *, actor: User, program: Program, track: Track | None = None, role: str | None = None
) -> Participant:
    """Enroll the actor's directory person in `program` while enrollment is open.

    After the call there is one Participant for (program, person): enrolled, or waiting for
    approval when the program needs it; a withdrawn participation is reactivated with its
    answers and training kept. Raises ApplicationError when enrollment is closed, the program
    is by invitation and the person is not invited, the person is ineligible, or already in.
    """
    person = _person_of(actor)
    invitation, track, role = _admission(program, person, track, role)
    status = (
        ParticipantStatus.PENDING_APPROVAL
        if program.needs_manager_approval
        else ParticipantStatus.ENROLLED
    )
    capacity = program.default_capacity if role in ROLES_WITH_CAPACITY else 1
    now = timezone.now()
    participant = (
        Participant.objects.select_for_update(of=("self",))
        .filter(program=program, person=person)
        .select_related("program", "person")
        .first()
    )
    from_state = ""
    if participant is not None:
        from_state = participant.status
        _reenroll(participant, status=status, role=role, track=track, capacity=capacity, now=now)
    else:
        participant = _first_enrollment(
            program=program, person=person, status=status, role=role, track=track, capacity=capacity
        )
    if invitation is not None and invitation.accepted_at is None:
        invitation.accepted_at = now
        invitation.save(update_fields=["accepted_at"])
    audit_record(
        actor=actor,
        action="participant.reenrolled" if from_state else "participant.enrolled",
        target=participant,
        program_id=program.pk,
        from_state=from_state,
        to_state=status,
        data={"role": role, "track_id": track.pk if track else None},
    )
    return participant_refresh_readiness(participant, actor=actor)


def _admission(
    program: Program, person: Person, track: Track | None, role: str | None
) -> tuple[Invitation | None, Track | None, str]:
    """The person's invitation and the track and role they join with, or an ApplicationError
    when enrollment is closed, the program is by invitation and they are not invited, or they
    are not eligible."""
    today = timezone.localdate()
    closed = enrollment_closed_reason(program, today=today)
    if closed:
        raise ApplicationError(closed)
    invitation = (
        Invitation.objects.select_related("track").filter(program=program, person=person).first()
    )
    if not program.is_self_enrollment_open and invitation is None:
        raise ApplicationError("This program is by invitation only.", status=403)
    track = _track_for(program, track, invitation)
    role = _role_for(program, role)
    reasons = check_eligibility(program, person, track, today=today)
    if reasons:
        raise ApplicationError("You cannot join this program: " + " ".join(reasons), status=403)
    return invitation, track, role


def _reenroll(
    participant: Participant,
    *,
    status: str,
    role: str,
    track: Track | None,
    capacity: int,
    now: datetime,
) -> None:
    """Reactivate a withdrawn participation (answers and training kept); refuse one that is
    active or was declined."""
    if participant.status in ACTIVE_STATUSES:
        raise ApplicationError("You are already enrolled in this program.", status=409)
    if participant.status == ParticipantStatus.DECLINED:
        raise ApplicationError(
            "Your enrollment in this program was not approved. "
            "Ask the program manager if you think this is a mistake.",
            status=409,
        )
    participant.status = status
    participant.role = role
    participant.track = track
    participant.capacity = capacity
    participant.enrolled_at = now
    participant.withdrawn_at = None
    participant.withdrawal_reason = ""
    participant.approved_by = None
    participant.approved_at = None
    participant.ready_at = None
    full_clean(participant, validate_unique=False)
    participant.save()


def _first_enrollment(
    *,
    program: Program,
    person: Person,
    status: str,
    role: str,
    track: Track | None,
    capacity: int,
) -> Participant:
    participant = Participant(
        program=program,
        person=person,
        track=track,
        role=role,
        status=status,
        capacity=capacity,
    )
    full_clean(participant, validate_unique=False, validate_constraints=False)
    try:
        with transaction.atomic():
            participant.save()
    except IntegrityError:
        # A second request raced this one past the lookup above.
        raise ApplicationError("You are already enrolled in this program.", status=409) from None
    return participant


@transaction.atomic
def participant_approve(*, actor: User, participant: Participant, reason: str = "") -> Participant:
    """Approve a pending participant: after the call they are enrolled, with who and when."""
    participant = _locked(participant)
    if not permissions.can_decide_participant(actor, participant):
        raise PermissionDenied("Only their line manager or a program manager can approve this.")
    _require_status(
        participant, [ParticipantStatus.PENDING_APPROVAL], "This enrollment is not waiting."
    )
    participant.status = ParticipantStatus.ENROLLED
    participant.approved_by = actor
    participant.approved_at = timezone.now()
    participant.save(update_fields=["status", "approved_by", "approved_at"])
    audit_record(
        actor=actor,
        action="participant.approved",
        target=participant,
        program_id=participant.program_id,
        from_state=ParticipantStatus.PENDING_APPROVAL,
        to_state=ParticipantStatus.ENROLLED,
        reason=reason.strip(),
    )
    return participant_refresh_readiness(participant, actor=actor)


@transaction.atomic
def participant_decline(*, actor: User, participant: Participant, reason: str) -> Participant:
    """Decline a pending participant with a reason they will see; they are never matched."""
    participant = _locked(participant)
    if not permissions.can_decide_participant(actor, participant):
        raise PermissionDenied("Only their line manager or a program manager can decline this.")
    reason = (reason or "").strip()
    if not reason:
        raise ApplicationError("Say why, so the person understands.", field="reason")
    _require_status(
        participant, [ParticipantStatus.PENDING_APPROVAL], "This enrollment is not waiting."
    )
    participant.status = ParticipantStatus.DECLINED
    participant.decline_reason = reason
    participant.save(update_fields=["status", "decline_reason"])
    audit_record(
        actor=actor,
        action="participant.declined",
        target=participant,
        program_id=participant.program_id,
        from_state=ParticipantStatus.PENDING_APPROVAL,
        to_state=ParticipantStatus.DECLINED,
        reason=reason,
    )
    return participant_refresh_readiness(participant, actor=actor)


@transaction.atomic
def participant_withdraw(
    *, actor: User | None, participant: Participant, reason: str = ""
) -> Participant:
    """Withdraw from the program: after the call the participant is withdrawn and not ready.
    The participant may withdraw themselves; a program manager must give a reason. `actor`
    None is the system (someone who left the organisation, from the HR import's command).
    Their connections are flows.leavers' (participation_withdraw ends them too)."""
    participant = _locked(participant)
    if actor is not None and not permissions.can_withdraw_participant(actor, participant):
        raise PermissionDenied("You cannot withdraw this participant.")
    reason = (reason or "").strip()
    if (actor is None or not permissions.is_own_participation(actor, participant)) and not reason:
        raise ApplicationError("Say why you withdraw this participant.", field="reason")
    _require_status(participant, ACTIVE_STATUSES, "This participation has already ended.")
    from_state = participant.status
    participant.status = ParticipantStatus.WITHDRAWN
    participant.withdrawn_at = timezone.now()
    participant.withdrawal_reason = reason
    participant.ready_at = None
    participant.save(update_fields=["status", "withdrawn_at", "withdrawal_reason", "ready_at"])
    audit_record(
        actor=actor,
        action="participant.withdrawn",
        target=participant,
        program_id=participant.program_id,
        from_state=from_state,
        to_state=ParticipantStatus.WITHDRAWN,
        reason=reason,
    )
    return participant_refresh_readiness(participant, actor=actor)
