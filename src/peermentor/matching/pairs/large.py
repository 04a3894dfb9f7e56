"""Large pools: candidate passes, the relaxation and its pricing rounds, rounding and repair,
and the certificate, in that order (see the package docstring)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ..bounds import DoubleCover
from ..model import Policy, ProgressCallback
from ..scoring import FastScores, Scorer
from .certify import certify
from .edges import EdgeSet
from .local_search import local_search
from .passes import Lists, ranked_lists, sample_thresholds
from .relaxation import cap_raise, certified_bound, relaxation, score_dual
from .repair import enlarge, exact_windows, repair_free
from .result import Solution
from .rounding import round_assignment

FloatArray = NDArray[np.float64]
IndexArray = NDArray[np.intp]

# Pass 2 keeps, per person, this many partners whose reduced cost is within the margin of 0.
PRICED_PER_PERSON = 6
PRICING_MARGIN = 0.002
FINAL_REPAIRS = 5
# Price once more when the pricing bound would add more than this share to the dual.
LOOSE_CERTIFICATE = 5e-4
MAX_PRICING_PASSES = 3


def solve_large(
    scorer: Scorer,
    pool: IndexArray,
    policy: Policy,
    seed: int,
    report: ProgressCallback,
    k: int,
) -> Solution:
    rng = np.random.default_rng(seed)
    fast = scorer.fast(pool, seed=int(rng.integers(2**31)))
    m = len(pool)
    # For participation every pair is worth `bonus` more than any total of scores, so one more
    # pair always wins; the auction and the rounding then maximise (pairs, total) in that order.
    bonus = float(m) if policy.objective == "participation" else 0.0
    stats: dict[str, float] = {}
    edges = _candidates(scorer, pool, fast, k, rng, report, stats)
    relaxed = _price_and_solve(scorer, pool, fast, edges, bonus, report, stats)
    report("rounding", 0.8)
    mate = _matching(scorer, pool, fast, edges, relaxed, bonus, stats)
    report("certifying", 0.9)
    bound = _bound(fast, edges, relaxed, edges.total(mate), stats)
    stats.update({"candidate_edges": float(len(edges.weight)), "candidates_per_person": float(k)})
    return Solution(mate, bound, stats)


@dataclass
class _Relaxed:
    """The last relaxation on the candidate graph and the pricing pass before it."""

    cover: DoubleCover
    assigned: IndexArray
    cover_dual: FloatArray  # the dual for scores plus the bonus
    dual: FloatArray  # the dual for the scores themselves
    priced: Lists
    outside: float  # the outside-option bound after the last pricing pass (inf: not computed)


def _candidates(
    scorer: Scorer,
    pool: IndexArray,
    fast: FastScores,
    k: int,
    rng: np.random.Generator,
    report: ProgressCallback,
    stats: dict[str, float],
) -> EdgeSet:
    """Pass 1: each person's best partners relative to how sought-after those partners are."""
    report("scoring", 0.0)
    popularity, threshold = sample_thresholds(fast, k, rng)
    first_lists = ranked_lists(fast, popularity, k, threshold, report, 0.0, 0.3)
    empty = np.zeros(0, dtype=np.intp)
    edges = EdgeSet(len(pool), empty, empty, np.zeros(0))
    edges.add(scorer, pool, first_lists.owner, first_lists.partner)
    stats["candidate_edges_initial"] = float(len(edges.weight))
    return edges


def _price_and_solve(
    scorer: Scorer,
    pool: IndexArray,
    fast: FastScores,
    edges: EdgeSet,
    bonus: float,
    report: ProgressCallback,
    stats: dict[str, float],
) -> _Relaxed:
    """The relaxation on the first candidates; then pass 2: with its duals, each person's
    partners of best reduced cost, and for everybody a bound on every pair left out (which the
    certificate uses); then the relaxation on everything found so far. When its duals differ
    much from the ones pass 2 priced with (large organisations, where the first candidates miss
    a lot), the certificate is loose: price again with the new duals and solve again, at most
    twice more. Loose means the outside-option bound (the one reported) more than
    LOOSE_CERTIFICATE above the relaxation; each round computes it (a few seconds at 100,000
    people, against about fifteen for a pricing pass that would not have been needed)."""
    m = len(pool)
    report("solving the relaxation", 0.3)
    first_dual = score_dual(relaxation(m, edges, bonus)[3], bonus)
    stats["dual_first_relaxation"] = float(first_dual.sum())
    report("pricing", 0.4)
    priced = _pricing_pass(fast, first_dual, report, 0.4, 0.65)
    stats["candidate_edges_priced"] = float(edges.add(scorer, pool, priced.owner, priced.partner))
    report("solving the relaxation", 0.65)
    cover, assigned, _, cover_dual = relaxation(m, edges, bonus)
    dual = score_dual(cover_dual, bonus)
    outside = _outside_bound(m, edges, priced, bonus)
    stats["pricing_passes"] = 1.0
    while stats["pricing_passes"] < MAX_PRICING_PASSES and _loose(dual, priced, outside, bonus):
        report("pricing again", 0.7)
        priced = _pricing_pass(fast, dual, report, 0.7, 0.8)
        stats["candidate_edges_priced_again"] = float(
            edges.add(scorer, pool, priced.owner, priced.partner)
        )
        stats["pricing_passes"] += 1.0
        cover, assigned, _, cover_dual = relaxation(m, edges, bonus)
        dual = score_dual(cover_dual, bonus)
        outside = _outside_bound(m, edges, priced, bonus)
    return _Relaxed(cover, assigned, cover_dual, dual, priced, outside)


