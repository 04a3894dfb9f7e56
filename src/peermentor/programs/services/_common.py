"""What the program services share: checks, validation and saving a program with its policy."""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import PermissionDenied

from peermentor.core.errors import ApplicationError
from peermentor.people.models import Department, Site
from peermentor.programs import defaults as program_defaults_module
from peermentor.programs.models import (
    Format,
    Goal,
    Program,
    QuestionKind,
)
from peermentor.programs.policy import (
    format_policy_keys,
    validate_policy,
)

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
