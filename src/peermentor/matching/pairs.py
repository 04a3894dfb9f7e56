"""Pairs (anyone with anyone): the greatest total score, or the most people placed.

Small pools (up to `EXACT_BELOW` people) are solved exactly with Edmonds' blossom algorithm on
every allowed pair. Larger pools go through five steps, none of which loops in Python over pairs:

1. Candidates. A float32 matrix-product pass over all pairs (`FastScores`, half the matrix by
   symmetry) keeps each person's best `k` allowed partners. Per-row thresholds taken from a random
   sample of partners discard almost every pair before any sorting. The (k+1)-th best score of
   each person is kept: it bounds every pair that did not make the list.
2. Relaxation. The fractional matching LP on the candidate graph is solved as an assignment on
   its double cover by an auction (`bounds.auction`); its prices give a dual.
3. Rounding. The assignment splits into 2-cycles (pairs), fixed points (unmatched) and longer
   cycles, each of which is matched optimally by dynamic programming.
4. Repair and local search. People left without a partner get their best allowed FREE partners
   added as candidates and the auction re-runs from its prices (this is what rescues people whose
   favourites are hubs everyone wants); then augmenting paths of length three and pair swaps
   that raise the objective are applied until none is left.
5. Certificate. The dual is raised where needed to cover pairs outside the candidate graph:
   exactly, by pricing that person's row against everybody, or by the (k+1)-th score bound (see
   `bounds.extend_dual`). Violated pairs found while pricing join the candidates and steps 2-4
   run again. The reported bound is the sum of the raised dual. Up to 3,000 people, a bound far
   above the result (odd cycles of ties) is tightened with odd-set cuts (`oddsets.py`).
"""

from __future__ import annotations

import os
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
import rustworkx as rx
from numpy.typing import NDArray
from threadpoolctl import threadpool_limits

from . import explain
from .bounds import DoubleCover, auction, tighten_dual
from .model import (
    Group,
    InputError,
    Locks,
    MatchResult,
    Placement,
    Policy,
    ProgressCallback,
    Unmatched,
)
from .oddsets import best_pairs, odd_set_bound
from .scoring import FastScores, Scorer

FloatArray = NDArray[np.float64]
Float32Array = NDArray[np.float32]
IndexArray = NDArray[np.intp]

EXACT_BELOW = 300
CANDIDATES = 10
_SAMPLE = 2048
_POPULARITY_QUANTILE = 16 / 2048
_ROW_BLOCK = 256
_COLUMN_BLOCK = 8192
_BLOCK_CELLS = _ROW_BLOCK * _COLUMN_BLOCK  # pairs held at once by one worker
# Scores are scaled to integers for the exact blossom solver.
_INTEGER_SCALE = 10**9
_EPSILON_FINAL = 3e-4
_EPSILON_WARM = 2e-3
_EPSILON_START = 0.05
# Each auction phase stops with this share of people still bidding (see bounds.auction).
_LEAVE_SHARE = 0.002
# Pass 2 keeps, per person, this many partners whose reduced cost is within the margin of 0.
_PRICED_PER_PERSON = 6
_PRICING_MARGIN = 0.002
# Exact re-optimisation windows around people the rounding could not settle.
_WINDOW = 300
_WHOLE_BELOW = 2500
_WINDOW_SLACK = 0.05
_WINDOW_DEGREE = 10
# People the rounding could not settle get this many extra candidates (within a budget).
_ENLARGE_PER_PERSON = 16
_ENLARGE_BUDGET = 3000
_WINDOW_BUDGET = 3000  # people re-solved exactly, plus one in twenty of the pool
# How many pairs the certificate may price exactly (a few seconds of matrix products).
_PRICING_PAIRS = 200_000_000
_MAX_WORKERS = 8
_FINAL_REPAIRS = 5
# Price once more when the pricing bound would add more than this share to the dual.
_LOOSE_CERTIFICATE = 5e-4
_MAX_PRICING_PASSES = 3
# Up to this many people, a bound this far above the result is tightened with odd-set cuts
# (a few LP solves and exact passes over every pair: about a second at 1,000 people).
_ODD_SETS_BELOW = 3000
_ODD_SETS_GAP = 2e-3
_ROUNDING = 2e-6  # float32 arithmetic on keys and duals of size <= 2


def _no_progress(stage: str, fraction: float) -> None:
    return None


@dataclass
class _Solution:
    """A matching on pool positions (-1 = unmatched) and its certificate."""

    mate: IndexArray
    bound: float | None
    stats: dict[str, float] = field(default_factory=dict)


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
        solution = _solve_large(scorer, pool, policy, seed, report, candidates)
    if policy.objective == "quality" and 2 < len(pool) <= _ODD_SETS_BELOW:
        solution = _tighten_with_odd_sets(scorer, pool, solution, report)
    report("explaining", 0.95)
    result = _result(scorer, pool, solution, fixed, started)
    report("done", 1.0)
    return result


def _tighten_with_odd_sets(
    scorer: Scorer, pool: IndexArray, solution: _Solution, report: ProgressCallback
) -> _Solution:
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
    if solution.bound - total <= _ODD_SETS_GAP * max(solution.bound, 1.0):
        return solution
    report("tightening the bound", 0.93)

    def block(rows: IndexArray) -> tuple[FloatArray, NDArray[np.bool_]]:
        return scorer.block(pool[rows], pool)

    first, second = best_pairs(len(pool), block)
    weights = scorer.pair_scores(pool[first], pool[second])[0] if len(first) else np.zeros(0)
    odd, odd_stats = odd_set_bound(len(pool), first, second, weights, block)
    stats = {**solution.stats, **odd_stats, "bound_by_odd_sets": odd}
    return _Solution(solution.mate, min(solution.bound, odd), stats)


# --- locks ------------------------------------------------------------------------------------


def _fixed_pairs(scorer: Scorer, locks: Locks) -> list[tuple[int, int]]:
    pairs: list[tuple[int, int]] = []
    for group in locks.fixed:
        if len(group) != 2:
            raise InputError(
                f"a fixed pair must have exactly two people, not {len(group)}", field="locks"
            )
        pairs.append((scorer.index(group[0]), scorer.index(group[1])))
    return pairs


# --- exact solver for small pools -------------------------------------------------------------


