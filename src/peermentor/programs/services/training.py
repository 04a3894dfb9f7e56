"""Training modules (read and acknowledge, or a quiz) and the quiz text format."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from django.db import transaction
from django.db.models import Max

from peermentor.accounts.models import User
from peermentor.core.errors import ApplicationError
from peermentor.core.services import audit_record
from peermentor.programs.models import (
    Program,
    TrainingKind,
    TrainingModule,
)
from peermentor.programs.permissions import (
    can_manage_program,
)
from peermentor.programs.services._common import MAX_QUIZ_QUESTIONS, _require


# --- training modules -----------------------------------------------------------------------
def validate_quiz(kind: str, quiz: Any) -> list[dict[str, Any]]:
    """The quiz in its stored shape: [{"question", "choices", "answer" (index)}]."""
    if kind != TrainingKind.QUIZ:
        return []
    if not isinstance(quiz, list) or not quiz:
        raise ApplicationError("A quiz needs at least one question.", field="quiz")
    if len(quiz) > MAX_QUIZ_QUESTIONS:
        raise ApplicationError(
            f"Keep a quiz to {MAX_QUIZ_QUESTIONS} questions or fewer.", field="quiz"
        )
    cleaned = []
    for number, item in enumerate(quiz, start=1):
        if not isinstance(item, Mapping):
            raise ApplicationError(f"Question {number} is not a question.", field="quiz")
        text = str(item.get("question") or "").strip()
        if not text:
            raise ApplicationError(f"Question {number} has no text.", field="quiz")
        raw_choices = item.get("choices")
        if not isinstance(raw_choices, list | tuple):
            raw_choices = []
        choices = [str(choice).strip() for choice in raw_choices]
        if len(choices) < 2 or not all(choices):
            raise ApplicationError(
                f"Question {number} needs at least two answers, none empty.", field="quiz"
            )
        answer = item.get("answer")
        if (
            isinstance(answer, bool)
            or not isinstance(answer, int)
            or not 0 <= answer < len(choices)
        ):
            raise ApplicationError(
                f"Question {number} needs one of its answers marked as correct.", field="quiz"
            )
        cleaned.append({"question": text, "choices": choices, "answer": answer})
    return cleaned


def _check_module(module: TrainingModule) -> None:
    if module.kind not in TrainingKind.values:
        raise ApplicationError("Choose a kind of module.", field="kind")
    if not module.title.strip():
        raise ApplicationError("Give the module a title.", field="title")
    if not module.body.strip():
        raise ApplicationError("Write what participants read.", field="body")
    if not 0 <= module.pass_mark_percent <= 100:
        raise ApplicationError(
            "The pass mark is a percentage from 0 to 100.", field="pass_mark_percent"
        )


@transaction.atomic
def training_module_create(
    *,
    actor: User,
    program: Program,
    title: str,
    body: str,
    kind: str = TrainingKind.ACKNOWLEDGE,
    quiz: Any = None,
    pass_mark_percent: int = 100,
    is_required: bool = True,
) -> TrainingModule:
    """After the call the program has this module last; a quiz's answers are valid indexes."""
    _require(can_manage_program(actor, program))
    position = program.training_modules.aggregate(last=Max("position"))["last"]
    module = TrainingModule(
        program=program,
        title=title.strip(),
        body=body.strip(),
        kind=kind,
        pass_mark_percent=pass_mark_percent,
        is_required=is_required,
        position=0 if position is None else position + 1,
    )
    _check_module(module)
    module.quiz = validate_quiz(kind, quiz)
    module.full_clean()
    module.save()
    audit_record(
        actor=actor,
        action="training_module.created",
        target=module,
        program_id=program.pk,
        data={"title": module.title, "kind": module.kind},
    )
    return module


@transaction.atomic
def training_module_update(
    *,
    actor: User,
    module: TrainingModule,
    title: str,
    body: str,
    kind: str,
    quiz: Any = None,
    pass_mark_percent: int = 100,
    is_required: bool = True,
) -> TrainingModule:
    """After the call the module reads as given. Completions already recorded stay."""
    _require(can_manage_program(actor, module.program))
    module.title = title.strip()
    module.body = body.strip()
    module.kind = kind
    module.pass_mark_percent = pass_mark_percent
    module.is_required = is_required
    _check_module(module)
    module.quiz = validate_quiz(kind, quiz)
    module.full_clean()
    module.save()
    audit_record(
        actor=actor,
        action="training_module.updated",
        target=module,
        program_id=module.program_id,
        data={"title": module.title, "kind": module.kind},
    )
    return module


@transaction.atomic
def training_module_delete(*, actor: User, module: TrainingModule) -> None:
    """After the call the module and its completions are gone."""
    program = module.program
    _require(can_manage_program(actor, program))
    audit_record(
        actor=actor,
        action="training_module.deleted",
        target=module,
        program_id=module.program_id,
        data={"title": module.title},
    )
    module.delete()


def quiz_from_text(text: str) -> list[dict[str, Any]]:
    """Parse the quiz editor's plain-text format into the stored shape.

    A line starting with "Q:" opens a question; "- " lines are answers and "* " marks the
    correct one. Blank lines are ignored. Raises ApplicationError naming the line.
    """
    quiz: list[dict[str, Any]] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        match = re.match(r"^(Q:|\*|-)\s*(.*)$", line, flags=re.IGNORECASE)
        if not match or not match.group(2).strip():
            raise ApplicationError(
                f"Line {number}: start with 'Q:' for a question, '- ' for an answer or '* ' "
                "for the correct answer.",
                field="quiz",
            )
        marker, content = match.group(1).upper(), match.group(2).strip()
        if marker == "Q:":
            quiz.append({"question": content, "choices": [], "answer": None})
            continue
        if not quiz:
            raise ApplicationError(f"Line {number}: an answer before any question.", field="quiz")
        if marker == "*":
            if quiz[-1]["answer"] is not None:
                raise ApplicationError(
                    f"Line {number}: question {len(quiz)} already has a correct answer.",
                    field="quiz",
                )
            quiz[-1]["answer"] = len(quiz[-1]["choices"])
        quiz[-1]["choices"].append(content)
    return quiz


def quiz_to_text(quiz: Sequence[Mapping[str, Any]]) -> str:
    """The stored quiz in the editor's plain-text format (inverse of `quiz_from_text`)."""
    lines: list[str] = []
    for item in quiz:
        lines.append(f"Q: {item.get('question', '')}")
        for index, choice in enumerate(item.get("choices", [])):
            lines.append(f"{'*' if index == item.get('answer') else '-'} {choice}")
        lines.append("")
    return "\n".join(lines).strip()
