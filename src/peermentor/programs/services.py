"""Every write to programs, tracks, managers, profile questions and training modules.

Each service checks permission (PermissionDenied), validates (ApplicationError naming the field),
runs in one transaction and records an audit event in it.
"""

from __future__ import annotations

import copy
import datetime
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Max

from peermentor.accounts.models import User
from peermentor.core.errors import ApplicationError
from peermentor.core.services import audit_record
from peermentor.people.models import Department, Site
from peermentor.programs import defaults as program_defaults_module
from peermentor.programs.models import (
    Format,
    Goal,
    ProfileQuestion,
    Program,
    ProgramManager,
    ProgramStatus,
    QuestionKind,
    Track,
    TrainingKind,
    TrainingModule,
)
from peermentor.programs.permissions import (
    can_assign_managers,
    can_copy_program,
    can_create_program,
    can_manage_program,
)
from peermentor.programs.policy import (
    ATTRIBUTE_KEY_RE,
    DIRECTORY_ATTRIBUTES,
    RESERVED_ATTRIBUTES,
    format_policy_keys,
    policy_rename_field,
    policy_without_field,
    validate_policy,
)

# Forward through the life of a program, and one step back while nobody has been matched yet.
ALLOWED_TRANSITIONS: dict[str, tuple[str, ...]] = {
    ProgramStatus.DRAFT: (ProgramStatus.ENROLLING,),
    ProgramStatus.ENROLLING: (ProgramStatus.MATCHING, ProgramStatus.DRAFT),
    ProgramStatus.MATCHING: (ProgramStatus.RUNNING, ProgramStatus.ENROLLING),
    ProgramStatus.RUNNING: (ProgramStatus.CLOSED,),
    ProgramStatus.CLOSED: (),
}

CHOICE_KINDS = (QuestionKind.SINGLE_CHOICE, QuestionKind.MULTIPLE_CHOICE)
MAX_CHOICES = 50
MAX_QUIZ_QUESTIONS = 20

# Program settings `program_update` may change (status has its own service).
UPDATABLE_FIELDS = frozenset(
    {
        "name",
        "description",
        "goals",
        "format",
        "sponsor",
        "theme",
        "enrollment_opens_on",
        "enrollment_closes_on",
        "starts_on",
        "planned_end_on",
        "is_self_enrollment_open",
        "needs_manager_approval",
        "is_self_match_enabled",
        "eligibility",
        "matching_policy",
        "success_metrics",
        "group_size_min",
        "group_size_max",
        "has_facilitator",
        "default_capacity",
        "anonymity_threshold",
    }
)
ELIGIBILITY_KEYS = ("department_ids", "site_ids", "levels", "min_tenure_months")


def _require(condition: bool, message: str = "You can't do that in this program.") -> None:
    if not condition:
        raise PermissionDenied(message)


def _plain(value: Any) -> Any:
    """A JSON-friendly copy of a field value for the audit trail."""
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value


# --- validation shared by the program services ---------------------------------------------
def validate_goals(goals: Any) -> list[str]:
    if not isinstance(goals, list | tuple) or not goals:
        raise ApplicationError("Choose at least one goal.", field="goals")
    unknown = [goal for goal in goals if goal not in Goal.values]
    if unknown:
        raise ApplicationError(f"Unknown goal: {', '.join(map(str, unknown))}.", field="goals")
    return list(dict.fromkeys(goals))


def validate_eligibility(value: Any) -> dict[str, Any]:
    """The eligibility rules in their stored shape, ids checked against the directory."""
    if value in (None, ""):
        return {}
    if not isinstance(value, Mapping):
        raise ApplicationError("Eligibility rules must be an object.", field="eligibility")
    unknown = set(value) - set(ELIGIBILITY_KEYS)
    if unknown:
        raise ApplicationError(
            f"Unknown eligibility rule: {', '.join(sorted(unknown))}.", field="eligibility"
        )
    rules: dict[str, Any] = {}
    for key, model in (("department_ids", Department), ("site_ids", Site)):
        raw = value.get(key) or []
        try:
            ids = sorted({int(item) for item in raw})
        except (TypeError, ValueError):
            raise ApplicationError(f"{key} must be a list of ids.", field="eligibility") from None
        if ids and model.objects.filter(pk__in=ids).count() != len(ids):
            raise ApplicationError(
                f"Some {model._meta.verbose_name_plural} no longer exist.", field="eligibility"
            )
        if ids:
            rules[key] = ids
    levels = value.get("levels") or []
    if not isinstance(levels, list | tuple) or not all(isinstance(x, str) for x in levels):
        raise ApplicationError("levels must be a list of text.", field="eligibility")
    levels = sorted({level.strip() for level in levels if level.strip()})
    if levels:
        rules["levels"] = levels
    tenure = value.get("min_tenure_months") or 0
    if isinstance(tenure, bool) or not isinstance(tenure, int) or not 0 <= tenure <= 600:
        raise ApplicationError(
            "Minimum tenure must be a whole number of months from 0 to 600.",
            field="eligibility",
        )
    if tenure:
        rules["min_tenure_months"] = tenure
    return rules


