"""Every write in enrollment: invitations, enrolling, approval, answers, training, readiness."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib.auth import password_validation
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from peermentor.accounts.models import User
from peermentor.core.errors import ApplicationError, application_error, full_clean
from peermentor.core.models import AuditEvent
from peermentor.core.services import audit_event, audit_record
from peermentor.core.tasks import enqueue_on_commit
from peermentor.enrollment import permissions
from peermentor.enrollment.answers import SKILL_KINDS, normalise_answer
from peermentor.enrollment.eligibility import check_eligibility
from peermentor.enrollment.models import (
    ACTIVE_STATUSES,
    ROLES_WITH_CAPACITY,
    Answer,
    Invitation,
    Participant,
    ParticipantRole,
    ParticipantStatus,
    TrainingCompletion,
    roles_for_program,
)
from peermentor.enrollment.selectors import (
    enrollment_closed_reason,
    invitation_audience,
    person_for_user,
    with_progress,
)
from peermentor.enrollment.tokens import MAX_AGE, invitation_token
from peermentor.notifications.email import Email, emails_deliver, emails_queue
from peermentor.people.models import Person, Skill
from peermentor.programs.models import Program, ProgramStatus, Track, TrainingKind, TrainingModule

EMAIL_BATCH_SIZE = 100


def _locked(participant: Participant) -> Participant:
    """Re-read `participant` under a row lock, so two requests cannot both change it."""
    return (
        Participant.objects.select_for_update(of=("self",))
        .select_related("program", "person", "person__manager", "person__user", "track")
        .get(pk=participant.pk)
    )


# --- readiness --------------------------------------------------------------------------------
def _refresh_readiness(participants: QuerySet[Participant], *, program: Program, actor: Any) -> int:
    required_questions = program.questions.filter(is_required=True).count()
    required_modules = program.training_modules.filter(is_required=True).count()
    now = timezone.now()
    rows = with_progress(participants).values_list(
        "pk",
        "status",
        "is_profile_complete",
        "is_training_complete",
        "ready_at",
        "required_answered",
        "required_trained",
    )
    # Group rows by the values they must end with, so a whole program costs a few UPDATEs.
    updates: dict[tuple[bool, bool, str], list[int]] = {}
    became_ready: list[int] = []
    became_unready: list[int] = []
    for pk, status, profile_was, training_was, ready_at, answered, trained in rows:
        profile = answered >= required_questions
        training = trained >= required_modules
        is_ready = profile and training and status == ParticipantStatus.ENROLLED
        ready_change = "keep"
        if is_ready and ready_at is None:
            ready_change = "set"
            became_ready.append(pk)
        elif not is_ready and ready_at is not None:
            ready_change = "clear"
            became_unready.append(pk)
        if ready_change != "keep" or profile != profile_was or training != training_was:
            updates.setdefault((profile, training, ready_change), []).append(pk)
    for (profile, training, ready_change), pks in updates.items():
        values: dict[str, Any] = {"is_profile_complete": profile, "is_training_complete": training}
        if ready_change != "keep":
            values["ready_at"] = now if ready_change == "set" else None
        for start in range(0, len(pks), 500):
            Participant.objects.filter(pk__in=pks[start : start + 500]).update(**values)
    events = [
        audit_event(
            actor=actor,
            action=action,
            target_type=Participant,
            target_id=pk,
            program_id=program.pk,
            from_state=from_state,
            to_state=to_state,
        )
        for action, from_state, to_state, pks in (
            ("participant.ready", "not_ready", "ready", became_ready),
            ("participant.not_ready", "ready", "not_ready", became_unready),
        )
        for pk in pks
    ]
    AuditEvent.objects.bulk_create(events, batch_size=500)
    return sum(len(pks) for pks in updates.values())


def participant_refresh_readiness(participant: Participant, *, actor: Any = None) -> Participant:
    """Recompute is_profile_complete, is_training_complete and ready_at from the answers,
    completions and status in the database. After the call, ready_at is set (kept if already
    set) exactly when the participant is enrolled with every required question answered and
    every required module done; otherwise it is None. Every service that changes one of those
    inputs calls this, inside its own transaction."""
    _refresh_readiness(
        Participant.objects.filter(pk=participant.pk), program=participant.program, actor=actor
    )
    participant.refresh_from_db(fields=["is_profile_complete", "is_training_complete", "ready_at"])
    return participant


@transaction.atomic
def program_participants_refresh_readiness(*, program: Program, actor: Any = None) -> int:
    """The same recomputation for every participant of `program`, in a bounded number of
    queries. Call it after the program's required questions or modules change. Returns how
    many participants changed."""
    return _refresh_readiness(
        Participant.objects.filter(program=program), program=program, actor=actor
    )


# --- enrolling --------------------------------------------------------------------------------
def _person_of(actor: Any) -> Person:
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
    *, actor: Any, program: Program, track: Track | None = None, role: str | None = None
) -> Participant:
    """Enroll the actor's directory person in `program` while enrollment is open.

    After the call there is one Participant for (program, person): enrolled, or waiting for
    approval when the program needs it; a withdrawn participation is reactivated with its
    answers and training kept. Raises ApplicationError when enrollment is closed, the program
    is by invitation and the person is not invited, the person is ineligible, or already in.
    """
    person = _person_of(actor)
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
        if participant.status in ACTIVE_STATUSES:
            raise ApplicationError("You are already enrolled in this program.", status=409)
        if participant.status == ParticipantStatus.DECLINED:
            raise ApplicationError(
                "Your enrollment in this program was not approved. "
                "Ask the program manager if you think this is a mistake.",
                status=409,
            )
        from_state = participant.status
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
    else:
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
            raise ApplicationError(
                "You are already enrolled in this program.", status=409
            ) from None
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


def _require_status(participant: Participant, statuses: list[str], message: str) -> None:
    if participant.status not in statuses:
        raise ApplicationError(message, status=409)


@transaction.atomic
def participant_approve(*, actor: Any, participant: Participant, reason: str = "") -> Participant:
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
def participant_decline(*, actor: Any, participant: Participant, reason: str) -> Participant:
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
def participant_withdraw(*, actor: Any, participant: Participant, reason: str = "") -> Participant:
    """Withdraw from the program: after the call the participant is withdrawn and not ready.
    The participant may withdraw themselves; a program manager must give a reason."""
    participant = _locked(participant)
    if not permissions.can_withdraw_participant(actor, participant):
        raise PermissionDenied("You cannot withdraw this participant.")
    reason = (reason or "").strip()
    if not permissions.is_own_participation(actor, participant) and not reason:
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


# --- answers ----------------------------------------------------------------------------------
def _require_own_active(actor: Any, participant: Participant) -> None:
    if not permissions.is_own_participation(actor, participant):
        raise PermissionDenied("Only the participant can do this.")
    _require_status(
        participant, ACTIVE_STATUSES, "This participation has ended; enroll again to continue."
    )


@transaction.atomic
def answers_save(*, actor: Any, participant: Participant, data: Mapping[str, Any]) -> Participant:
    """Replace the participant's profile answers with `data` (question key -> value; keys left
    out count as blank). After the call every non-blank answer is stored in its normal form,
    blank ones are removed, and readiness is recomputed. Raises ApplicationError(field=key) for
    an invalid or missing required answer, and nothing is saved."""
    participant = _locked(participant)
    _require_own_active(actor, participant)
    questions = list(participant.program.questions.all())
    unknown = sorted(set(data) - {question.key for question in questions})
    if unknown:
        raise ApplicationError(f"“{unknown[0]}” is not a question of this program.")
    skill_names: dict[str, str] = {}
    if any(question.kind in SKILL_KINDS for question in questions):
        skill_names = {name.lower(): name for name in Skill.objects.values_list("name", flat=True)}
    normalised = {}
    for question in questions:
        answer = normalise_answer(question, data.get(question.key), skill_names=skill_names)
        if answer.is_blank and question.is_required:
            raise ApplicationError("This question needs an answer.", field=question.key)
        normalised[question.pk] = answer
    existing = {answer.question_id: answer for answer in participant.answers.all()}
    to_create, to_update, to_delete, changed = [], [], [], []
    for question in questions:
        answer = normalised[question.pk]
        stored = existing.get(question.pk)
        if answer.is_blank:
            if stored is not None:
                to_delete.append(stored.pk)
                changed.append(question.key)
        elif stored is None:
            to_create.append(
                Answer(
                    participant=participant,
                    question=question,
                    value=answer.value,
                    time_zone=answer.time_zone,
                )
            )
            changed.append(question.key)
        elif stored.value != answer.value or stored.time_zone != answer.time_zone:
            stored.value, stored.time_zone = answer.value, answer.time_zone
            stored.updated_at = timezone.now()
            to_update.append(stored)
            changed.append(question.key)
    Answer.objects.filter(pk__in=to_delete).delete()
    Answer.objects.bulk_create(to_create)
    Answer.objects.bulk_update(to_update, ["value", "time_zone", "updated_at"])
    if changed:
        # Which questions changed, never the answers: the audit trail is read by admins.
        audit_record(
            actor=actor,
            action="participant.answers_saved",
            target=participant,
            program_id=participant.program_id,
            data={"questions": changed},
        )
    return participant_refresh_readiness(participant, actor=actor)


# --- training ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class TrainingResult:
    """What one attempt at a module gave: passed or not, the score and which were wrong."""

    is_passed: bool
    completion: TrainingCompletion | None
    score_percent: int | None = None
    wrong_questions: list[int] = field(default_factory=list)


def _quiz_answer(index: int, raw: Any, choice_count: int) -> int:
    if raw is None or raw == "":
        raise ApplicationError("Choose an answer.", field=f"question_{index}")
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise ApplicationError("Choose one of the answers.", field=f"question_{index}") from None
    if isinstance(raw, bool) or not 0 <= value < choice_count:
        raise ApplicationError("Choose one of the answers.", field=f"question_{index}")
    return value


def _right_answer(question: Mapping[str, Any]) -> int | None:
    try:
        return int(question.get("answer"))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


@transaction.atomic
def training_complete(
    *,
    actor: Any,
    participant: Participant,
    module: TrainingModule,
    answers: list[Any] | None = None,
) -> TrainingResult:
    """Acknowledge a module, or take its quiz (`answers`: the chosen choice index per question).

    A quiz passes when the share of right answers reaches the module's pass mark; then, and for
    an acknowledgement, a TrainingCompletion exists after the call (a retake keeps the best
    score) and readiness is recomputed. A failed attempt stores nothing but its audit event and
    may be retried at once."""
    participant = _locked(participant)
    _require_own_active(actor, participant)
    if module.program_id != participant.program_id:
        raise ApplicationError("This module is not part of your program.", status=404)
    score: int | None = None
    wrong: list[int] = []
    is_passed = True
    quiz = (module.quiz or []) if module.kind == TrainingKind.QUIZ else []
    if quiz:
        answers = list(answers or [])
        if len(answers) != len(quiz):
            missing = len(answers) if len(answers) < len(quiz) else 0
            raise ApplicationError("Answer every question.", field=f"question_{missing}")
        correct = 0
        for index, (question, raw) in enumerate(zip(quiz, answers, strict=True)):
            chosen = _quiz_answer(index, raw, len(question.get("choices") or []))
            if chosen == _right_answer(question):
                correct += 1
            else:
                wrong.append(index)
        score = round(100 * correct / len(quiz))
        # Judge on the score the participant is shown, so "67% (pass mark 67%)" always passes.
        is_passed = score >= module.pass_mark_percent
    completion = None
    if is_passed:
        completion = TrainingCompletion.objects.filter(
            participant=participant, module=module
        ).first()
        if completion is None:
            completion = TrainingCompletion.objects.create(
                participant=participant, module=module, score_percent=score
            )
        elif score is not None and (completion.score_percent or 0) < score:
            completion.score_percent = score
            completion.save(update_fields=["score_percent"])
    audit_record(
        actor=actor,
        action="training.completed" if is_passed else "training.failed",
        target=participant,
        program_id=participant.program_id,
        data={"module_id": module.pk, "score_percent": score},
    )
    if is_passed:
        participant_refresh_readiness(participant, actor=actor)
    return TrainingResult(
        is_passed=is_passed, completion=completion, score_percent=score, wrong_questions=wrong
    )


# --- invitations ------------------------------------------------------------------------------
@dataclass(frozen=True)
class InvitationReport:
    invited: int
    already: int
    ineligible: int
    reinvited: int = 0  # Of `invited`: people whose earlier link had expired unanswered.


@transaction.atomic
def invitations_send(
    *,
    actor: Any,
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
    if not permissions.can_manage_program(actor, program):
        raise PermissionDenied("Only this program's managers can invite people.")
    if program.status != ProgramStatus.ENROLLING:
        raise ApplicationError("Open enrollment before sending invitations.", status=409)
    if track is not None and track.program_id != program.pk:
        raise ApplicationError("Choose one of this program's tracks.", field="track")
    if (people_filter is None) == (person_ids is None):
        raise ApplicationError("Choose people either by a directory filter or one by one.")
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
    try:
        with transaction.atomic():
            invitations = Invitation.objects.bulk_create(
                [
                    Invitation(program=program, person_id=pk, track=track, invited_by=actor)
                    for pk in new_person_pks
                ],
                batch_size=500,
            )
    except IntegrityError:
        raise ApplicationError(
            "Someone else is inviting people to this program right now; try again.", status=409
        ) from None
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
    from peermentor.enrollment.tasks import send_invitation_emails

    pks = renewed + [invitation.pk for invitation in invitations]
    for start in range(0, len(pks), EMAIL_BATCH_SIZE):
        enqueue_on_commit(
            send_invitation_emails, invitation_ids=pks[start : start + EMAIL_BATCH_SIZE]
        )
    return report


def _invitation_email(invitation: Invitation) -> Email:
    link = settings.SITE_URL + reverse("invitation_accept", args=[invitation_token(invitation)])
    context = {
        "invitation": invitation,
        "program": invitation.program,
        "person": invitation.person,
        "link": link,
        "valid_days": MAX_AGE.days,
    }
    return Email(
        to=invitation.person.email,
        subject=render_to_string("enrollment/email/invitation_subject.txt", context),
        body=render_to_string("enrollment/email/invitation_body.txt", context),
    )


def invitation_emails_send(*, invitation_ids: list[int]) -> int:
    """E-mail each listed invitation not mailed yet. Each row is claimed with a conditional
    UPDATE in the transaction that queues its e-mail, so two workers running the same batch
    never mail anyone twice and a crash loses nothing. Returns how many e-mails were sent now;
    one that fails is tried again by the periodic job (notifications/email.py)."""
    with transaction.atomic():
        invitations = Invitation.objects.filter(
            pk__in=invitation_ids, emailed_at__isnull=True
        ).select_related("program", "person", "track", "invited_by")
        claimed: list[Invitation] = []
        now = timezone.now()
        for invitation in invitations:
            if Invitation.objects.filter(pk=invitation.pk, emailed_at__isnull=True).update(
                emailed_at=now
            ):
                claimed.append(invitation)
        email_ids = emails_queue(
            emails=[_invitation_email(item) for item in claimed], purpose="enrollment.invitation"
        )
    return emails_deliver(email_ids=email_ids)


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
def invitation_account_link(*, actor: Any, invitation: Invitation) -> Person:
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