def _solve_exact(scorer: Scorer, pool: IndexArray, policy: Policy) -> _Solution:
    m = len(pool)
    mate = np.full(m, -1, dtype=np.intp)
    if m < 2:
        return _Solution(mate, 0.0, {"exact": 1.0})
    scores, allowed = scorer.block(pool, pool)
    first, second = np.nonzero(np.triu(allowed, 1))
    weights = scores[first, second]
    graph: rx.PyGraph = rx.PyGraph()
    graph.add_nodes_from(range(m))
    # A unit bonus per pair on top of integer-scaled scores: among equal totals, place more.
    integer_weights = np.rint(weights * _INTEGER_SCALE).astype(np.int64) + 1
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
    _, prices = auction(cover, epsilon_final=1e-6, epsilon_start=_EPSILON_START)
    dual = cover.matching_dual(prices)
    return _Solution(
        mate, float(dual.sum()), {"exact": 1.0, "candidate_edges": float(len(weights))}
    )


# --- large pools ------------------------------------------------------------------------------


def _solve_large(
    scorer: Scorer,
    pool: IndexArray,
    policy: Policy,
    seed: int,
    report: ProgressCallback,
    k: int,
) -> _Solution:
    rng = np.random.default_rng(seed)
    fast = scorer.fast(pool, seed=int(rng.integers(2**31)))
    m = len(pool)
    participation = policy.objective == "participation"
    # For participation every pair is worth `bonus` more than any total of scores, so one more
    # pair always wins; the auction and the rounding then maximise (pairs, total) in that order.
    bonus = float(m) if participation else 0.0

    # Pass 1: each person's best partners relative to how sought-after those partners are.
    report("scoring", 0.0)
    popularity, threshold = _sample_thresholds(fast, k, rng)
    first_lists = _ranked_lists(fast, popularity, k, threshold, report, 0.0, 0.3)
    empty = np.zeros(0, dtype=np.intp)
    edges = _EdgeSet(m, empty, empty, np.zeros(0))
    edges.add(scorer, pool, first_lists.owner, first_lists.partner)
    stats: dict[str, float] = {"candidate_edges_initial": float(len(edges.weight))}

    report("solving the relaxation", 0.3)
    cover = DoubleCover(m, edges.first, edges.second, edges.weight + bonus, 0.0)
    _, prices = auction(
        cover,
        epsilon_final=_EPSILON_FINAL,
        epsilon_start=_EPSILON_START,
        finish_assignment=False,
        leave_share=_LEAVE_SHARE,
    )
    first_dual = _score_dual(tighten_dual(cover, cover.matching_dual(prices)), bonus)
    stats["dual_first_relaxation"] = float(first_dual.sum())

    # Pass 2: with those duals, each person's partners of best reduced cost; and for everybody
    # a bound on every pair left out, which the certificate uses.
    report("pricing", 0.4)
    priced = _ranked_lists(
        fast,
        first_dual.astype(np.float32),
        _PRICED_PER_PERSON,
        (first_dual - _PRICING_MARGIN).astype(np.float32),
        report,
        0.4,
        0.65,
    )
    stats["candidate_edges_priced"] = float(edges.add(scorer, pool, priced.owner, priced.partner))

    # The relaxation on everything found so far. When its duals differ much from the ones pass 2
    # priced with (large organisations, where the first candidates miss a lot), the bounds of
    # pass 2 are loose: price again with the new duals and solve again, at most twice more.
    report("solving the relaxation", 0.65)
    cover, assigned, prices, cover_dual = _relaxation(m, edges, bonus)
    dual = _score_dual(cover_dual, bonus)
    stats["pricing_passes"] = 1.0
    while stats["pricing_passes"] < _MAX_PRICING_PASSES and _cap_raise(
        dual, priced
    ) > _LOOSE_CERTIFICATE * max(float(dual.sum()), 1.0):
        report("pricing again", 0.7)
        priced = _ranked_lists(
            fast,
            dual.astype(np.float32),
            _PRICED_PER_PERSON,
            (dual - _PRICING_MARGIN).astype(np.float32),
            report,
            0.7,
            0.8,
        )
        stats["candidate_edges_priced_again"] = float(
            edges.add(scorer, pool, priced.owner, priced.partner)
        )
        stats["pricing_passes"] += 1.0
        cover, assigned, prices, cover_dual = _relaxation(m, edges, bonus)
        dual = _score_dual(cover_dual, bonus)

    report("rounding", 0.8)
    mate = _round(assigned, cover, bonus)
    stats["total_rounded"] = edges.total(mate)
    mate, _ = _repair(scorer, pool, fast, mate, edges, bonus)
    stats["total_repaired"] = edges.total(mate)
    paired_in_relaxation = (assigned >= 0) & (assigned[np.maximum(assigned, 0)] == np.arange(m))
    seeds = np.flatnonzero((mate < 0) | ~paired_in_relaxation)
    stats["candidate_edges_enlarged"] = float(
        _enlarge(scorer, pool, fast, edges, seeds, mate, cover_dual, bonus)
    )
    mate = _exact_windows(mate, edges, bonus, seeds, cover_dual)
    stats["total_windows"] = edges.total(mate)
    mate = _local_search(scorer, pool, mate, edges, bonus)
    # Nobody is left out who has an allowed partner that is also left out.
    for _ in range(_FINAL_REPAIRS):
        before = int(np.sum(mate < 0))
        mate, _ = _repair(scorer, pool, fast, mate, edges, bonus)
        if int(np.sum(mate < 0)) == before:
            break
    stats["total_local_search"] = edges.total(mate)

    report("certifying", 0.9)
    certified, _, certificate_stats = _certify(fast, dual, priced)
    stats.update(certificate_stats)
    stats["bound_by_exact_pricing"] = float(certified.sum())
    stats["bound_by_outside_options"] = _certified_bound(m, edges, priced)
    bound = min(stats["bound_by_outside_options"], float(certified.sum()))
    stats.update({"candidate_edges": float(len(edges.weight)), "candidates_per_person": float(k)})
    return _Solution(mate, bound, stats)


def _certified_bound(m: int, edges: _EdgeSet, priced: _Lists) -> float:
    """A bound on every valid result: the relaxation with each person's outside option.

    Every pair outside the candidate graph scores at most (cap_i + cap_j) / 2 (see _certify).
    Giving each person an outside option worth cap_i in the double cover (its diagonal) makes
    any dual of that assignment satisfy u_i >= cap_i / 2 as well as u_i + u_j >= w_ij on the
    candidates, so its sum bounds every valid result; the auction finds a near-optimal one.
    """
    _, _, _, dual = _relaxation(m, edges, 0.0, diagonal=np.maximum(priced.caps(), 0.0))
    return float(dual.sum())


