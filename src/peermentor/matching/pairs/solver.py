"""The pairs solver's entry point: fixed pairs, the pool, exact or large-pool solving, odd-set
tightening of the bound, and the result."""

from __future__ import annotations

import time

import numpy as np
import rustworkx as rx
from numpy.typing import NDArray

from ..bounds import DoubleCover, auction
from ..model import InputError, Locks, MatchResult, Policy, ProgressCallback
from ..oddsets import best_pairs, odd_set_bound
from ..scoring import Scorer
from .large import solve_large
from .params import EPSILON_START, INTEGER_SCALE
from .result import Solution, build_result

FloatArray = NDArray[np.float64]
IndexArray = NDArray[np.intp]

EXACT_BELOW = 300
CANDIDATES = 10
# Up to this many people, a bound this far above the result is tightened with odd-set cuts
# (a few LP solves and exact passes over every pair: about a second at 1,000 people).
ODD_SETS_BELOW = 3000
ODD_SETS_GAP = 2e-3


def _no_progress(stage: str, fraction: float) -> None:
    return None


def solve_pairs(
    scorer: Scorer,
    policy: Policy,
    *,
    locks: Locks | None = None,
    seed: int = 0,
    progress: ProgressCallback | None = None,
    exact_below: int = EXACT_BELOW,
    candidates: int = CANDIDATES,
) -> MatchResult:
    """Pair people per `policy`; see the module docstring.

    After the call: every pair is allowed (fixed pairs from `locks` are kept as they are even if
    the rules changed), nobody appears twice, context people are never placed, and for the
    participation objective no two unmatched people could have been paired. `upper_bound`
    bounds the total of every valid result (for participation: of every result that places at
    least as many people).
    """
    started = time.perf_counter()
    report = progress or _no_progress
    locks = locks if locks is not None else scorer.locks
    fixed = _fixed_pairs(scorer, locks)
    in_fixed = np.zeros(scorer.n, dtype=np.bool_)
    for a, b in fixed:
        in_fixed[[a, b]] = True
    pool = np.flatnonzero(scorer.active & ~in_fixed).astype(np.intp)
    report("scoring", 0.0)
    if len(pool) <= max(exact_below, 2):
        solution = _solve_exact(scorer, pool, policy)
    else:
        solution = solve_large(scorer, pool, policy, seed, report, candidates)
    if policy.objective == "quality" and 2 < len(pool) <= ODD_SETS_BELOW:
        solution = _tighten_with_odd_sets(scorer, pool, solution, report)
    report("explaining", 0.95)
    result = build_result(scorer, pool, solution, fixed, started)
    report("done", 1.0)
    return result


def _tighten_with_odd_sets(
    scorer: Scorer, pool: IndexArray, solution: Solution, report: ProgressCallback
) -> Solution:
    """Where the bound is far above the result (odd cycles of ties in the relaxation), try the
    LP with odd-set cuts (oddsets.py) and keep the smaller of the two bounds."""
    if solution.bound is None:
        return solution
    people = np.flatnonzero(solution.mate > np.arange(len(pool)))
    total = (
        float(scorer.pair_scores(pool[people], pool[solution.mate[people]])[0].sum())
        if len(people)
        else 0.0
    )
    if solution.bound - total <= ODD_SETS_GAP * max(solution.bound, 1.0):
        return solution
    report("tightening the bound", 0.93)

    def block(rows: IndexArray) -> tuple[FloatArray, NDArray[np.bool_]]:
        return scorer.block(pool[rows], pool)

    first, second = best_pairs(len(pool), block)
    weights = scorer.pair_scores(pool[first], pool[second])[0] if len(first) else np.zeros(0)
    odd, odd_stats = odd_set_bound(len(pool), first, second, weights, block)
    stats = {**solution.stats, **odd_stats, "bound_by_odd_sets": odd}
    return Solution(solution.mate, min(solution.bound, odd), stats)


def _fixed_pairs(scorer: Scorer, locks: Locks) -> list[tuple[int, int]]:
    pairs: list[tuple[int, int]] = []
    for group in locks.fixed:
        if len(group) != 2:
            raise InputError(
                f"a fixed pair must have exactly two people, not {len(group)}", field="locks"
            )
        pairs.append((scorer.index(group[0]), scorer.index(group[1])))
    return pairs


def _solve_exact(scorer: Scorer, pool: IndexArray, policy: Policy) -> Solution:
    m = len(pool)
    mate = np.full(m, -1, dtype=np.intp)
    if m < 2:
        return Solution(mate, 0.0, {"exact": 1.0})
    scores, allowed = scorer.block(pool, pool)
    first, second = np.nonzero(np.triu(allowed, 1))
    weights = scores[first, second]
    graph: rx.PyGraph = rx.PyGraph()
    graph.add_nodes_from(range(m))
    # A unit bonus per pair on top of integer-scaled scores: among equal totals, place more.
    integer_weights = np.rint(weights * INTEGER_SCALE).astype(np.int64) + 1
    graph.add_edges_from(
        list(zip(first.tolist(), second.tolist(), integer_weights.tolist(), strict=True))
    )
    matching = rx.max_weight_matching(
        graph,
        max_cardinality=policy.objective == "participation",
        weight_fn=lambda weight: int(weight),
    )
    for a, b in matching:
        mate[a] = b
        mate[b] = a
    cover = DoubleCover(m, first.astype(np.intp), second.astype(np.intp), weights, 0.0)
    _, prices = auction(cover, epsilon_final=1e-6, epsilon_start=EPSILON_START)
    dual = cover.matching_dual(prices)
    return Solution(mate, float(dual.sum()), {"exact": 1.0, "candidate_edges": float(len(weights))})
