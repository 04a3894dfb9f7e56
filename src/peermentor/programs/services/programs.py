"""Programs themselves: create, update, move through their life, copy for the next cohort."""

from __future__ import annotations

import copy
import datetime
from collections.abc import Mapping, Sequence
from typing import Any

from django.db import transaction

from peermentor.accounts.models import User
from peermentor.core.errors import ApplicationError
from peermentor.core.services import audit_record
from peermentor.programs import defaults as program_defaults_module
from peermentor.programs.models import (
    Format,
    ProfileQuestion,
    Program,
    ProgramManager,
    ProgramStatus,
    Track,
    TrainingModule,
)
from peermentor.programs.permissions import (
    can_copy_program,
    can_create_program,
    can_manage_program,
)
from peermentor.programs.services._common import (
    UPDATABLE_FIELDS,
    _plain,
    _question_kinds,
    _require,
    _save_program,
    validate_eligibility,
    validate_goals,
    validate_metrics,
)
from peermentor.programs.transitions import ALLOWED_TRANSITIONS


# --- programs -------------------------------------------------------------------------------
@transaction.atomic
def program_create(
    *,
    actor: User,
    name: str,
    goals: Sequence[str],
    format: str | None = None,
    description: str = "",
    sponsor: str = "",
    theme: str = "",
    enrollment_opens_on: datetime.date | None = None,
    enrollment_closes_on: datetime.date | None = None,
    starts_on: datetime.date | None = None,
    planned_end_on: datetime.date | None = None,
    is_self_enrollment_open: bool = True,
    needs_manager_approval: bool = False,
    is_self_match_enabled: bool = False,
    group_size_min: int | None = None,
    group_size_max: int | None = None,
    has_facilitator: bool = False,
    default_capacity: int | None = None,
    anonymity_threshold: int = 5,
    eligibility: Mapping[str, Any] | None = None,
) -> Program:
    """After the call a draft program exists with the goals' default questions, training
    modules, matching policy and success metrics (all editable), created by `actor`."""
    _require(can_create_program(actor), "Only organisation admins can create programs.")
    goals = validate_goals(list(goals))
    if format is not None and format not in Format.values:
        raise ApplicationError("Choose one of the formats.", field="format")
    defaults = program_defaults_module.program_defaults(goals, format)
    program = Program(
        name=name.strip(),
        description=description,
        goals=goals,
        format=defaults.format,
        status=ProgramStatus.DRAFT,
        sponsor=sponsor,
        theme=theme,
        enrollment_opens_on=enrollment_opens_on,
        enrollment_closes_on=enrollment_closes_on,
        starts_on=starts_on,
        planned_end_on=planned_end_on,
        is_self_enrollment_open=is_self_enrollment_open,
        needs_manager_approval=needs_manager_approval,
        is_self_match_enabled=is_self_match_enabled,
        group_size_min=group_size_min or defaults.group_size[0],
        group_size_max=group_size_max or defaults.group_size[1],
        has_facilitator=has_facilitator,
        default_capacity=default_capacity or defaults.default_capacity,
        anonymity_threshold=anonymity_threshold,
        eligibility=validate_eligibility(eligibility),
        matching_policy=defaults.matching_policy,
        success_metrics=defaults.success_metrics,
        created_by=actor,
    )
    question_kinds = {question.key: question.kind for question in defaults.questions}
    _save_program(program, question_kinds=question_kinds)
    ProfileQuestion.objects.bulk_create(
        ProfileQuestion(program=program, position=position, **question.as_dict())
        for position, question in enumerate(defaults.questions)
    )
    TrainingModule.objects.bulk_create(
        TrainingModule(program=program, position=position, **module.as_dict())
        for position, module in enumerate(defaults.training)
    )
    audit_record(
        actor=actor,
        action="program.created",
        target=program,
        program_id=program.pk,
        to_state=program.status,
        data={"goals": goals, "format": program.format},
    )
    return program


@transaction.atomic
def program_update(*, actor: User, program: Program, data: Mapping[str, Any]) -> Program:
    """After the call the program holds `data` (any of UPDATABLE_FIELDS); its policy follows
    the format and group size. The format can't change once people have enrolled."""
    _require(can_manage_program(actor, program))
    unknown = set(data) - UPDATABLE_FIELDS
    if unknown:
        raise ApplicationError(
            f"These settings can't be changed here: {', '.join(sorted(unknown))}."
        )
    program = Program.objects.select_for_update().get(pk=program.pk)
    cleaned = dict(data)
    if "goals" in cleaned:
        cleaned["goals"] = validate_goals(cleaned["goals"])
    if "eligibility" in cleaned:
        cleaned["eligibility"] = validate_eligibility(cleaned["eligibility"])
    if "success_metrics" in cleaned:
        cleaned["success_metrics"] = validate_metrics(cleaned["success_metrics"])
    if "name" in cleaned:
        cleaned["name"] = str(cleaned["name"]).strip()
    if (
        "format" in cleaned
        and cleaned["format"] != program.format
        and program.participants.exists()
    ):
        raise ApplicationError(
            "People have already enrolled with roles for this format; start a new program "
            "(copy this one) to use another format.",
            field="format",
        )
    changes = {
        key: [_plain(getattr(program, key)), _plain(value)]
        for key, value in cleaned.items()
        if getattr(program, key) != value
    }
    for key, value in cleaned.items():
        setattr(program, key, value)
    _save_program(program, question_kinds=_question_kinds(program))
    if changes:
        audit_record(
            actor=actor,
            action="program.updated",
            target=program,
            program_id=program.pk,
            # Large JSON settings are named, not copied, to keep the trail readable.
            data={
                "changes": {
                    key: None if key in {"matching_policy", "eligibility", "success_metrics"} else v
                    for key, v in changes.items()
                }
            },
        )
    return program