def _relaxation(
    m: int, edges: _EdgeSet, bonus: float, *, diagonal: float | FloatArray = 0.0
) -> tuple[DoubleCover, IndexArray, FloatArray, FloatArray]:
    """The relaxation on the candidate graph: its cover, assignment, prices and tightened dual.
    `diagonal` is what staying unmatched is worth to each person (an outside option)."""
    cover = DoubleCover(m, edges.first, edges.second, edges.weight + bonus, diagonal)
    # The last few bidders of each phase are left to the rounding and repair steps: their
    # displacement chains cost more than the rest of the auction.
    assigned, prices = auction(
        cover,
        epsilon_final=_EPSILON_FINAL,
        epsilon_start=_EPSILON_START,
        finish_assignment=False,
        leave_share=_LEAVE_SHARE,
    )
    return cover, assigned, prices, tighten_dual(cover, cover.matching_dual(prices))


def _cap_raise(dual: FloatArray, priced: _Lists) -> float:
    """What the pricing bound alone would add to the dual (see _certify)."""
    return float(np.maximum(dual, priced.caps() * 0.5).sum() - dual.sum())


def _score_dual(cover_dual: FloatArray, bonus: float) -> FloatArray:
    """The matching dual for the scores themselves, from one for scores plus `bonus`."""
    if not bonus:
        return cover_dual
    # u' covers w + bonus; u = max(0, u' - bonus / 2) covers w itself.
    return np.maximum(cover_dual - bonus * 0.5, 0.0)


