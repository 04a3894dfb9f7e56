"""The certified upper bound for circles: a linear relaxation of the grouping problem.

A circle C of s people, lo <= s <= hi, scores sum_{i in C} m_i(C), where m_i(C) is i's mean score
with the other s - 1 members. Write y_ij = 1 / (s - 1) when i and j share a circle of size s (0
otherwise): then m_i = sum_j w_ij y_ij, and every valid grouping (anyone may be left out) satisfies

    y_ij = y_ji,   0 <= y_ij <= 1 / (lo - 1),   sum_j y_ij <= 1,
    y_ij + y_ik - y_jk <= 1 / (lo - 1)   (i with j and with k puts j and k together),

and y_jk = 0 when j and k may not be grouped. The linear program maximising sum_ij w_ij y_ij
over these constraints is a fractional (lo - 1)-matching tightened by triangle inequalities; its
optimum bounds the total of every valid grouping. Pairs outside the candidate lists are not
variables: person i's mass on them (at most 1) is worth at most `rest_i`, a bound on the score of
every allowed partner not listed for i (the oracle's keys plus their error), which keeps the
relaxation valid for ALL allowed pairs.

The LP is solved with HiGHS; triangle inequalities are added in rounds (separated on the support
of the solution; a cut naming an allowed pair that is not yet a variable adds that pair first).
Nothing rests on the solver's accuracy: from its duals (alpha per person, mu per cut, both
clipped at 0) the missing duals are set to the smallest feasible values in float64,

    gamma_e = max(0, 2 w_e - alpha_i - alpha_j - (A^T mu)_e),   delta_i = max(0, rest_i - alpha_i),

and the bound is sum alpha + sum mu / k + sum gamma / k + sum delta (k = lo - 1), the objective of
a feasible dual: by weak duality it bounds every feasible y, hence every valid grouping.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray
from scipy.optimize import linprog

from .oracle import Neighbourhoods, Oracle

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]

# Up to this many people the LP is solved (with triangle inequalities) by HiGHS; beyond, only
# the descent on the fractional matching's dual runs (HiGHS takes tens of seconds there).
LP_LIMIT = 3000
# Dual descent: at most this many steps, half way to each person's best value each time.
DESCENT_STEPS = 40
DESCENT_STEP = 0.5
DESCENT_PATIENCE = 3
# Cut rounds stop once a round tightens the bound by less than this share.
MIN_CUT_GAIN = 2e-3
# Rounds of triangle inequalities at most, and how many new ones per round per person.
MAX_CUT_ROUNDS = 6
CUTS_PER_PERSON = 6
# A cut counts as violated above this (relative to 1 / k); y below this is outside the support.
CUT_TOLERANCE = 1e-6
SUPPORT = 1e-7
# Rounding margin per person on the float64 certificate.
MARGIN = 1e-9


@dataclass
class _Cuts:
    """Triangle inequalities y_ij + y_ik - y_jk <= 1 / k as pool positions (i, j, k)."""

    i: IntArray
    j: IntArray
    k: IntArray

    @staticmethod
    def none() -> _Cuts:
        empty = np.zeros(0, dtype=np.intp)
        return _Cuts(empty, empty, empty)

    def __len__(self) -> int:
        return len(self.i)

    def extended(self, other: _Cuts) -> _Cuts:
        return _Cuts(
            np.concatenate([self.i, other.i]),
            np.concatenate([self.j, other.j]),
            np.concatenate([self.k, other.k]),
        )


class _Pairs:
    """Candidate pairs (first < second) of pool positions with exact scores, found by key."""

    def __init__(self, oracle: Oracle, first: IntArray, second: IntArray) -> None:
        self.oracle = oracle
        self.n = len(oracle.pool)
        self.first = np.zeros(0, dtype=np.intp)
        self.second = np.zeros(0, dtype=np.intp)
        self.weight = np.zeros(0)
        self.keys = np.zeros(0, dtype=np.int64)
        self.add(first, second)

    def add(self, first: IntArray, second: IntArray) -> None:
        """Add the allowed ones of these pairs (either order; repeats ignored)."""
        low, high = np.minimum(first, second), np.maximum(first, second)
        keys = np.unique(low.astype(np.int64) * self.n + high)
        keys = keys[~np.isin(keys, self.keys)]
        if len(keys) == 0:
            return
        low, high = (keys // self.n).astype(np.intp), (keys % self.n).astype(np.intp)
        weight, allowed = self.oracle.exact(low, high)
        self.first = np.concatenate([self.first, low[allowed]])
        self.second = np.concatenate([self.second, high[allowed]])
        self.weight = np.concatenate([self.weight, weight[allowed]])
        self.keys = np.concatenate([self.keys, keys[allowed]])
        order = np.argsort(self.keys)
        self.first, self.second = self.first[order], self.second[order]
        self.weight, self.keys = self.weight[order], self.keys[order]

    def find(self, a: IntArray, b: IntArray) -> IntArray:
        """Index of each pair, -1 where it is not a candidate."""
        keys = np.minimum(a, b).astype(np.int64) * self.n + np.maximum(a, b)
        position = np.minimum(np.searchsorted(self.keys, keys), max(len(self.keys) - 1, 0))
        found = (len(self.keys) > 0) & (self.keys[position] == keys)
        result: IntArray = np.where(found, position, -1).astype(np.intp)
        return result


def relaxation_bound(
    oracle: Oracle,
    neighbours: Neighbourhoods,
    lo: int,
    *,
    seconds: float,
) -> tuple[float, dict[str, float]]:
    """A certified bound on the total of every valid grouping of the pool, and report figures:
    the dual descent's, then (pools up to LP_LIMIT) the LP's with triangle inequalities added
    while `seconds` allow; the smallest."""
    n = len(oracle.pool)
    k = lo - 1
    stats: dict[str, float] = {}
    if n < lo or k < 1:
        return 0.0, stats
    deadline = time.perf_counter() + seconds
    placeable = neighbours.degree >= k
    rows = np.repeat(np.arange(n, dtype=np.intp), neighbours.partners.shape[1])
    cols = neighbours.partners.ravel()
    keep = (cols >= 0) & placeable[rows] & placeable[np.maximum(cols, 0)]
    pairs = _Pairs(oracle, rows[keep], cols[keep])
    rest = np.where(placeable & np.isfinite(neighbours.rest), neighbours.rest, -np.inf)
    best = _descent_bound(pairs, rest, k)
    stats["bound_by_descent"] = best
    cuts = _Cuts.none()
    rounds = MAX_CUT_ROUNDS + 1 if n <= LP_LIMIT else 0
    for round_number in range(rounds):
        remaining = deadline - time.perf_counter()
        if remaining <= 0:
            break
        solved = _solve(pairs, cuts, rest, k, remaining)
        if solved is None:
            break
        y, alpha, mu = solved
        bound = _certify(pairs, cuts, rest, k, alpha, mu)
        stats["bound_by_lp"] = bound
        settled = bound > best * (1.0 - MIN_CUT_GAIN)
        best = min(best, bound)
        if round_number > 0 and settled:
            break
        stats["relaxation_rounds"] = float(round_number + 1)
        if round_number == rounds - 1:
            break
        new = _violated(pairs, y, k)
        if len(new) == 0:
            break
        # A cut naming an allowed pair (j, k) needs y_jk as a variable to stay valid.
        pairs.add(new.j, new.k)
        cuts = cuts.extended(new)
    stats["relaxation_pairs"] = float(len(pairs.weight))
    stats["relaxation_cuts"] = float(len(cuts))
    return best, stats


def _solve(
    pairs: _Pairs, cuts: _Cuts, rest: FloatArray, k: int, seconds: float
) -> tuple[FloatArray, FloatArray, FloatArray] | None:
    """The LP's solution y (per candidate pair), the person duals and the cut duals."""
    n, p, m = pairs.n, len(pairs.weight), len(cuts)
    outside = np.isfinite(rest)
    # Columns: y per pair, then o per person (mass on partners outside the lists).
    person_rows = np.concatenate([pairs.first, pairs.second, np.arange(n)])
    person_cols = np.concatenate([np.arange(p), np.arange(p), p + np.arange(n)])
    parts = [(person_rows, person_cols, np.ones(2 * p + n))]
    if m:
        ij, ik, jk = (
            pairs.find(cuts.i, cuts.j),
            pairs.find(cuts.i, cuts.k),
            pairs.find(cuts.j, cuts.k),
        )
        cut_rows = n + np.arange(m)
        parts.append((cut_rows, ij, np.ones(m)))
        parts.append((cut_rows, ik, np.ones(m)))
        has = jk >= 0
        parts.append((cut_rows[has], jk[has], -np.ones(int(has.sum()))))
    matrix = sp.csr_matrix(
        (
            np.concatenate([x[2] for x in parts]),
            (np.concatenate([x[0] for x in parts]), np.concatenate([x[1] for x in parts])),
        ),
        shape=(n + m, p + n),
    )
    upper = np.concatenate([np.full(p, 1.0 / k), np.where(outside, 1.0, 0.0)])
    cost = -np.concatenate([2.0 * pairs.weight, np.where(outside, rest, 0.0)])
    result = linprog(
        cost,
        A_ub=matrix,
        b_ub=np.concatenate([np.ones(n), np.full(m, 1.0 / k)]),
        bounds=np.stack([np.zeros(p + n), upper], axis=1),
        method="highs",
        options={"time_limit": max(seconds, 0.1)},
    )
    if result.status != 0 or result.x is None:
        return None
    duals = np.maximum(-np.asarray(result.ineqlin.marginals, dtype=np.float64), 0.0)
    return np.asarray(result.x[:p], dtype=np.float64), duals[:n], duals[n:]


