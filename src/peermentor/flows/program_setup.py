"""Profile questions and training modules, whose changes decide who is ready to be matched.

Questions and modules belong to programs; readiness (every required question answered, every
required module done) belongs to enrollment, above it. So each change here goes through the
programs service and then re-checks the program's participants, in one transaction.
"""

from typing import Any

from django.db import transaction

from peermentor.accounts.models import User
from peermentor.enrollment.services import program_participants_refresh_readiness
from peermentor.programs import services as programs
from peermentor.programs.models import ProfileQuestion, Program, TrainingModule


def _refresh(program: Program, actor: User) -> None:
    program_participants_refresh_readiness(program=program, actor=actor)


@transaction.atomic
def question_create(*, actor: User, program: Program, **fields: Any) -> ProfileQuestion:
    """programs.question_create, then who is ready is recomputed."""
    question = programs.question_create(actor=actor, program=program, **fields)
    _refresh(program, actor)
    return question


@transaction.atomic
def question_update(*, actor: User, question: ProfileQuestion, **fields: Any) -> ProfileQuestion:
    """programs.question_update, then who is ready is recomputed."""
    question = programs.question_update(actor=actor, question=question, **fields)
    _refresh(question.program, actor)
    return question


@transaction.atomic
def question_delete(*, actor: User, question: ProfileQuestion) -> int:
    """programs.question_delete, then who is ready is recomputed."""
    program = question.program
    removed = programs.question_delete(actor=actor, question=question)
    _refresh(program, actor)
    return removed


@transaction.atomic
def training_module_create(*, actor: User, program: Program, **fields: Any) -> TrainingModule:
    """programs.training_module_create, then who is ready is recomputed."""
    module = programs.training_module_create(actor=actor, program=program, **fields)
    _refresh(program, actor)
    return module


@transaction.atomic
def training_module_update(*, actor: User, module: TrainingModule, **fields: Any) -> TrainingModule:
    """programs.training_module_update, then who is ready is recomputed."""
    module = programs.training_module_update(actor=actor, module=module, **fields)
    _refresh(module.program, actor)
    return module


@transaction.atomic
def training_module_delete(*, actor: User, module: TrainingModule) -> None:
    """programs.training_module_delete, then who is ready is recomputed."""
    program = module.program
    programs.training_module_delete(actor=actor, module=module)
    _refresh(program, actor)