def _outside_bound(m: int, edges: EdgeSet, priced: Lists, bonus: float) -> float:
    """The outside-option bound (relaxation.certified_bound) on the candidates so far; for
    participation it is only computed at the end (its loop keeps the cap rule)."""
    return certified_bound(m, edges, priced) if not bonus else float("inf")


def _loose(dual: FloatArray, priced: Lists, outside: float, bonus: float) -> bool:
    """Whether the certificate would be loose: the outside-option bound more than
    LOOSE_CERTIFICATE above the relaxation (for participation: the cap rule's raise)."""
    scale = LOOSE_CERTIFICATE * max(float(dual.sum()), 1.0)
    if bonus:
        return cap_raise(dual, priced) > scale
    return outside - float(dual.sum()) > scale


def _pricing_pass(
    fast: FastScores,
    dual: FloatArray,
    report: ProgressCallback,
    progress_from: float,
    progress_to: float,
) -> Lists:
    """Each person's partners of best reduced cost key_ij - u_j under the given duals."""
    return ranked_lists(
        fast,
        dual.astype(np.float32),
        PRICED_PER_PERSON,
        (dual - PRICING_MARGIN).astype(np.float32),
        report,
        progress_from,
        progress_to,
    )


def _matching(
    scorer: Scorer,
    pool: IndexArray,
    fast: FastScores,
    edges: EdgeSet,
    relaxed: _Relaxed,
    bonus: float,
    stats: dict[str, float],
) -> IndexArray:
    """Round the relaxation, repair, re-solve exactly around unsettled people, local search."""
    m = len(pool)
    assigned = relaxed.assigned
    mate = round_assignment(assigned, relaxed.cover, bonus)
    stats["total_rounded"] = edges.total(mate)
    mate, _ = repair_free(scorer, pool, fast, mate, edges, bonus)
    stats["total_repaired"] = edges.total(mate)
    paired_in_relaxation = (assigned >= 0) & (assigned[np.maximum(assigned, 0)] == np.arange(m))
    seeds = np.flatnonzero((mate < 0) | ~paired_in_relaxation)
    stats["candidate_edges_enlarged"] = float(
        enlarge(scorer, pool, fast, edges, seeds, mate, relaxed.cover_dual, bonus)
    )
    mate = exact_windows(mate, edges, bonus, seeds, relaxed.cover_dual)
    stats["total_windows"] = edges.total(mate)
    mate = local_search(scorer, pool, mate, edges, bonus)
    # Nobody is left out who has an allowed partner that is also left out.
    for _ in range(FINAL_REPAIRS):
        before = int(np.sum(mate < 0))
        mate, _ = repair_free(scorer, pool, fast, mate, edges, bonus)
        if int(np.sum(mate < 0)) == before:
            break
    stats["total_local_search"] = edges.total(mate)
    return mate


def _bound(
    fast: FastScores, edges: EdgeSet, relaxed: _Relaxed, total: float, stats: dict[str, float]
) -> float:
    """The smallest certified bound: the outside-option bound from the last pricing round when
    it is already within LOOSE_CERTIFICATE of the result; otherwise also exact pricing and the
    outside-option bound on the final candidates (both valid, see docs/matching.md)."""
    early = relaxed.outside
    if early - total <= LOOSE_CERTIFICATE * max(total, 1.0):
        stats["bound_by_outside_options"] = early
        return early
    certified, _, certificate_stats = certify(fast, relaxed.dual, relaxed.priced)
    stats.update(certificate_stats)
    stats["bound_by_exact_pricing"] = float(certified.sum())
    stats["bound_by_outside_options"] = min(early, certified_bound(edges.m, edges, relaxed.priced))
    return min(stats["bound_by_outside_options"], float(certified.sum()))