def _certify(
    pairs: _Pairs, cuts: _Cuts, rest: FloatArray, k: int, alpha: FloatArray, mu: FloatArray
) -> float:
    """The objective of the cheapest feasible dual completing (alpha, mu): a valid bound."""
    covered = alpha[pairs.first] + alpha[pairs.second]
    if len(cuts):
        ij, ik, jk = (
            pairs.find(cuts.i, cuts.j),
            pairs.find(cuts.i, cuts.k),
            pairs.find(cuts.j, cuts.k),
        )
        by_cuts = np.zeros(len(pairs.weight))
        np.add.at(by_cuts, ij, mu)
        np.add.at(by_cuts, ik, mu)
        has = jk >= 0
        np.add.at(by_cuts, jk[has], -mu[has])
        covered = covered + by_cuts
    gamma = np.maximum(2.0 * pairs.weight - covered, 0.0)
    delta = np.where(np.isfinite(rest), np.maximum(rest - alpha, 0.0), 0.0)
    parts = [*alpha.tolist(), *(mu / k).tolist(), *(gamma / k).tolist(), *delta.tolist()]
    return math.fsum(parts) + MARGIN * pairs.n


def _violated(pairs: _Pairs, y: FloatArray, k: int) -> _Cuts:
    """Triangle inequalities the solution violates: for each person i and two partners j, k of
    i in the support, y_ij + y_ik - y_jk > 1 / k (the most violated few per person)."""
    support = y > SUPPORT
    a, b, value = pairs.first[support], pairs.second[support], y[support]
    owner = np.concatenate([a, b])
    other = np.concatenate([b, a])
    mass = np.concatenate([value, value])
    order = np.lexsort((other, owner))
    owner, other, mass = owner[order], other[order], mass[order]
    starts = np.flatnonzero(np.concatenate(([True], owner[1:] != owner[:-1])))
    ends = np.concatenate([starts[1:], [len(owner)]])
    found_i: list[int] = []
    found_j: list[int] = []
    found_k: list[int] = []
    limit = 1.0 / k + CUT_TOLERANCE
    for start, end in zip(starts.tolist(), ends.tolist(), strict=True):
        if end - start < 2:
            continue
        size = end - start
        left, right = np.triu_indices(size, 1)
        j = other[start:end][left]
        kk = other[start:end][right]
        total = mass[start:end][left] + mass[start:end][right]
        candidates = np.flatnonzero(total > limit)
        if len(candidates) == 0:
            continue
        jk = pairs.find(j[candidates], kk[candidates])
        between = np.where(jk >= 0, y[np.maximum(jk, 0)], 0.0)
        excess = total[candidates] - between - limit
        chosen = candidates[excess > 0]
        if len(chosen) == 0:
            continue
        chosen = chosen[np.argsort(-excess[excess > 0], kind="stable")[:CUTS_PER_PERSON]]
        found_i += [int(owner[start])] * len(chosen)
        found_j += j[chosen].tolist()
        found_k += kk[chosen].tolist()
    return _Cuts(
        np.asarray(found_i, dtype=np.intp),
        np.asarray(found_j, dtype=np.intp),
        np.asarray(found_k, dtype=np.intp),
    )


