"""The matching policy stored on a program, in MATCHING.md's POLICY shape, and its validation.

The JSON is exactly what `tomllib` gives for a POLICY.toml file: top-level `format`, `objective`,
`min_score`, optional `sides` / `group_size`, and the lists `criterion` and `constraint` (the
TOML array-of-tables names). The matches app hands it to the engine after turning participants
into profiles whose attributes are the program's question keys plus the directory attributes
below. Pure functions: no database access.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable, Mapping
from typing import Any, NoReturn

from peermentor.core.errors import ApplicationError

# Attributes every engine profile gets from the directory, without asking the participant.
# kind: "text" (one value), "multi" (several values) or "number".
DIRECTORY_ATTRIBUTES: dict[str, tuple[str, str]] = {
    "department": ("Department", "text"),
    "site": ("Site (physical location)", "text"),
    "level": ("Career level", "text"),
    "job_title": ("Job title", "text"),
    "years_experience": ("Years in the organisation (from the hire date)", "number"),
    "time_zone": ("Time zone", "text"),
    "utc_offset": ("Hours from UTC (from the time zone)", "number"),
    "languages": ("Languages", "multi"),
    "manager_id": ("Direct manager", "text"),
}

# Columns with a fixed meaning for the engine (MATCHING.md "Reserved columns"), plus the id.
RESERVED_ATTRIBUTES = frozenset({"id", "role", "capacity", "manager_id", "avoid"})

ENGINE_FORMATS = ("pairs", "bipartite", "circles")
OBJECTIVES = ("quality", "participation")
CRITERION_KINDS = ("same", "different", "overlap", "complement", "near")
CONSTRAINT_KINDS = ("must_differ", "must_match", "max_gap", "not_in_reporting_line")

ATTRIBUTE_KEY_RE = re.compile(r"^[a-z][a-z0-9_]{0,59}$")

# The value shape a question kind gives to its attribute (see enrollment.Answer.value).
QUESTION_KIND_ATTRIBUTE = {
    "single_choice": "text",
    "multiple_choice": "multi",
    "skills_offered": "multi",
    "skills_wanted": "multi",
    "number": "number",
    "text": "text",
    # Weekly slots become UTC "day-hour" tokens, so `overlap` measures shared free time.
    "availability": "multi",
}


def format_policy_keys() -> frozenset[str]:
    """Policy settings that follow the program's format and group size, not edited directly."""
    return frozenset({"format", "sides", "group_size"})


def attribute_kinds(question_kinds: Mapping[str, str]) -> dict[str, str]:
    """Every attribute a policy may name -> its kind, given the program's questions {key: kind}."""
    kinds = {name: kind for name, (_label, kind) in DIRECTORY_ATTRIBUTES.items()}
    for key, question_kind in question_kinds.items():
        kinds[key] = QUESTION_KIND_ATTRIBUTE.get(question_kind, "text")
    return kinds


def policy_fields(policy: Mapping[str, Any]) -> set[str]:
    """The attribute names a policy refers to (criteria and constraints)."""
    names: set[str] = set()
    for rule in [*policy.get("criterion", []), *policy.get("constraint", [])]:
        if not isinstance(rule, Mapping):
            continue
        for part in ("field", "offer", "want"):
            value = rule.get(part)
            if isinstance(value, str):
                names.add(value)
    return names


def policy_rename_field(policy: Mapping[str, Any], old: str, new: str) -> dict[str, Any]:
    """A copy of the policy with every reference to attribute `old` pointing at `new`."""
    renamed = copy.deepcopy(dict(policy))
    for rule in [*renamed.get("criterion", []), *renamed.get("constraint", [])]:
        for part in ("field", "offer", "want"):
            if rule.get(part) == old:
                rule[part] = new
    return renamed


def policy_without_field(policy: Mapping[str, Any], name: str) -> tuple[dict[str, Any], int]:
    """A copy of the policy without the rules that use attribute `name`, and how many went."""
    trimmed = copy.deepcopy(dict(policy))
    removed = 0
    for section in ("criterion", "constraint"):
        kept = [
            rule
            for rule in trimmed.get(section, [])
            if name not in policy_fields({section: [rule]})
        ]
        removed += len(trimmed.get(section, [])) - len(kept)
        if section in trimmed:
            trimmed[section] = kept
    return trimmed, removed


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def validate_policy(policy: Any, *, question_kinds: Mapping[str, str]) -> None:
    """Raise ApplicationError (field "matching_policy") unless the policy is one the engine takes.

    Every attribute named must be a directory attribute or one of the program's question keys,
    with a value shape the criterion can use (numbers for `near` and `max_gap`).
    """
    if not isinstance(policy, Mapping):
        _fail("The matching policy must be an object.")
    known = attribute_kinds(question_kinds)
    engine_format = _check_settings(policy)
    _check_format_shape(policy, engine_format)
    _check_criteria(policy, known)
    _check_constraints(policy, known)


def _fail(message: str) -> NoReturn:
    raise ApplicationError(message, field="matching_policy")


