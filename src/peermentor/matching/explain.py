"""Plain-language explanations: why two people were grouped, and why someone was left out."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from .model import Criterion
from .profiles import normalise_value
from .scoring import Scorer

IndexArray = NDArray[np.intp]
BoolArray = NDArray[np.bool_]

_MAX_REASONS = 4
_MAX_ITEMS = 3
# Above this many pairs the left-out explanations use the fast (float32) scorer.
_EXACT_EXPLAIN_PAIRS = 4_000_000

NO_PARTNER = "no allowed partner"
BELOW_MIN_SCORE = "no allowed partner scores at least min_score"
PARTNERS_TAKEN = "every allowed partner is taken"
NOT_CHOSEN = "left out to keep the total score highest"


def _label(field: str) -> str:
    return field.replace("_", " ").strip()


def _plural(label: str) -> str:
    return label if label.endswith("s") else f"{label}s"


class _Display:
    """Values of a cell (normalised, in the order written) and how people spell them."""

    def __init__(self, scorer: Scorer) -> None:
        self.scorer = scorer
        self._spelling: dict[str, dict[str, str]] = {}

    def values(self, i: int, column: str) -> list[str]:
        return self.scorer.column(column)[i]

    def shared(self, column_a: str, a: int, column_b: str, b: int) -> list[str]:
        """Values of b's cell also in a's, as b wrote them (in b's order)."""
        mine = set(self.values(a, column_a))
        return [self.text(column_b, b, v) for v in self.values(b, column_b) if v in mine]

    def text(self, column: str, i: int, value: str) -> str:
        """How `value` is written: the first spelling met in the column, learnt from i's cell."""
        spellings = self._spelling.setdefault(column, {})
        if value not in spellings:
            for item in self.scorer.raw_column(column)[i].split(";"):
                if item.strip() and normalise_value(item) == value:
                    spellings[value] = item.strip()
                    break
            else:
                spellings[value] = value
        return spellings[value]


def _join(items: Sequence[str]) -> str:
    shown = list(items[:_MAX_ITEMS])
    if len(items) > _MAX_ITEMS:
        shown.append(f"{len(items) - _MAX_ITEMS} more")
    if len(shown) == 1:
        return shown[0]
    return f"{', '.join(shown[:-1])} and {shown[-1]}"


def _number_text(value: float) -> str:
    return f"{value:g}"


def _phrases(
    scorer: Scorer, display: _Display, criterion: Criterion, i: int, j: int, directed: bool
) -> list[str]:
    if criterion.kind == "complement":
        assert criterion.offer is not None and criterion.want is not None
        result: list[str] = []
        directions = [(i, j)] if directed else [(i, j), (j, i)]
        for giver, taker in directions:
            shared = display.shared(criterion.offer, giver, criterion.want, taker)
            if shared:
                result.append(
                    f"{scorer.names[giver]} can help with the {_join(shared)} "
                    f"that {scorer.names[taker]} wants"
                )
        return result
    assert criterion.field is not None
    label = _label(criterion.field)
    if criterion.kind == "near":
        x = scorer.numbers(criterion.field)[i]
        y = scorer.numbers(criterion.field)[j]
        if x == y:
            return [f"the same {label} ({_number_text(x)})"]
        return [f"similar {label} ({_number_text(x)} and {_number_text(y)})"]
    if criterion.kind == "different":
        return [f"different {_plural(label)}"]
    shared = display.shared(criterion.field, j, criterion.field, i)
    if not shared:
        return []
    if criterion.kind == "same":
        return [f"same {label} ({_join(shared)})"]
    return [f"both list {_join(shared)} in {label}"]


def reasons(scorer: Scorer, i: int, j: int, *, directed: bool = False) -> str:
    """Why i and j fit, from the criteria that contributed most (names from a `name` column).

    E.g. "Ana can help with the Python that Ben wants; different departments".
    """
    return reasons_for_pairs(scorer, np.array([i]), np.array([j]), directed=directed)[0]


def reasons_for_pairs(
    scorer: Scorer, first: IndexArray, second: IndexArray, *, directed: bool = False
) -> list[str]:
    """`reasons` for many pairs at once (criterion values are computed in one vectorised call)."""
    first = np.asarray(first, dtype=np.intp)
    second = np.asarray(second, dtype=np.intp)
    if len(first) == 0:
        return []
    values = scorer.pair_criterion_values(first, second, directed=directed)
    display = _Display(scorer)
    weights = [criterion.weight for criterion in scorer.criteria]
    result: list[str] = []
    for k, (i, j) in enumerate(zip(first.tolist(), second.tolist(), strict=True)):
        ranked = sorted(
            (-weights[c] * float(values[c][k]), c) for c in range(len(weights)) if values[c][k] > 0
        )
        phrases: list[str] = []
        for _, c in ranked:
            for phrase in _phrases(scorer, display, scorer.criteria[c], i, j, directed):
                if phrase not in phrases:
                    phrases.append(phrase)
            if len(phrases) >= _MAX_REASONS:
                break
        if phrases:
            result.append("; ".join(phrases[:_MAX_REASONS]))
        else:
            result.append(
                "a possible pairing under the program's rules (no criterion adds to the score)"
            )
    return result


def unmatched_reasons(
    scorer: Scorer,
    people: IndexArray,
    placed: BoolArray,
    pool: IndexArray,
    *,
    directed: bool = False,
) -> list[str]:
    """Why each of `people` was left out, judged against the partners in `pool`.

    `placed` marks (over all people) who ended up in a group.
    """
    people = np.asarray(people, dtype=np.intp)
    if len(people) == 0:
        return []
    min_score = scorer.policy.min_score
    has_any = np.zeros(len(people), dtype=np.bool_)
    has_allowed = np.zeros(len(people), dtype=np.bool_)
    has_free = np.zeros(len(people), dtype=np.bool_)
    position = np.full(scorer.n, -1, dtype=np.intp)
    position[pool] = np.arange(len(pool))
    inside = position[people]
    use_fast = len(people) * len(pool) > _EXACT_EXPLAIN_PAIRS and bool((inside >= 0).all())
    fast = scorer.fast(pool, directed=directed) if use_fast else None
    free_in_pool = ~placed[pool]
    step = max(1, min(256, (1 << 21) // max(len(pool), 1)))
    for start in range(0, len(people), step):
        rows = people[start : start + step]
        if fast is not None:
            keys = fast.keys(inside[start : start + step], slice(0, len(pool)))
            # Constraint violations push keys below -2; scores lie in [0, 1].
            constraints_ok = keys > -2.0
            allowed = keys >= min_score - fast.error
        else:
            _, allowed = scorer.block(rows, pool, directed=directed)
            constraints_ok = scorer.constraints_hold(rows, pool)
        has_any[start : start + step] = constraints_ok.any(axis=1)
        has_allowed[start : start + step] = allowed.any(axis=1)
        has_free[start : start + step] = (allowed & free_in_pool[None, :]).any(axis=1)
    result: list[str] = []
    for any_partner, allowed_partner, free_partner in zip(
        has_any.tolist(), has_allowed.tolist(), has_free.tolist(), strict=True
    ):
        if not any_partner:
            result.append(NO_PARTNER)
        elif not allowed_partner:
            result.append(f"{BELOW_MIN_SCORE} ({min_score:g})")
        elif not free_partner:
            result.append(PARTNERS_TAKEN)
        else:
            result.append(NOT_CHOSEN)
    return result