class _EdgeSet:
    """The candidate graph: unique pairs (first < second) of pool positions, exact scores.

    A sorted copy of the pair keys answers membership and look-ups by binary search (hashing
    millions of keys on every addition costs seconds).
    """

    def __init__(self, m: int, first: IndexArray, second: IndexArray, weight: FloatArray) -> None:
        self.m = m
        self.first = first
        self.second = second
        self.weight = weight
        self._keys = first.astype(np.int64) * m + second
        self._order = np.argsort(self._keys, kind="stable")
        self._sorted = self._keys[self._order]

    def _find(self, keys: NDArray[np.int64]) -> tuple[NDArray[np.bool_], IndexArray]:
        """Whether each key is listed, and its index into first/second/weight when it is."""
        if len(self._sorted) == 0:
            return np.zeros(len(keys), dtype=np.bool_), np.zeros(len(keys), dtype=np.intp)
        position = np.minimum(np.searchsorted(self._sorted, keys), len(self._sorted) - 1)
        found = self._sorted[position] == keys
        return found, self._order[position]

    def add(self, scorer: Scorer, pool: IndexArray, a: IndexArray, b: IndexArray) -> int:
        """Add allowed pairs (exactly scored); returns how many were new."""
        first, second = np.minimum(a, b), np.maximum(a, b)
        keys = first.astype(np.int64) * self.m + second
        keys = _sorted_unique(keys)
        fresh = ~self._find(keys)[0]
        keys = keys[fresh]
        if len(keys) == 0:
            return 0
        first, second = (keys // self.m).astype(np.intp), (keys % self.m).astype(np.intp)
        weight, allowed = scorer.pair_scores(pool[first], pool[second])
        first, second, weight = first[allowed], second[allowed], weight[allowed]
        self.first = np.concatenate([self.first, first])
        self.second = np.concatenate([self.second, second])
        self.weight = np.concatenate([self.weight, weight])
        self._keys = np.concatenate([self._keys, keys[allowed]])
        self._order = np.argsort(self._keys, kind="stable")
        self._sorted = self._keys[self._order]
        return len(first)

    def lookup(self, a: IndexArray, b: IndexArray) -> FloatArray:
        """Exact scores of listed pairs (NaN where the pair is not listed)."""
        first, second = np.minimum(a, b), np.maximum(a, b)
        found, index = self._find(first.astype(np.int64) * self.m + second)
        result = np.full(len(first), np.nan)
        result[found] = self.weight[index[found]]
        return result

    def total(self, mate: IndexArray) -> float:
        people = np.flatnonzero(mate > np.arange(len(mate)))
        if len(people) == 0:
            return 0.0
        return float(np.nansum(self.lookup(people, mate[people])))


# --- steps 1 and 2: candidate passes ---------------------------------------------------------


@dataclass
class _Lists:
    """Per person, the partners ranked best by key_ij - shift_j, and a bound on the rest.

    Every maybe-allowed pair (i, j) NOT listed for i has key_ij - shift_j <= bound_i, so its
    exact score is at most bound_i + shift_j + error.
    """

    owner: IndexArray
    partner: IndexArray
    bound: FloatArray
    shift: FloatArray
    error: float  # of the shifted keys the pass compared

    def caps(self) -> FloatArray:
        """cap_i = bound_i + shift_i + error (+ float32 rounding): every allowed pair outside
        both people's lists scores at most (cap_i + cap_j) / 2 (see _certify)."""
        cap: FloatArray = self.bound + self.shift + self.error + _ROUNDING
        return cap


def _sample_thresholds(
    fast: FastScores, k: int, rng: np.random.Generator
) -> tuple[Float32Array, Float32Array]:
    """Popularity (about the 2(k+1)-th best score of each person, from a random sample of
    partners) and, per person, a starting threshold for the first pass.

    Scores are symmetric, so a person's own row says how much others like them: someone who
    scores high with many people is everybody's favourite. Ranking partners by key minus their
    popularity finds the partners for whom one is a comparatively good match, which is what an
    optimal matching uses; ranking by raw score lists the same few favourites for everyone.
    """
    m = len(fast.pool)
    keep = k + 1
    sample_size = min(m, _SAMPLE)
    sample = np.sort(rng.choice(m, size=sample_size, replace=False))
    # The q-th best of s sampled keys is about the (q * m / s)-th best of the row. Popularity
    # is the score at the top 0.8% of the row: deep enough not to be one lucky match (measured:
    # shallower or deeper quantiles give relaxations 0.5-4% worse on 10,000-100,000 people).
    # The starting threshold lets at least four times the sample's share through, so that
    # lists fill in one pass (thresholds then rise as they fill).
    popular = max(1, min(sample_size, round(_POPULARITY_QUANTILE * sample_size)))
    passing = min(sample_size, keep if sample_size == m else max(4, 2 * keep * sample_size // m))

    def quantile(values: Float32Array, q: int) -> Float32Array:
        result = np.partition(values, sample_size - q, axis=1)[:, sample_size - q]
        return np.asarray(result, dtype=np.float32)

    sample_popularity = np.maximum(quantile(fast.keys(sample, sample), popular), np.float32(0.0))
    popularity = np.zeros(m, dtype=np.float32)
    threshold = np.full(m, -np.inf, dtype=np.float32)
    for start in range(0, m, _ROW_BLOCK * 4):
        stop = min(m, start + _ROW_BLOCK * 4)
        keys = fast.keys(slice(start, stop), sample)
        popularity[start:stop] = np.maximum(quantile(keys, popular), np.float32(0.0))
        threshold[start:stop] = quantile(keys - sample_popularity[None, :], passing)
    # Rows with few maybe-allowed partners in the sample keep everything allowed.
    threshold[~np.isfinite(threshold)] = np.float32(-10.0)
    return popularity, threshold


def _ranked_lists(
    fast: FastScores,
    shift: Float32Array,
    size: int,
    threshold: Float32Array,
    report: ProgressCallback,
    progress_from: float,
    progress_to: float,
) -> _Lists:
    """One pass over all pairs: each person's `size` best partners by key_ij - shift_j."""
    m = len(fast.pool)
    keep = size + 1
    top_key = np.full((m, keep), -np.inf, dtype=np.float32)
    top_partner = np.full((m, keep), -1, dtype=np.intp)
    initial = threshold.astype(np.float32).copy()
    _symmetric_pass(
        fast,
        shift,
        threshold.astype(np.float32).copy(),
        top_key,
        top_partner,
        lambda fraction: report(
            "scoring", progress_from + (progress_to - progress_from) * fraction
        ),
    )
    owner = np.repeat(np.arange(m), size)
    partner = top_partner[:, :size].ravel()
    listed = partner >= 0
    # A full list: everyone else ranks below its last entry. Otherwise nobody was displaced, so
    # everyone not listed ranked below the starting threshold.
    full = top_partner[:, size] >= 0
    bound = np.where(full, top_key[:, size], initial).astype(np.float64)
    return _Lists(
        owner[listed].astype(np.intp),
        partner[listed],
        bound,
        shift.astype(np.float64),
        fast.set_shift(shift),
    )


def _symmetric_pass(
    fast: FastScores,
    shift: Float32Array,
    threshold: Float32Array,
    top_key: Float32Array,
    top_partner: IndexArray,
    on_progress: Callable[[float], None],
) -> None:
    """One pass over every pair (each computed once), keeping per person the best partners.

    Partner j is ranked for person i by key_ij - shift_j and kept when that reaches
    threshold_i; thresholds rise as the lists fill. Pairs that are certainly not allowed never
    enter a list. The product gives c_ij = key_ij - shift_i - shift_j directly, so both sides
    of a pair are tested against it: i keeps j when c_ij >= threshold_i - shift_i, and j keeps
    i when c_ij >= threshold_j - shift_j. Row blocks run on all cores (numpy and BLAS release
    the interpreter lock); lists are merged in block order, so results do not depend on timing.
    """
    m = len(fast.pool)
    error = fast.set_shift(shift)
    floor = np.float32(fast.min_score - error)
    blocks = list(range(0, m, _ROW_BLOCK))
    # Merging sorts the touched lists: batch the survivors so that each list is sorted rarely.
    merge_every = max(1 << 20, 2 * m * top_key.shape[1])

    list_size = top_key.shape[1]
    # A block only ever needs each person's best few: bound what it holds when many tie.
    local_limit = 4 * list_size * (_ROW_BLOCK + _COLUMN_BLOCK)

    def scan(start: int) -> tuple[IndexArray, IndexArray, Float32Array]:
        stop = min(m, start + _ROW_BLOCK)
        owners: list[IndexArray] = []
        partners: list[IndexArray] = []
        values: list[Float32Array] = []
        row_shift = shift[start:stop]
        for column_start in range(start, m, _COLUMN_BLOCK):
            column_stop = min(m, column_start + _COLUMN_BLOCK)
            reduced = fast.shifted_keys(slice(start, stop), slice(column_start, column_stop))
            width = column_stop - column_start
            row_level = (threshold[start:stop] - row_shift)[:, None]
            column_level = threshold[column_start:column_stop] - shift[column_start:column_stop]
            hit = reduced >= row_level
            hit |= reduced >= column_level[None, :]
            flat = np.flatnonzero(hit)
            if len(flat) == 0:
                continue
            row, column = flat // width, flat % width
            value = reduced.ravel()[flat]
            raw = value + row_shift[row] + shift[column_start + column]
            valid = raw >= floor
            row, column, value = row[valid], column[valid], value[valid]
            person, partner = start + row, column_start + column
            # Row side: person keeps partner, ranked by key - shift_partner.
            mine = value >= row_level[row, 0]
            owners.append(person[mine])
            partners.append(partner[mine])
            values.append(value[mine] + row_shift[row[mine]])
            # Column side, for partners past this row block (each pair is seen once).
            theirs = (value >= column_level[column]) & (partner >= stop)
            owners.append(partner[theirs])
            partners.append(person[theirs])
            values.append(value[theirs] + shift[partner[theirs]])
            if sum(len(x) for x in owners) > local_limit:
                owners, partners, values = _best_per_owner(owners, partners, values, list_size)
        if not owners:
            empty = np.zeros(0, dtype=np.intp)
            return empty, empty, np.zeros(0, dtype=np.float32)
        owners, partners, values = _best_per_owner(owners, partners, values, list_size)
        return owners[0], partners[0], values[0]

    pending: list[tuple[IndexArray, IndexArray, Float32Array]] = []
    buffered = 0
    with _block_workers() as pool:
        for number, found in enumerate(pool.map(scan, blocks)):
            pending.append(found)
            buffered += len(found[0])
            if buffered > merge_every or number == len(blocks) - 1:
                _merge(
                    top_key,
                    top_partner,
                    threshold,
                    np.concatenate([p[0] for p in pending]),
                    np.concatenate([p[1] for p in pending]),
                    np.concatenate([p[2] for p in pending]),
                )
                pending = []
                buffered = 0
            if number % 16 == 0:
                on_progress(number / len(blocks))


def _best_per_owner(
    owners: list[IndexArray], partners: list[IndexArray], values: list[Float32Array], keep: int
) -> tuple[list[IndexArray], list[IndexArray], list[Float32Array]]:
    """Only each owner's `keep` best (value, then lowest partner) of the given triples."""
    owner = np.concatenate(owners)
    partner = np.concatenate(partners)
    value = np.concatenate(values)
    order = np.lexsort((partner, _owner_then_descending(owner, value)))
    owner, partner, value = owner[order], partner[order], value[order]
    starts = np.flatnonzero(np.concatenate(([True], owner[1:] != owner[:-1])))
    counts = np.diff(np.concatenate([starts, [len(owner)]]))
    rank = np.arange(len(owner)) - np.repeat(starts, counts)
    kept = rank < keep
    return [owner[kept]], [partner[kept]], [value[kept]]


def _owner_then_descending(owner: IndexArray, value: Float32Array) -> NDArray[np.int64]:
    """One int64 sort key: by owner, then by value from the largest (float32 bits, ordered)."""
    bits = np.ascontiguousarray(value, dtype=np.float32).view(np.uint32).astype(np.int64)
    # IEEE order as integers: flip negatives entirely, set the sign bit of the others.
    ordered = np.where(bits >= 1 << 31, (1 << 32) - 1 - bits, bits + (1 << 31))
    descending = (1 << 32) - 1 - ordered
    key: NDArray[np.int64] = owner.astype(np.int64) * (1 << 32) + descending
    return key


def _sorted_unique(values: NDArray[np.int64] | IndexArray) -> IndexArray:
    """Distinct values in increasing order (sorting; numpy's hashing is slow on large arrays)."""
    ordered = np.sort(values)
    if len(ordered) == 0:
        return ordered
    result: IndexArray = ordered[np.concatenate(([True], ordered[1:] != ordered[:-1]))]
    return result


@contextmanager
def _block_workers() -> Iterator[ThreadPoolExecutor]:
    """A thread per core for passes over blocks of pairs, with BLAS on one thread meanwhile.

    The blocks are the parallelism; BLAS threads inside each block's product only contend with
    them (measured: 1.7 times the CPU time per pair at 100,000 people on two cores).
    """
    with (
        threadpool_limits(limits=1, user_api="blas"),
        ThreadPoolExecutor(max_workers=_workers()) as executor,
    ):
        yield executor


def _workers() -> int:
    """Threads for whole-population passes: the cores this process may use."""
    try:
        available = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        available = os.cpu_count() or 1
    return max(1, min(available, _MAX_WORKERS))


def _merge(
    top_key: Float32Array,
    top_partner: IndexArray,
    threshold: Float32Array,
    owners: IndexArray,
    partners: IndexArray,
    values: Float32Array,
) -> None:
    """Merge new (owner, partner, key) triples into the per-owner top lists."""
    if len(owners) == 0:
        return
    keep = top_key.shape[1]
    touched = _sorted_unique(owners)
    all_owners = np.concatenate([np.repeat(touched, keep), owners])
    all_partners = np.concatenate([top_partner[touched].ravel(), partners])
    all_values = np.concatenate([top_key[touched].ravel(), values])
    real = all_partners >= 0
    all_owners, all_partners, all_values = all_owners[real], all_partners[real], all_values[real]
    order = np.lexsort((all_partners, _owner_then_descending(all_owners, all_values)))
    all_owners, all_partners, all_values = all_owners[order], all_partners[order], all_values[order]
    group_start = np.searchsorted(all_owners, touched)
    counts = np.diff(np.concatenate([group_start, [len(all_owners)]]))
    rank = np.arange(len(all_owners)) - np.repeat(group_start, counts)
    kept = rank < keep
    slot = np.searchsorted(touched, all_owners[kept])
    new_key = np.full((len(touched), keep), -np.inf, dtype=np.float32)
    new_partner = np.full((len(touched), keep), -1, dtype=np.intp)
    new_key[slot, rank[kept]] = all_values[kept]
    new_partner[slot, rank[kept]] = all_partners[kept]
    top_key[touched] = new_key
    top_partner[touched] = new_partner
    full = new_partner[:, keep - 1] >= 0
    threshold[touched[full]] = np.maximum(threshold[touched[full]], new_key[full, keep - 1])


# --- step 3: rounding -------------------------------------------------------------------------


def _round(assigned: IndexArray, cover: DoubleCover, bonus: float) -> IndexArray:
    """A matching from a (partial) assignment on the double cover.

    The assignment maps bidders to objects without repeats, so its components are cycles and
    paths of people; 2-cycles are pairs, and every longer cycle or path is matched optimally by
    dynamic programming along it.
    """
    m = len(assigned)
    positions = np.arange(m)
    mate = np.full(m, -1, dtype=np.intp)
    has_object = assigned >= 0
    target = np.where(has_object, assigned, 0)
    two_cycle = has_object & (assigned[target] == positions) & (assigned != positions)
    mate[two_cycle] = assigned[two_cycle]
    settled = two_cycle | (assigned == positions)
    has_preimage = np.zeros(m, dtype=np.bool_)
    has_preimage[assigned[has_object]] = True
    seen = settled.copy()
    successor = assigned.tolist()
    # Paths start where nobody points; what is left unseen afterwards lies on cycles.
    starts = [
        *np.flatnonzero(~settled & ~has_preimage).tolist(),
        *np.flatnonzero(~settled).tolist(),
    ]
    for start in starts:
        if seen[start]:
            continue
        chain = [start]
        seen[start] = True
        current = successor[start]
        while current >= 0 and not seen[current]:
            seen[current] = True
            chain.append(current)
            current = successor[current]
        closed = current == start
        if len(chain) < 2:
            continue
        nodes = np.array(chain, dtype=np.intp)
        if closed:
            following = np.roll(nodes, -1)
        else:
            nodes, following = nodes[:-1], nodes[1:]
        weights = cover.value_of(nodes, following).tolist()
        for a, b in _match_chain(chain, weights, closed):
            mate[a] = b
            mate[b] = a
    return mate


def _best_on_path(weights: Sequence[float]) -> tuple[float, list[int]]:
    """Maximum-weight set of non-adjacent edges on a path (edge t joins nodes t and t+1)."""
    count = len(weights)
    if count == 0:
        return 0.0, []
    # best[t]: best value using edges < t; took[t]: whether edge t-1 is used in it.
    best = [0.0] * (count + 1)
    took = [False] * (count + 1)
    for t in range(1, count + 1):
        skip = best[t - 1]
        take = (best[t - 2] if t >= 2 else 0.0) + weights[t - 1] + 1e-9  # more pairs on ties
        if take > skip:
            best[t], took[t] = take, True
        else:
            best[t] = skip
    chosen: list[int] = []
    t = count
    while t > 0:
        if took[t]:
            chosen.append(t - 1)
            t -= 2
        else:
            t -= 1
    return best[count], chosen[::-1]


def _match_chain(
    nodes: Sequence[int], weights: Sequence[float], closed: bool
) -> list[tuple[int, int]]:
    """Maximum-weight matching on a path (or a cycle when `closed`) of people."""
    length = len(nodes)
    if not closed:
        _, edges = _best_on_path(weights)
        return [(nodes[e], nodes[e + 1]) for e in edges]
    if length == 2:
        return [(nodes[0], nodes[1])]
    # Either the closing edge is unused (a path of the other edges), or it is used and its two
    # neighbouring edges are not.
    without_value, without_edges = _best_on_path(weights[: length - 1])
    inner_value, inner_edges = _best_on_path(weights[1 : length - 2])
    with_value = inner_value + weights[length - 1] + 1e-9
    if with_value > without_value:
        edges = [e + 1 for e in inner_edges] + [length - 1]
    else:
        edges = without_edges
    return [(nodes[e], nodes[(e + 1) % length]) for e in edges]


# --- step 4: repair and local search ----------------------------------------------------------


def _repair(
    scorer: Scorer,
    pool: IndexArray,
    fast: FastScores,
    mate: IndexArray,
    edges: _EdgeSet,
    bonus: float,
    *,
    add_candidates: bool = True,
) -> tuple[IndexArray, int]:
    """Give people left out their best allowed free partners; pair free people greedily.

    Returns the new matching and how many candidate edges were added.
    """
    free = np.flatnonzero(mate < 0)
    if len(free) < 2:
        return mate, 0
    per_person = 8
    owners: list[IndexArray] = []
    partners: list[IndexArray] = []
    for start in range(0, len(free), _ROW_BLOCK):
        rows = free[start : start + _ROW_BLOCK]
        keys = fast.keys(rows, free)
        keys[keys < np.float32(fast.min_score - fast.error)] = -np.inf
        take = min(per_person, len(free))
        best = np.argpartition(-keys, take - 1, axis=1)[:, :take]
        best_keys = np.take_along_axis(keys, best, axis=1)
        ok = np.isfinite(best_keys)
        owners.append(np.repeat(rows, take)[ok.ravel()])
        partners.append(free[best.ravel()][ok.ravel()])
    owner = np.concatenate(owners)
    partner = np.concatenate(partners)
    added = edges.add(scorer, pool, owner, partner) if add_candidates else 0
    if len(owner) == 0:
        return mate, added
    weight = edges.lookup(owner, partner)
    usable = np.isfinite(weight)
    owner, partner, weight = owner[usable], partner[usable], weight[usable]
    mate = mate.copy()
    for index in np.lexsort((partner, owner, -weight)).tolist():
        a, b = int(owner[index]), int(partner[index])
        if mate[a] < 0 and mate[b] < 0 and a != b:
            mate[a] = b
            mate[b] = a
    return mate, added


def _enlarge(
    scorer: Scorer,
    pool: IndexArray,
    fast: FastScores,
    edges: _EdgeSet,
    seeds: IndexArray,
    mate: IndexArray,
    dual: FloatArray,
    bonus: float,
) -> int:
    """Give the people the rounding could not settle their best partners by reduced cost.

    Where an odd cycle of the relaxation must be broken, the optimal matching needs pairs
    that are as good as the ones used but were never listed (ties make this common). Returns
    how many candidate edges were added.
    """
    m = len(mate)
    free_first = np.concatenate([seeds[mate[seeds] < 0], seeds[mate[seeds] >= 0]])
    rows_all = free_first[: _ENLARGE_BUDGET + m // 50]
    shift = _score_dual(dual, bonus).astype(np.float32)
    take = min(_ENLARGE_PER_PERSON, m - 1)
    if take <= 0 or len(rows_all) == 0:
        return 0
    error = fast.set_shift(shift)
    floor = np.float32(fast.min_score - error)

    def best_partners(rows: IndexArray) -> tuple[IndexArray, IndexArray]:
        # key_ij - u_i - u_j ranks a row's partners exactly like key_ij - u_j.
        reduced = fast.shifted_keys(rows, slice(0, m))
        raw_floor = floor - shift[rows][:, None] - shift[None, :]
        reduced[reduced < raw_floor] = -np.inf
        best = np.argpartition(-reduced, take - 1, axis=1)[:, :take]
        ok = np.isfinite(np.take_along_axis(reduced, best, axis=1)).ravel()
        return np.repeat(rows, take)[ok], best.ravel()[ok]

    # Whole rows at a time: keep the groups small so that memory stays a few megabytes a row.
    rows_per_group = max(1, _BLOCK_CELLS // max(m, 1))
    groups = [rows_all[i : i + rows_per_group] for i in range(0, len(rows_all), rows_per_group)]
    with _block_workers() as executor:
        found = list(executor.map(best_partners, groups))
    return edges.add(
        scorer, pool, np.concatenate([f[0] for f in found]), np.concatenate([f[1] for f in found])
    )


def _exact_windows(
    mate: IndexArray, edges: _EdgeSet, bonus: float, seeds: IndexArray, dual: FloatArray
) -> IndexArray:
    """Re-solve exactly (blossom) the candidate graph around `seeds`, window by window.

    A window holds seeds, their partners, and candidate neighbours with their partners, so
    every pair touching the window lies inside it and can be re-paired freely. Windows are
    grown breadth-first so that people who could exchange partners end up together. Only
    pairs whose reduced cost w_ij - u_i - u_j is near zero (the ones an optimal matching uses,
    by complementary slackness) and current pairs enter the windows, which keeps them sparse
    when thousands of pairs tie.
    """
    m = len(mate)
    if len(seeds) == 0:
        return mate
    mate = mate.copy()
    if m <= _WHOLE_BELOW:
        # Small enough to solve the whole candidate graph exactly in one window.
        window = m
        useful = np.ones(len(edges.weight), dtype=np.bool_)
    else:
        # The blossom algorithm's time varies wildly with ties beyond a few hundred people.
        window = _WINDOW
        reduced = edges.weight + bonus - dual[edges.first] - dual[edges.second]
        near = reduced >= -_WINDOW_SLACK
        useful = (
            near & (_ranked_within(edges.first, -reduced, m) < _WINDOW_DEGREE)
            | near & (_ranked_within(edges.second, -reduced, m) < _WINDOW_DEGREE)
            | (mate[edges.first] == edges.second)
        )
    first = np.concatenate([edges.first[useful], edges.second[useful]])
    second = np.concatenate([edges.second[useful], edges.first[useful]])
    weight = np.concatenate([edges.weight[useful], edges.weight[useful]])
    order = np.argsort(first, kind="stable")
    first, second, weight = first[order], second[order], weight[order]
    start_of = np.searchsorted(first, np.arange(m + 1))
    in_window = np.zeros(m, dtype=np.bool_)
    # People without a partner first: they have the most to gain.
    seeds = _sorted_unique(seeds)
    pending = [*seeds[mate[seeds] < 0].tolist(), *seeds[mate[seeds] >= 0].tolist()]
    cursor = 0
    budget = _WINDOW_BUDGET + m // 20
    while cursor < len(pending) and budget > 0:
        members: list[int] = []
        queue: deque[int] = deque()
        while cursor < len(pending) and len(members) < window:
            seed = pending[cursor]
            cursor += 1
            if not in_window[seed]:
                queue.append(seed)
            while queue and len(members) < window:
                person = queue.popleft()
                for unit in (person, int(mate[person])):
                    if unit >= 0 and not in_window[unit]:
                        in_window[unit] = True
                        members.append(unit)
                        neighbours = second[start_of[unit] : start_of[unit + 1]]
                        queue.extend(int(x) for x in neighbours[~in_window[neighbours]][:8])
        budget -= len(members)
        if len(members) >= 2:
            _solve_window(
                mate, np.array(members, dtype=np.intp), first, second, weight, start_of, bonus
            )
    return mate


def _ranked_within(group: IndexArray, key: FloatArray, size: int) -> IndexArray:
    """The rank of each item within its group when ordered by key (0 = smallest)."""
    order = np.lexsort((key, group))
    sorted_group = group[order]
    starts = np.searchsorted(sorted_group, np.arange(size))
    rank = np.empty(len(group), dtype=np.intp)
    rank[order] = np.arange(len(group)) - starts[sorted_group]
    return rank


def _solve_window(
    mate: IndexArray,
    members: IndexArray,
    first: IndexArray,
    second: IndexArray,
    weight: FloatArray,
    start_of: NDArray[np.int64],
    bonus: float,
) -> None:
    """Replace the pairs inside `members` by an optimal matching of their candidate graph."""
    m = len(mate)
    local = np.full(m, -1, dtype=np.intp)
    local[members] = np.arange(len(members))
    lengths = start_of[members + 1] - start_of[members]
    positions = np.repeat(start_of[members], lengths) + (
        np.arange(int(lengths.sum())) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    )
    a, b, w = first[positions], second[positions], weight[positions]
    inside = (local[b] >= 0) & (a < b)
    a, b, w = local[a[inside]], local[b[inside]], w[inside]
    if len(a) == 0:
        return
    # Pairs reaching outside the window stay as they are: drop their members from the graph.
    outside = (mate[members] >= 0) & (local[np.maximum(mate[members], 0)] < 0)
    usable = ~outside[a] & ~outside[b]
    a, b, w = a[usable], b[usable], w[usable]
    graph: rx.PyGraph = rx.PyGraph()
    graph.add_nodes_from(range(len(members)))
    scaled = np.rint((w + bonus) * _INTEGER_SCALE).astype(np.int64) + 1
    graph.add_edges_from(list(zip(a.tolist(), b.tolist(), scaled.tolist(), strict=True)))
    matching = rx.max_weight_matching(graph, weight_fn=lambda value: int(value))
    new_value = sum(graph.get_edge_data(x, y) for x, y in matching)
    current_value = 0
    lookup = {(int(x), int(y)): int(v) for x, y, v in zip(a, b, scaled, strict=True)}
    for x in range(len(members)):
        partner = int(mate[members[x]])
        if partner >= 0 and local[partner] > x and not outside[x]:
            current_value += lookup.get((x, int(local[partner])), 0)
    if new_value <= current_value:
        return
    free = members[~outside]
    mate[free] = -1
    for x, y in matching:
        mate[members[x]] = members[y]
        mate[members[y]] = members[x]


def _local_search(
    scorer: Scorer, pool: IndexArray, mate: IndexArray, edges: _EdgeSet, bonus: float
) -> IndexArray:
    """Apply improving augmenting paths (free-x=y-free) and pair swaps until none is left."""
    mate = mate.copy()
    m = len(mate)
    for _ in range(8):
        improved = False
        first = np.concatenate([edges.first, edges.second])
        second = np.concatenate([edges.second, edges.first])
        weight = np.concatenate([edges.weight, edges.weight])
        current = np.zeros(m)
        matched = np.flatnonzero(mate >= 0)
        current[matched] = edges.lookup(matched, mate[matched])
        current = np.nan_to_num(current)

        # Free a -> b (matched to c) while c finds a free d: a-b, c-d replaces b-c.
        free_first = (mate[first] < 0) & (mate[second] >= 0)
        a_side, b_side, w_ab = first[free_first], second[free_first], weight[free_first]
        c_free = (mate[first] >= 0) & (mate[second] < 0)
        c_side, d_side, w_cd = first[c_free], second[c_free], weight[c_free]
        best_in = _best_per(b_side, w_ab, a_side, m)  # best free partner for each matched b
        best_out = _best_per(c_side, w_cd, d_side, m)  # best free partner for each matched c
        moves: list[tuple[float, list[int]]] = []
        for b in np.flatnonzero(best_in[1] >= 0).tolist():
            c = int(mate[b])
            a = int(best_in[1][b])
            d = int(best_out[1][c])
            if d >= 0 and d != a:
                gain = best_in[0][b] + best_out[0][c] - current[b] + bonus
                if gain > 1e-12:
                    moves.append((gain, [a, b, c, d]))
        # Pair swap: a-b and c-d become a-c and b-d (or b-c and a-d): needs the other pair.
        both = (mate[first] >= 0) & (mate[second] >= 0) & (mate[first] != second)
        a_s, c_s, w_ac = first[both], second[both], weight[both]
        keep = a_s < c_s
        a_s, c_s, w_ac = a_s[keep], c_s[keep], w_ac[keep]
        b_s, d_s = mate[a_s], mate[c_s]
        base = current[a_s] + current[c_s]
        promising = w_ac + 1.0 > base  # the other pair scores at most 1
        if promising.any():
            a_s, b_s, c_s, d_s, w_ac, base = (
                a_s[promising],
                b_s[promising],
                c_s[promising],
                d_s[promising],
                w_ac[promising],
                base[promising],
            )
            w_bd, allowed = scorer.pair_scores(pool[b_s], pool[d_s])
            gain = w_ac + w_bd - base
            good = allowed & (gain > 1e-12)
            for g, a, b, c, d in zip(
                gain[good].tolist(),
                a_s[good].tolist(),
                b_s[good].tolist(),
                c_s[good].tolist(),
                d_s[good].tolist(),
                strict=True,
            ):
                moves.append((g, [a, c, b, d]))
        if moves:
            moves.sort(key=lambda item: -item[0])
            used = np.zeros(m, dtype=np.bool_)
            new_pairs: list[tuple[int, int]] = []
            for _, people in moves:
                if used[people].any():
                    continue
                used[people] = True
                # Everyone in a move is free or paired within the move: re-pair them.
                a, b, c, d = people
                mate[people] = -1
                mate[a], mate[b] = b, a
                mate[c], mate[d] = d, c
                new_pairs.extend([(a, b), (c, d)])
                improved = True
            if new_pairs:
                pairs = np.array(new_pairs, dtype=np.intp)
                edges.add(scorer, pool, pairs[:, 0], pairs[:, 1])
        if not improved:
            break
    return mate


def _best_per(
    owner: IndexArray, weight: FloatArray, partner: IndexArray, m: int
) -> tuple[FloatArray, IndexArray]:
    """For each owner, its best partner (ties: lowest position) and that weight."""
    best_weight = np.full(m, -np.inf)
    best_partner = np.full(m, -1, dtype=np.intp)
    if len(owner) == 0:
        return best_weight, best_partner
    order = np.lexsort((partner, -weight, owner))
    owner_sorted = owner[order]
    first = order[np.concatenate(([True], owner_sorted[1:] != owner_sorted[:-1]))]
    best_weight[owner[first]] = weight[first]
    best_partner[owner[first]] = partner[first]
    return best_weight, best_partner


# --- step 5: certificate ----------------------------------------------------------------------


def _certify(
    fast: FastScores,
    dual: FloatArray,
    priced: _Lists,
    *,
    budget_rows: int | None = None,
) -> tuple[FloatArray, tuple[IndexArray, IndexArray], dict[str, float]]:
    """Raise the candidate-graph dual u so that it covers EVERY allowed pair (docs/matching.md).

    Pairs in the candidate graph are covered by u itself. For a pair (i, j) outside it, pass 2
    listed neither for the other, so with cap_i = r_i + u1_i (r from pass 2, u1 the duals it
    priced with) and e the keys' error:

        w_ij <= min(r_i + u1_j, r_j + u1_i) + e <= (cap_i + cap_j) / 2 + e,

    hence u_i >= (cap_i + e) / 2 for both people covers it. Where that raise would cost most,
    the person is priced exactly instead: their row is scored against everybody and their dual
    set to max_j (w_ij - u_j) (keys plus their error), which covers every pair they are in.
    Returns the certified dual, violated pairs worth adding as candidates, and report figures.
    """
    m = len(dual)
    rounding = _ROUNDING
    cap = priced.caps()
    unpriced_value = np.maximum(dual, cap * 0.5)
    deficiency = unpriced_value - dual
    order = np.argsort(-deficiency, kind="stable")
    significant = order[deficiency[order] > 1e-6]
    limit = budget_rows if budget_rows is not None else max(512, _PRICING_PAIRS // max(m, 1))
    rows_to_price = np.sort(significant[:limit])
    result = unpriced_value.copy()
    dual32 = dual.astype(np.float32)
    shifted_error = fast.set_shift(dual32) + rounding
    floor = np.float32(fast.min_score - shifted_error)

    def price(rows: IndexArray) -> tuple[FloatArray, IndexArray, IndexArray]:
        """max_j (key_ij - u_j) - u_i per row, and pairs missed by a clear margin."""
        needed = np.full(len(rows), -np.inf, dtype=np.float32)
        first: list[IndexArray] = []
        second: list[IndexArray] = []
        for column_start in range(0, m, _COLUMN_BLOCK):
            column_stop = min(m, column_start + _COLUMN_BLOCK)
            # reduced = key_ij - u_i - u_j in one product.
            reduced = fast.shifted_keys(rows, slice(column_start, column_stop))
            if fast.min_score > 0:
                raw_floor = floor - dual32[rows][:, None] - dual32[None, column_start:column_stop]
                reduced[reduced < raw_floor] = -np.inf
            needed = np.maximum(needed, reduced.max(axis=1))
            hits = np.flatnonzero(reduced > 1e-3)
            if len(hits):
                width = column_stop - column_start
                strongest = hits[np.argsort(-reduced.ravel()[hits])[: 4 * len(rows)]]
                first.append(rows[strongest // width])
                second.append(column_start + strongest % width)
        empty = np.zeros(0, dtype=np.intp)
        return (
            needed.astype(np.float64),
            np.concatenate(first) if first else empty,
            np.concatenate(second) if second else empty,
        )

    groups = [rows_to_price[i : i + _ROW_BLOCK] for i in range(0, len(rows_to_price), _ROW_BLOCK)]
    violated_first: list[IndexArray] = []
    violated_second: list[IndexArray] = []
    with _block_workers() as executor:
        for rows, (needed, first, second) in zip(groups, executor.map(price, groups), strict=True):
            exact_row = np.maximum(dual[rows], dual[rows] + needed + shifted_error)
            result[rows] = np.minimum(exact_row, unpriced_value[rows])
            violated_first.append(first)
            violated_second.append(second)
    stats = {
        "dual_cap_rule_raise": float(deficiency.sum()),
        "dual_candidate_graph": float(dual.sum()),
        "dual_raise": float((result - dual).sum()),
        "rows_priced": float(len(rows_to_price)),
        "keys_error": float(fast.error),
    }
    empty = np.zeros(0, dtype=np.intp)
    first = np.concatenate(violated_first) if violated_first else empty
    second = np.concatenate(violated_second) if violated_second else empty
    return result, (first, second), stats


# --- result -----------------------------------------------------------------------------------


def _result(
    scorer: Scorer,
    pool: IndexArray,
    solution: _Solution,
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
