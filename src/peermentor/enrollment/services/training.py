"""Training modules: completing one (quizzes marked here)."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction

from peermentor.accounts.models import User
from peermentor.core.errors import ApplicationError
from peermentor.core.services import audit_record
from peermentor.enrollment.models import Participant, TrainingCompletion
from peermentor.enrollment.services._common import _locked, _require_own_active
from peermentor.enrollment.services.readiness import participant_refresh_readiness
from peermentor.programs.models import TrainingKind, TrainingModule


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
    actor: User,
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
