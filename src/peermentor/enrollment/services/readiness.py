"""Readiness: a participant is ready to be matched once their required answers and training
are done (the program's settings say which)."""

from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from peermentor.accounts.models import User
from peermentor.core.models import AuditEvent
from peermentor.core.services import audit_event
from peermentor.enrollment.models import Participant, ParticipantStatus
from peermentor.enrollment.selectors import with_progress
from peermentor.programs.models import Program


def _refresh_readiness(
    participants: QuerySet[Participant], *, program: Program, actor: User | None
) -> int:
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


def participant_refresh_readiness(
    participant: Participant, *, actor: User | None = None
) -> Participant:
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
def program_participants_refresh_readiness(*, program: Program, actor: User | None = None) -> int:
    """The same recomputation for every participant of `program`, in a bounded number of
    queries. Call it after the program's required questions or modules change. Returns how
    many participants changed."""
    return _refresh_readiness(
        Participant.objects.filter(program=program), program=program, actor=actor
    )