def validate_metrics(value: Any) -> list[dict[str, Any]]:
    if not isinstance(value, list):
        raise ApplicationError("Success metrics must be a list.", field="success_metrics")
    metrics = []
    for item in value:
        key = item.get("key") if isinstance(item, Mapping) else item
        if key not in program_defaults_module.METRICS:
            raise ApplicationError(f"Unknown success metric: {key}.", field="success_metrics")
        metric = program_defaults_module.METRICS[key].as_dict()
        if isinstance(item, Mapping) and "target" in item:
            target = item["target"]
            if target is not None and (
                isinstance(target, bool) or not isinstance(target, int | float) or target < 0
            ):
                raise ApplicationError(
                    f"The target for {metric['label']} must be a number of 0 or more.",
                    field="success_metrics",
                )
            metric["target"] = target
        metrics.append(metric)
    return list({metric["key"]: metric for metric in metrics}.values())


def _check_program(program: Program) -> None:
    """Field-level checks with messages people understand, before the database's own."""
    if not program.name.strip():
        raise ApplicationError("Give the program a name.", field="name")
    if program.format not in Format.values:
        raise ApplicationError("Choose one of the formats.", field="format")
    if (
        program.enrollment_opens_on
        and program.enrollment_closes_on
        and program.enrollment_closes_on < program.enrollment_opens_on
    ):
        raise ApplicationError(
            "Enrollment must close on or after the day it opens.", field="enrollment_closes_on"
        )
    if program.starts_on and program.planned_end_on and program.planned_end_on <= program.starts_on:
        raise ApplicationError("The planned end must come after the start.", field="planned_end_on")
    if program.group_size_min < 2:
        raise ApplicationError("A group has at least 2 people.", field="group_size_min")
    if program.group_size_max < program.group_size_min:
        raise ApplicationError(
            "The largest group size can't be below the smallest.", field="group_size_max"
        )
    if program.anonymity_threshold < 2:
        raise ApplicationError(
            "Results are shown for groups of at least 2 people.", field="anonymity_threshold"
        )
    if program.default_capacity < 1:
        raise ApplicationError("Capacity is at least 1.", field="default_capacity")


def _question_kinds(program: Program) -> dict[str, str]:
    return dict(program.questions.values_list("key", "kind"))


def _synced_policy(program: Program, policy: Mapping[str, Any]) -> dict[str, Any]:
    """The policy with its format, sides and group size following the program's settings."""
    synced = {key: value for key, value in policy.items() if key not in format_policy_keys()}
    synced.update(
        program_defaults_module.format_policy_settings(
            program.format, group_size=(program.group_size_min, program.group_size_max)
        )
    )
    synced.setdefault("objective", "quality")
    synced.setdefault("min_score", 0.0)
    synced.setdefault("criterion", [])
    synced.setdefault("constraint", [])
    return synced


def _save_program(program: Program, *, question_kinds: Mapping[str, str]) -> None:
    _check_program(program)
    program.matching_policy = _synced_policy(program, program.matching_policy or {})
    validate_policy(program.matching_policy, question_kinds=question_kinds)
    program.full_clean()
    program.save()


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


def allowed_transitions(program: Program) -> tuple[str, ...]:
    return ALLOWED_TRANSITIONS.get(program.status, ())


@transaction.atomic
def program_transition(*, actor: User, program: Program, to_status: str, reason: str) -> Program:
    """After the call the program is in `to_status`, if that move is allowed from its status,
    and an audit event records who moved it, when and why."""
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
    """After the call a new draft program exists with the source's settings (self-match on or
    off and how requests work, reminder thresholds), questions, tracks, training modules,
    managers, engagement plan templates and surveys (as drafts), and no dates, participants
    or answers: the next cohort."""
    _require(can_copy_program(actor, program), "Only the program's managers can copy it.")
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
    ProgramManager.objects.bulk_create(
        ProgramManager(program=new, user_id=user_id)
        for user_id in program.manager_links.values_list("user_id", flat=True)
    )
    # Engagement plans, surveys, self-match and reminder settings belong to their own apps,
    # which build on programs; they are imported here, late, so that programs does not depend
    # on them at import time.
    from peermentor.engagement.services import plan_templates_copy
    from peermentor.notifications.services import nudge_settings_copy
    from peermentor.selfmatch.services import self_match_settings_copy
    from peermentor.surveys.services import surveys_copy

    plan_templates_copy(actor=actor, source=program, target=new)
    surveys_copy(actor=actor, source=program, target=new)
    self_match_settings_copy(source=program, target=new)
    nudge_settings_copy(source=program, target=new)
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