@transaction.atomic
def program_transition(
    *, actor: User | None, program: Program, to_status: str, reason: str
) -> Program:
    """After the call the program is in `to_status`, if that move is allowed from its status,
    and an audit event records who moved it, when and why. `actor` None is the system (the
    periodic job closing a program at its planned end). Closing a program with connections is
    flows.program_close's: it ends them in the same transaction."""
    if actor is not None:
        _require(can_manage_program(actor, program))
    # Lock the row so that two managers clicking at once can't both move it.
    locked = Program.objects.select_for_update().get(pk=program.pk)
    if to_status not in ProgramStatus.values:
        raise ApplicationError(f"Unknown status {to_status!r}.", field="to_status")
    from_status = locked.status
    if to_status not in ALLOWED_TRANSITIONS[from_status]:
        allowed = ", ".join(
            ProgramStatus(s).label.lower() for s in ALLOWED_TRANSITIONS[from_status]
        )
        raise ApplicationError(
            f"A {ProgramStatus(from_status).label.lower()} program can't move to "
            f"{ProgramStatus(to_status).label.lower()}"
            + (f"; it can move to: {allowed}." if allowed else "; it is closed for good."),
            field="to_status",
            status=409,
        )
    reason = reason.strip()
    if not reason:
        raise ApplicationError("Say why, so that others know later.", field="reason")
    locked.status = to_status
    locked.full_clean()
    locked.save(update_fields=["status", "updated_at"])
    audit_record(
        actor=actor,
        action="program.status_changed",
        target=locked,
        program_id=locked.pk,
        from_state=from_status,
        to_state=to_status,
        reason=reason,
    )
    program.status = locked.status
    program.updated_at = locked.updated_at
    return locked


@transaction.atomic
def program_copy(*, actor: User, program: Program, name: str | None = None) -> Program:
    """After the call a new draft program exists with the source's settings, questions, tracks,
    training modules and managers, and no dates, participants or answers: the next cohort.
    (What other apps keep per program, such as plan templates and surveys, is copied by
    flows.program_copy, which calls this.)"""
    _require(can_copy_program(actor, program), "Only the program's managers can copy it.")
    new = _copy_program_row(actor, program, name)
    _copy_questions(program, new)
    _copy_training_modules(program, new)
    _copy_tracks(program, new)
    ProgramManager.objects.bulk_create(
        ProgramManager(program=new, user_id=user_id)
        for user_id in program.manager_links.values_list("user_id", flat=True)
    )
    audit_record(
        actor=actor,
        action="program.created",
        target=new,
        program_id=new.pk,
        to_state=new.status,
        data={"copied_from": program.pk},
    )
    audit_record(
        actor=actor,
        action="program.copied",
        target=program,
        program_id=program.pk,
        data={"copy_id": new.pk},
    )
    return new


def _copy_program_row(actor: User, program: Program, name: str | None) -> Program:
    copy_name = (name or "").strip() or f"{program.name} (next cohort)"
    new = Program.objects.get(pk=program.pk)
    new.pk = None
    new.id = None
    new._state.adding = True
    new.name = copy_name[:200]
    new.status = ProgramStatus.DRAFT
    new.enrollment_opens_on = new.enrollment_closes_on = None
    new.starts_on = new.planned_end_on = None
    new.created_by = actor
    new.goals = list(program.goals)
    new.eligibility = copy.deepcopy(program.eligibility)
    new.matching_policy = copy.deepcopy(program.matching_policy)
    new.success_metrics = copy.deepcopy(program.success_metrics)
    _save_program(new, question_kinds=_question_kinds(program))
    return new


def _copy_questions(program: Program, new: Program) -> None:
    ProfileQuestion.objects.bulk_create(
        ProfileQuestion(
            program=new,
            key=question.key,
            label=question.label,
            help_text=question.help_text,
            kind=question.kind,
            choices=copy.deepcopy(question.choices),
            is_required=question.is_required,
            position=question.position,
        )
        for question in program.questions.all()
    )


def _copy_training_modules(program: Program, new: Program) -> None:
    TrainingModule.objects.bulk_create(
        TrainingModule(
            program=new,
            title=module.title,
            body=module.body,
            kind=module.kind,
            quiz=copy.deepcopy(module.quiz),
            pass_mark_percent=module.pass_mark_percent,
            is_required=module.is_required,
            position=module.position,
        )
        for module in program.training_modules.all()
    )


def _copy_tracks(program: Program, new: Program) -> None:
    Track.objects.bulk_create(
        Track(
            program=new,
            name=track.name,
            description=track.description,
            eligibility=copy.deepcopy(track.eligibility),
            matching_policy=copy.deepcopy(track.matching_policy),
        )
        for track in program.tracks.all()
    )
