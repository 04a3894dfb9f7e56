"""The engine's data types: what goes in (people, policy, locks) and what comes out.

Everything here is a frozen dataclass so that inputs can be shared between solvers and results
can be compared and hashed. Nothing in this module depends on numpy, so the web app can build
inputs without touching the numeric internals.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Literal

FormatName = Literal["pairs", "bipartite", "circles"]
ObjectiveName = Literal["quality", "participation"]
CriterionKind = Literal["same", "different", "overlap", "complement", "near"]
ConstraintKind = Literal["must_differ", "must_match", "max_gap", "not_in_reporting_line"]

FORMATS: tuple[FormatName, ...] = ("pairs", "bipartite", "circles")
OBJECTIVES: tuple[ObjectiveName, ...] = ("quality", "participation")
CRITERION_KINDS: tuple[CriterionKind, ...] = ("same", "different", "overlap", "complement", "near")
CONSTRAINT_KINDS: tuple[ConstraintKind, ...] = (
    "must_differ",
    "must_match",
    "max_gap",
    "not_in_reporting_line",
)


@dataclass(frozen=True)
class Person:
    """One participant profile.

    `attributes` maps a lower-cased column name to the raw cell text ("" means unknown).
    Multi-valued cells keep their ";" separators: parsing them is the profiles module's job.
    """

    id: str
    attributes: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Criterion:
    """One scoring criterion; `complement` uses offer/want, the others use field."""

    kind: CriterionKind
    weight: float
    field: str | None = None
    offer: str | None = None
    want: str | None = None
    scale: float | None = None


@dataclass(frozen=True)
class Constraint:
    """One hard rule every pair in a group must satisfy."""

    kind: ConstraintKind
    field: str | None = None
    max: float | None = None


@dataclass(frozen=True)
class Sides:
    """For bipartite programs: the column naming a person's side and the two side names."""

    field: str
    a: str
    b: str


@dataclass(frozen=True)
class Policy:
    """How to score and group people; see docs/matching.md."""

    format: FormatName = "pairs"
    objective: ObjectiveName = "quality"
    min_score: float = 0.0
    criteria: tuple[Criterion, ...] = ()
    constraints: tuple[Constraint, ...] = ()
    sides: Sides | None = None
    group_size: tuple[int, int] | None = None
    balance: tuple[str, ...] = ()


@dataclass(frozen=True)
class Locks:
    """Decisions a re-run must respect.

    `fixed`: groups that must stay exactly as they are (they are placed first, unchanged).
    `forbidden`: pairs that must never end up in the same group.
    `context`: people already matched elsewhere; they are known (for reporting lines etc.) but
    never placed again.
    """

    fixed: tuple[tuple[str, ...], ...] = ()
    forbidden: tuple[tuple[str, str], ...] = ()
    context: tuple[str, ...] = ()


@dataclass(frozen=True)
class Placement:
    """One person placed in a group, with the score and reasons shown for them."""

    person_id: str
    role: str
    score: float | None
    reasons: str


@dataclass(frozen=True)
class Group:
    """A pair, a side-a person with their side-b people, or a circle; score per MATCHING.md."""

    id: str
    members: tuple[Placement, ...]
    score: float


@dataclass(frozen=True)
class Unmatched:
    """A person left out, and why in plain language."""

    id: str
    reason: str


@dataclass(frozen=True)
class MatchResult:
    """The outcome of a run.

    `upper_bound` is a certified upper bound on the total of any valid result under the same
    rules (None where none is known). `stats` holds optional solver figures (gap, candidates...).
    """

    groups: tuple[Group, ...]
    unmatched: tuple[Unmatched, ...]
    total_score: float
    upper_bound: float | None
    seconds: float
    placed: int
    stats: Mapping[str, float] = field(default_factory=dict)


ProgressCallback = Callable[[str, float], None]
"""Called with a stage description and the fraction done (0..1)."""


class InputError(ValueError):
    """Bad input: the message names the file, the line (header = line 1) and the field."""

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        field: str | None = None,
    ) -> None:
        self.file = file
        self.line = line
        self.field = field
        self.detail = message
        super().__init__(self._format())

    def _format(self) -> str:
        where: list[str] = []
        if self.file is not None:
            where.append(self.file)
        if self.line is not None:
            where.append(f"line {self.line}")
        if self.field is not None:
            where.append(f"field {self.field!r}")
        if not where:
            return self.detail
        return f"{', '.join(where)}: {self.detail}"
