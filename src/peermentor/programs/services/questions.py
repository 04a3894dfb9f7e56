"""Profile questions a program asks at enrollment."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.db import transaction
from django.db.models import Max

from peermentor.accounts.models import User
from peermentor.core.errors import ApplicationError
from peermentor.core.services import audit_record
from peermentor.programs.models import (
    ProfileQuestion,
    Program,
    QuestionKind,
)
from peermentor.programs.permissions import (
    can_manage_program,
)
from peermentor.programs.policy import (
    ATTRIBUTE_KEY_RE,
    DIRECTORY_ATTRIBUTES,
    RESERVED_ATTRIBUTES,
    policy_rename_field,
    policy_without_field,
)
from peermentor.programs.services._common import (
    CHOICE_KINDS,
    MAX_CHOICES,
    _question_kinds,
    _require,
    _save_program,
)


# --- profile questions ----------------------------------------------------------------------
def _clean_choices(kind: str, choices: Iterable[Any] | None) -> list[str]:
    if kind not in CHOICE_KINDS:
        # Skills come from the organisation's skill list; other kinds have no choices.
        return []
    cleaned = list(
        dict.fromkeys(str(choice).strip() for choice in choices or [] if str(choice).strip())
    )
    if len(cleaned) < 2:
        raise ApplicationError("Give at least two different choices.", field="choices")
    if len(cleaned) > MAX_CHOICES:
        raise ApplicationError(f"Give at most {MAX_CHOICES} choices.", field="choices")
    if any(len(choice) > 200 for choice in cleaned):
        raise ApplicationError("Keep each choice under 200 characters.", field="choices")
    return cleaned


def _check_question_key(program: Program, key: str, *, exclude_pk: int | None = None) -> str:
    key = (key or "").strip()
    if not ATTRIBUTE_KEY_RE.match(key):
        raise ApplicationError(
            "Use lower-case letters, digits and underscores, starting with a letter "
            "(e.g. skills_wanted).",
            field="key",
        )
    if key in DIRECTORY_ATTRIBUTES or key in RESERVED_ATTRIBUTES:
        raise ApplicationError(
            f"{key!r} already comes from the directory or the matching engine; pick another key.",
            field="key",
        )
    taken = ProfileQuestion.objects.filter(program=program, key=key)
    if exclude_pk is not None:
        taken = taken.exclude(pk=exclude_pk)
    if taken.exists():
        raise ApplicationError("Another question of this program has this key.", field="key")
    return key


def _check_question_kind(kind: str) -> str:
    if kind not in QuestionKind.values:
        raise ApplicationError("Choose one of the question kinds.", field="kind")
    return kind


@transaction.atomic
def question_create(
    *,
    actor: User,
    program: Program,
    key: str,
    label: str,
    kind: str,
    choices: Sequence[str] | None = None,
    help_text: str = "",
    is_required: bool = True,
) -> ProfileQuestion:
    """After the call the program asks this question last; `key` names its matching attribute."""
    _require(can_manage_program(actor, program))
    kind = _check_question_kind(kind)
    if not label.strip():
        raise ApplicationError("Write the question.", field="label")
    last = program.questions.aggregate(last=Max("position"))["last"]
    question = ProfileQuestion(
        program=program,
        key=_check_question_key(program, key),
        label=label.strip(),
        help_text=help_text.strip(),
        kind=kind,
        choices=_clean_choices(kind, choices),
        is_required=is_required,
        position=0 if last is None else last + 1,
    )
    question.full_clean()
    question.save()
    audit_record(
        actor=actor,
        action="question.created",
        target=question,
        program_id=program.pk,
        data={"key": question.key, "kind": question.kind},
    )
    return question


@transaction.atomic
def question_update(
    *,
    actor: User,
    question: ProfileQuestion,
    key: str,
    label: str,
    kind: str,
    choices: Sequence[str] | None = None,
    help_text: str = "",
    is_required: bool = True,
) -> ProfileQuestion:
    """After the call the question reads as given; a renamed key is renamed in the matching
    policy too. Its kind can't change once people have answered it."""
    program = Program.objects.select_for_update().get(pk=question.program_id)
    _require(can_manage_program(actor, program))
    kind = _check_question_kind(kind)
    if not label.strip():
        raise ApplicationError("Write the question.", field="label")
    if kind != question.kind and question.answers.exists():
        raise ApplicationError(
            "People have answered this question: its kind can't change. Add a new question "
            "instead.",
            field="kind",
        )
    old_key = question.key
    question.key = _check_question_key(program, key, exclude_pk=question.pk)
    question.label = label.strip()
    question.help_text = help_text.strip()
    question.kind = kind
    question.choices = _clean_choices(kind, choices)
    question.is_required = is_required
    question.full_clean()
    question.save()
    if old_key != question.key:
        program.matching_policy = policy_rename_field(
            program.matching_policy, old_key, question.key
        )
    # The policy must still make sense with the new kind (e.g. a `near` on a number question).
    _save_program(program, question_kinds=_question_kinds(program))
    audit_record(
        actor=actor,
        action="question.updated",
        target=question,
        program_id=program.pk,
        data={"key": question.key, "previous_key": old_key, "kind": question.kind},
    )
    return question


@transaction.atomic
def question_delete(*, actor: User, question: ProfileQuestion) -> int:
    """After the call the question and its answers are gone, and so are the matching rules
    that used its key. Returns how many rules were removed."""
    program = Program.objects.select_for_update().get(pk=question.program_id)
    _require(can_manage_program(actor, program))
    program.matching_policy, removed = policy_without_field(program.matching_policy, question.key)
    audit_record(
        actor=actor,
        action="question.deleted",
        target=question,
        program_id=program.pk,
        data={"key": question.key, "rules_removed": removed},
    )
    question.delete()
    _save_program(program, question_kinds=_question_kinds(program))
    return removed


@transaction.atomic
def question_reorder(
    *, actor: User, program: Program, ordered_ids: Sequence[int]
) -> list[ProfileQuestion]:
    """After the call the program's questions are asked in the order of `ordered_ids`, which
    must list each of its questions exactly once."""
    _require(can_manage_program(actor, program))
    Program.objects.select_for_update().get(pk=program.pk)
    questions = {question.pk: question for question in program.questions.all()}
    try:
        ordered = [int(pk) for pk in ordered_ids]
    except (TypeError, ValueError):
        raise ApplicationError("The new order lists unknown questions.") from None
    if sorted(ordered) != sorted(questions):
        raise ApplicationError("List every question of this program exactly once.")
    for position, pk in enumerate(ordered):
        questions[pk].position = position
    ProfileQuestion.objects.bulk_update(questions.values(), ["position"])
    audit_record(
        actor=actor,
        action="questions.reordered",
        target=program,
        program_id=program.pk,
        data={"order": [questions[pk].key for pk in ordered]},
    )
    return [questions[pk] for pk in ordered]


def question_move(
    *, actor: User, question: ProfileQuestion, direction: str
) -> list[ProfileQuestion]:
    """After the call the question is one place earlier ("up") or later ("down"), if it can be."""
    if direction not in ("up", "down"):
        raise ApplicationError("Move a question up or down.", field="direction")
    program = question.program
    _require(can_manage_program(actor, program))
    ids = list(program.questions.values_list("pk", flat=True))
    index = ids.index(question.pk)
    other = index - 1 if direction == "up" else index + 1
    if 0 <= other < len(ids):
        ids[index], ids[other] = ids[other], ids[index]
    return question_reorder(actor=actor, program=program, ordered_ids=ids)