def _descent_bound(pairs: _Pairs, rest: FloatArray, k: int) -> float:
    """The fractional (lo - 1)-matching's dual, by damped coordinate descent.

    Without cuts the dual is: minimise f(alpha) = sum alpha + (1/k) sum_e (2 w_e - alpha_i -
    alpha_j)+ + sum_i (rest_i - alpha_i)+ over alpha >= 0; f(alpha) is a valid bound for ANY alpha
    >= 0 (the other duals are set to their cheapest feasible values). For one person with the
    others fixed, the best alpha_i is max(0, rest_i, the k-th largest 2 w_ij - alpha_j): every
    step moves each alpha half way there, and the smallest f seen is kept. On the benchmark
    organisations this comes within 0.1% of the LP optimum in about twenty steps.
    """
    n = pairs.n
    owner = np.concatenate([pairs.first, pairs.second])
    other = np.concatenate([pairs.second, pairs.first])
    doubled = 2.0 * np.concatenate([pairs.weight, pairs.weight])
    order = np.argsort(owner, kind="stable")
    owner, other, doubled = owner[order], other[order], doubled[order]
    floor = np.maximum(np.where(np.isfinite(rest), rest, 0.0), 0.0)
    alpha = np.zeros(n)
    best = _dual_value(pairs, rest, k, alpha)
    if len(owner) == 0:
        return best
    groups, starts = np.unique(owner, return_index=True)
    counts = np.diff(np.append(starts, len(owner)))
    since = 0
    for _ in range(DESCENT_STEPS):
        kth = np.zeros(n)
        kth[groups] = _kth_largest(doubled - alpha[other], starts, counts, k)
        alpha = (1.0 - DESCENT_STEP) * alpha + DESCENT_STEP * np.maximum(kth, floor)
        value = _dual_value(pairs, rest, k, alpha)
        if value < best - 1e-7 * max(best, 1.0):
            best, since = value, 0
        else:
            since += 1
            if since >= DESCENT_PATIENCE:
                break
    return best


def _kth_largest(
    values: FloatArray, starts: IntArray, counts: NDArray[np.int64], k: int
) -> FloatArray:
    """The k-th largest value of each group (consecutive runs; -inf where a group has fewer),
    by removing each group's maximum k - 1 times (k is a circle size, so this is a few passes)."""
    work = values.copy()
    group = np.repeat(np.arange(len(starts)), counts)
    for _ in range(k - 1):
        top = np.maximum.reduceat(work, starts)
        at_top = np.flatnonzero(work == top[group])
        _, first = np.unique(group[at_top], return_index=True)
        work[at_top[first]] = -np.inf
    result: FloatArray = np.maximum.reduceat(work, starts)
    return result


def _dual_value(pairs: _Pairs, rest: FloatArray, k: int, alpha: FloatArray) -> float:
    """f(alpha) (see _descent_bound), summed carefully, plus the rounding margin."""
    gamma = np.maximum(2.0 * pairs.weight - alpha[pairs.first] - alpha[pairs.second], 0.0)
    delta = np.where(np.isfinite(rest), np.maximum(rest - alpha, 0.0), 0.0)
    return math.fsum([*alpha.tolist(), *(gamma / k).tolist(), *delta.tolist()]) + MARGIN * pairs.n
