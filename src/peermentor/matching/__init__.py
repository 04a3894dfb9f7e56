"""Peermentor's matching engine: optimal, explainable, certified matching (never imports Django)."""

from .model import (
    Constraint,
    Criterion,
    Group,
    InputError,
    Locks,
    MatchResult,
    Person,
    Placement,
    Policy,
    ProgressCallback,
    Sides,
    Unmatched,
)

__all__ = [
    "Constraint",
    "Criterion",
    "Group",
    "InputError",
    "Locks",
    "MatchResult",
    "Person",
    "Placement",
    "Policy",
    "ProgressCallback",
    "Sides",
    "Unmatched",
]