# --- tracks ---------------------------------------------------------------------------------
def _check_track_name(program: Program, name: str, *, exclude_pk: int | None = None) -> str:
    name = name.strip()
    if not name:
        raise ApplicationError("Give the track a name.", field="name")
    taken = Track.objects.filter(program=program, name__iexact=name)
    if exclude_pk is not None:
        taken = taken.exclude(pk=exclude_pk)
    if taken.exists():
        raise ApplicationError("This program already has a track with that name.", field="name")
    return name


@transaction.atomic
def track_create(
    *,
    actor: User,
    program: Program,
    name: str,
    description: str = "",
    eligibility: Mapping[str, Any] | None = None,
) -> Track:
    """After the call the program has a track `name` (unique in the program)."""
    _require(can_manage_program(actor, program))
    track = Track(
        program=program,
        name=_check_track_name(program, name),
        description=description,
        eligibility=validate_eligibility(eligibility),
    )
    track.full_clean()
    track.save()
    audit_record(
        actor=actor,
        action="track.created",
        target=track,
        program_id=program.pk,
        data={"name": track.name},
    )
    return track


@transaction.atomic
def track_update(
    *,
    actor: User,
    track: Track,
    name: str,
    description: str = "",
    eligibility: Mapping[str, Any] | None = None,
) -> Track:
    """After the call the track has the given name, description and eligibility rules."""
    _require(can_manage_program(actor, track.program))
    track.name = _check_track_name(track.program, name, exclude_pk=track.pk)
    track.description = description
    track.eligibility = validate_eligibility(eligibility)
    track.full_clean()
    track.save()
    audit_record(
        actor=actor,
        action="track.updated",
        target=track,
        program_id=track.program_id,
        data={"name": track.name},
    )
    return track


@transaction.atomic
def track_delete(*, actor: User, track: Track) -> int:
    """After the call the track is gone and its participants are in the program without a
    track. Returns how many participants were moved."""
    _require(can_manage_program(actor, track.program))
    moved = track.participants.count()
    audit_record(
        actor=actor,
        action="track.deleted",
        target=track,
        program_id=track.program_id,
        data={"name": track.name, "participants_moved": moved},
    )
    track.delete()
    return moved


# --- managers -------------------------------------------------------------------------------
@transaction.atomic
def program_manager_add(*, actor: User, program: Program, email: str) -> ProgramManager:
    """After the call the user with this e-mail manages the program."""
    _require(can_assign_managers(actor, program), "Only organisation admins choose managers.")
    email = (email or "").strip()
    if not email:
        raise ApplicationError("Enter the e-mail address of the new manager.", field="email")
    user = User.objects.filter(email__iexact=email, is_active=True).first()
    if user is None:
        raise ApplicationError(
            "Nobody with this e-mail address has an account yet: invite them first.",
            field="email",
        )
    if ProgramManager.objects.filter(program=program, user=user).exists():
        raise ApplicationError(f"{user} already manages this program.", field="email")
    link = ProgramManager(program=program, user=user)
    link.full_clean()
    link.save()
    audit_record(
        actor=actor,
        action="program_manager.added",
        target=program,
        program_id=program.pk,
        data={"user_id": user.pk, "email": user.email},
    )
    return link


@transaction.atomic
def program_manager_remove(*, actor: User, program: Program, email: str) -> None:
    """After the call the user with this e-mail no longer manages the program."""
    _require(can_assign_managers(actor, program), "Only organisation admins choose managers.")
    link = (
        ProgramManager.objects.select_related("user")
        .filter(program=program, user__email__iexact=(email or "").strip())
        .first()
    )
    if link is None:
        raise ApplicationError("This person doesn't manage the program.", field="email")
    audit_record(
        actor=actor,
        action="program_manager.removed",
        target=program,
        program_id=program.pk,
        data={"user_id": link.user_id, "email": link.user.email},
    )
    link.delete()


def _refresh_readiness(program: Program, actor: User) -> None:
    """Required questions and modules decide who is ready to match: recompute after a change."""
    try:
        from peermentor.enrollment.services import program_participants_refresh_readiness
    except ImportError:  # enrollment not installed in this build
        return
    program_participants_refresh_readiness(program=program, actor=actor)


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
    _refresh_readiness(program, actor)
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
    _refresh_readiness(program, actor)
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
    _refresh_readiness(program, actor)
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
    _refresh_readiness(program, actor)
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
    _refresh_readiness(module.program, actor)
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
    _refresh_readiness(program, actor)


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
