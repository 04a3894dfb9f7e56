"""A participant's answers to the program's profile questions."""

from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.utils import timezone

from peermentor.accounts.models import User
from peermentor.core.errors import ApplicationError
from peermentor.core.services import audit_record
from peermentor.enrollment.answers import SKILL_KINDS, normalise_answer
from peermentor.enrollment.models import Answer, Participant
from peermentor.enrollment.services._common import _locked, _require_own_active
from peermentor.enrollment.services.readiness import participant_refresh_readiness
from peermentor.people.models import Skill


@transaction.atomic
def answers_save(*, actor: User, participant: Participant, data: Mapping[str, Any]) -> Participant:
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