def _check_settings(policy: Mapping[str, Any]) -> str:
    """The policy's engine format, once its settings are known names with usable values."""
    unknown_keys = set(policy) - {
        "format",
        "objective",
        "min_score",
        "sides",
        "group_size",
        "criterion",
        "constraint",
        "balance",
    }
    if unknown_keys:
        _fail(f"Unknown policy setting: {', '.join(sorted(unknown_keys))}.")
    engine_format = policy.get("format", "pairs")
    if engine_format not in ENGINE_FORMATS:
        _fail(f"Format must be one of {', '.join(ENGINE_FORMATS)}, not {engine_format!r}.")
    if policy.get("objective", "quality") not in OBJECTIVES:
        _fail(f"Objective must be one of {', '.join(OBJECTIVES)}.")
    min_score = _number(policy.get("min_score", 0.0))
    if min_score is None or not 0 <= min_score <= 1:
        _fail("The minimum score must be a number from 0 to 1.")
    return str(engine_format)


def _check_format_shape(policy: Mapping[str, Any], engine_format: str) -> None:
    """Sides for a bipartite policy only, a group size for a circles policy only."""
    sides = policy.get("sides")
    if engine_format == "bipartite":
        if not (
            isinstance(sides, Mapping)
            and all(isinstance(sides.get(part), str) and sides.get(part) for part in "ab")
            and sides.get("field") == "role"
            and sides["a"] != sides["b"]
        ):
            _fail('A bipartite policy needs sides = {field = "role", a = ..., b = ...}.')
    elif sides is not None:
        _fail("Only a bipartite policy has sides.")
    group_size = policy.get("group_size")
    if engine_format == "circles":
        if not (
            isinstance(group_size, list)
            and len(group_size) == 2
            and all(isinstance(n, int) and not isinstance(n, bool) for n in group_size)
            and 2 <= group_size[0] <= group_size[1]
        ):
            _fail("A circles policy needs group_size = [smallest, largest] with 2 <= smallest.")
    elif group_size is not None:
        _fail("Only a circles policy has a group size.")


def _check_field(
    rule: Mapping[str, Any], part: str, *, kinds: Iterable[str], known: Mapping[str, str]
) -> None:
    """The attribute a rule names in `part` exists and holds values of one of `kinds`."""
    name = rule.get(part)
    if not isinstance(name, str) or not name:
        _fail(f"A {rule.get('kind')} rule needs a {part}.")
    if name not in known:
        _fail(f"{name!r} is neither a profile question of this program nor a directory field.")
    if known[name] not in kinds:
        _fail(f"{name!r} holds {known[name]} values; a {rule.get('kind')} rule can't use it.")


def _check_criteria(policy: Mapping[str, Any], known: Mapping[str, str]) -> None:
    criteria = policy.get("criterion", [])
    if not isinstance(criteria, list):
        _fail("Criteria must be a list.")
    for rule in criteria:
        if not isinstance(rule, Mapping) or rule.get("kind") not in CRITERION_KINDS:
            _fail(f"Each criterion needs a kind: one of {', '.join(CRITERION_KINDS)}.")
        weight = _number(rule.get("weight", 1))
        if weight is None or weight <= 0:
            _fail("Every criterion needs a weight above 0.")
        if rule["kind"] == "complement":
            _check_field(rule, "offer", kinds=("multi", "text"), known=known)
            _check_field(rule, "want", kinds=("multi", "text"), known=known)
        elif rule["kind"] == "near":
            _check_field(rule, "field", kinds=("number",), known=known)
            scale = _number(rule.get("scale"))
            if scale is None or scale <= 0:
                _fail("A near criterion needs a scale above 0.")
        else:
            _check_field(rule, "field", kinds=("text", "multi", "number"), known=known)


def _check_constraints(policy: Mapping[str, Any], known: Mapping[str, str]) -> None:
    constraints = policy.get("constraint", [])
    if not isinstance(constraints, list):
        _fail("Constraints must be a list.")
    for rule in constraints:
        if not isinstance(rule, Mapping) or rule.get("kind") not in CONSTRAINT_KINDS:
            _fail(f"Each constraint needs a kind: one of {', '.join(CONSTRAINT_KINDS)}.")
        if rule["kind"] == "not_in_reporting_line":
            continue
        if rule["kind"] == "max_gap":
            _check_field(rule, "field", kinds=("number",), known=known)
            gap = _number(rule.get("max"))
            if gap is None or gap < 0:
                _fail("A max_gap constraint needs a max of 0 or more.")
        else:
            _check_field(rule, "field", kinds=("text", "multi", "number"), known=known)


def describe_rule(rule: Mapping[str, Any], labels: Mapping[str, str]) -> str:
    """A rule in words a program manager understands ("different department")."""

    def name(part: str) -> str:
        value = str(rule.get(part, ""))
        return labels.get(value, value.replace("_", " "))

    kind = rule.get("kind")
    if kind == "same":
        return f"same {name('field')}"
    if kind == "different":
        return f"different {name('field')}"
    if kind == "overlap":
        return f"shared {name('field')}"
    if kind == "complement":
        return f"{name('offer')} of one match {name('want')} of the other"
    if kind == "near":
        return f"similar {name('field')} (within {rule.get('scale')})"
    if kind == "must_differ":
        return f"never the same {name('field')}"
    if kind == "must_match":
        return f"always the same {name('field')}"
    if kind == "max_gap":
        return f"{name('field')} at most {rule.get('max')} apart"
    if kind == "not_in_reporting_line":
        return "never someone in one's own reporting line"
    return str(kind)
