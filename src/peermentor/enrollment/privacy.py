"""Enrollment's part of a subject-access or erasure request (see core/privacy.py): invitations,
participations, profile answers and training progress."""

from typing import Any

from django.db import transaction
from django.utils import timezone

from peermentor.core.privacy import ERASED_TEXT, record
from peermentor.core.services import audit_record
from peermentor.core.types import AnyActor
from peermentor.enrollment.models import (
    ACTIVE_STATUSES,
    Answer,
    Invitation,
    Participant,
    ParticipantStatus,
    TrainingCompletion,
)
from peermentor.people.models import Person
from peermentor.programs.models import QuestionKind

PARTICIPANT_FIELDS = (
    "id",
    "program",
    "track",
    "role",
    "status",
    "capacity",
    "enrolled_at",
    "ready_at",
    "approved_at",
    "withdrawn_at",
    "withdrawal_reason",
    "decline_reason",
)


def personal_data(*, person: Person) -> dict[str, Any]:
    """Every invitation, participation, answer and training completion of `person` (four
    queries, whatever the number of programs)."""
    invitations = Invitation.objects.filter(person=person).select_related("program")
    participations = Participant.objects.filter(person=person).select_related("program", "track")
    answers = Answer.objects.filter(participant__person=person).select_related("question__program")
    completions = TrainingCompletion.objects.filter(participant__person=person).select_related(
        "module", "participant__program"
    )
    return {
        "invitations": [
            record(
                invitation,
                ("program", "sent_at", "accepted_at"),
                program_name=invitation.program.name,
            )
            for invitation in invitations
        ],
        "participations": [
            record(
                participant,
                PARTICIPANT_FIELDS,
                program_name=participant.program.name,
                track_name=participant.track.name if participant.track else "",
            )
            for participant in participations
        ],
        "profile_answers": [
            record(
                answer,
                ("participant", "value", "time_zone", "updated_at"),
                program_name=answer.question.program.name,
                question=answer.question.label,
            )
            for answer in answers
        ],
        "training_completed": [
            record(
                completion,
                ("participant", "completed_at", "score_percent"),
                program_name=completion.participant.program.name,
                module=completion.module.title,
            )
            for completion in completions
        ],
    }


@transaction.atomic
def personal_data_erase(*, actor: AnyActor, person: Person, reason: str) -> None:
    """Afterwards `person` takes part in no program any more (open participations withdrawn
    with `reason`, one audit event each), and their free-text profile answers and the reasons
    they gave for leaving a program read "(erased)". Choices, skills and availability stay:
    matching history and the enrollment figures are made of them and, without a name, say
    nothing about anyone."""
    now = timezone.now()
    for participant in Participant.objects.select_for_update().filter(
        person=person, status__in=ACTIVE_STATUSES
    ):
        from_state = participant.status
        participant.status = ParticipantStatus.WITHDRAWN
        participant.withdrawn_at = now
        participant.withdrawal_reason = ""
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
    Answer.objects.filter(participant__person=person, question__kind=QuestionKind.TEXT).update(
        value=ERASED_TEXT
    )
    Participant.objects.filter(person=person).exclude(withdrawal_reason="").update(
        withdrawal_reason=ERASED_TEXT
    )
