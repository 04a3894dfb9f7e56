"""The solver's matching and bound, and the MatchResult built from them."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from .. import explain
from ..model import Group, MatchResult, Placement, Unmatched
from ..scoring import Scorer

IndexArray = NDArray[np.intp]


@dataclass
class Solution:
    """A matching on pool positions (-1 = unmatched) and its certificate."""

    mate: IndexArray
    bound: float | None
    stats: dict[str, float] = field(default_factory=dict)


def build_result(
    scorer: Scorer,
    pool: IndexArray,
    solution: Solution,
    fixed: list[tuple[int, int]],
    started: float,
) -> MatchResult:
    mate = solution.mate
    pairs: list[tuple[int, int]] = list(fixed)
    for a in np.flatnonzero(mate > np.arange(len(mate))).tolist():
        pairs.append((int(pool[a]), int(pool[mate[a]])))
    if pairs:
        first = np.array([p[0] for p in pairs], dtype=np.intp)
        second = np.array([p[1] for p in pairs], dtype=np.intp)
        scores, _ = scorer.pair_scores(first, second)
    else:
        scores = np.zeros(0)
    ordered = sorted(
        zip(pairs, scores.tolist(), strict=True),
        key=lambda item: min(scorer.ids[item[0][0]], scorer.ids[item[0][1]]),
    )
    oriented = [(a, b) if scorer.ids[a] <= scorer.ids[b] else (b, a) for (a, b), _ in ordered]
    texts = explain.reasons_for_pairs(
        scorer,
        np.array([a for a, _ in oriented], dtype=np.intp),
        np.array([b for _, b in oriented], dtype=np.intp),
    )
    groups: list[Group] = []
    for number, ((a, b), (_, score), text) in enumerate(
        zip(oriented, ordered, texts, strict=True), start=1
    ):
        groups.append(
            Group(
                id=f"pair-{number}",
                members=(
                    Placement(person_id=scorer.ids[a], role="peer", score=score, reasons=text),
                    Placement(person_id=scorer.ids[b], role="peer", score=score, reasons=text),
                ),
                score=score,
            )
        )
    placed = np.zeros(scorer.n, dtype=np.bool_)
    for a, b in pairs:
        placed[[a, b]] = True
    left_out = pool[mate < 0]
    reasons = explain.unmatched_reasons(scorer, left_out, placed, pool)
    unmatched = tuple(
        Unmatched(id=scorer.ids[i], reason=reason)
        for i, reason in sorted(
            zip(left_out.tolist(), reasons, strict=True), key=lambda item: scorer.ids[item[0]]
        )
    )
    fixed_total = float(sum(scores[: len(fixed)])) if fixed else 0.0
    total = float(sum(group.score for group in groups))
    bound = None if solution.bound is None else solution.bound + fixed_total
    if bound is not None:
        # The dual bound is valid for the exact optimum; never report one below what we found
        # (which can only differ by floating-point rounding).
        bound = max(bound, total)
    stats = dict(solution.stats)
    if bound is not None and bound > 0:
        stats["gap"] = bound - total
        stats["share_of_bound"] = total / bound
    return MatchResult(
        groups=tuple(groups),
        unmatched=unmatched,
        total_score=total,
        upper_bound=bound,
        seconds=time.perf_counter() - started,
        placed=2 * len(groups),
        stats=stats,
    )
