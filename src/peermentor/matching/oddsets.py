"""A tighter certificate for small pools: the matching LP with Edmonds' odd-set inequalities.

The fractional matching LP (bounds.py) can exceed the best matching where odd groups of people
with equal scores take half-pairs; with heavy ties that integrality gap reaches ~0.5%. Adding
the odd-set inequalities x(E(S)) <= (|S| - 1) / 2 closes it. Their dual,

    min  sum_i y_i + sum_S z_S (|S| - 1) / 2
    s.t. y_i + y_j + sum_{S contains i and j} z_S >= w_ij  for every allowed pair,  y, z >= 0,

bounds every set of pairs (each pair is covered by its ends' y and the z of the sets it lies in;
a set S holds at most (|S| - 1) / 2 of the pairs). The LP is solved on a few thousand candidate
pairs with HiGHS (scipy); every allowed pair is then priced exactly against the duals, violated
ones join the candidates (column generation), odd sets are found from the fractional support,
and this repeats a few rounds. The final duals are made feasible for EVERY allowed pair in
float64 (raising y where a pair is still short), so the bound never rests on the LP solver's
tolerances. Only for pools small enough to price every pair a few times (a second or so).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
IndexArray = NDArray[np.intp]
BoolArray = NDArray[np.bool_]

# Exact scores and allowed flags of rows x all columns (positions in the pool).
BlockScores = Callable[[IndexArray], tuple[FloatArray, BoolArray]]

_ROW_BLOCK = 512
_MARGIN = 1e-9
_ADD_PER_ROW = 8


def _solve(
    n: int, first: IndexArray, second: IndexArray, weights: FloatArray, cuts: list[IndexArray]
) -> tuple[FloatArray, FloatArray, FloatArray] | None:
    """Primal x and duals (y, z) of the LP on the given pairs and odd sets, or None."""
    from scipy.optimize import linprog

    edges = len(weights)
    if edges == 0:
        return None
    rows = [
        sp.csr_matrix(
            (np.ones(2 * edges), (np.concatenate([first, second]), np.tile(np.arange(edges), 2))),
            shape=(n, edges),
        )
    ]
    member = np.zeros(n, dtype=np.bool_)
    for members in cuts:
        member[:] = False
        member[members] = True
        rows.append(sp.csr_matrix((member[first] & member[second]).astype(np.float64)))
    limits = np.concatenate([np.ones(n), [(len(s) - 1) / 2 for s in cuts]])
    result = linprog(
        -weights, A_ub=sp.vstack(rows, format="csr"), b_ub=limits, bounds=(0, None), method="highs"
    )
    if result.status != 0:
        return None
    marginals = np.maximum(-np.asarray(result.ineqlin.marginals, dtype=np.float64), 0.0)
    return np.asarray(result.x, dtype=np.float64), marginals[:n], marginals[n:]


def _odd_sets(
    n: int, first: IndexArray, second: IndexArray, x: FloatArray, tight: list[IndexArray]
) -> list[IndexArray]:
    """Odd sets whose inequality x violates: the odd components of the fractional pairs, with
    the sets already cut and tight (z > 0) each held together, so that an odd cycle through
    such sets (a blossom of blossoms) is found as their union."""
    from scipy.sparse.csgraph import connected_components

    fractional = (x > 1e-6) & (x < 1 - 1e-6)
    if not fractional.any():
        return []
    link_first = [first[fractional]]
    link_second = [second[fractional]]
    for members in tight:
        link_first.append(members[:-1])
        link_second.append(members[1:])
    ends_a, ends_b = np.concatenate(link_first), np.concatenate(link_second)
    graph = sp.csr_matrix((np.ones(len(ends_a)), (ends_a, ends_b)), shape=(n, n))
    _, label = connected_components(graph, directed=False)
    touched = np.unique(np.concatenate([first[fractional], second[fractional]]))
    found: list[IndexArray] = []
    member = np.zeros(n, dtype=np.bool_)
    for component in np.unique(label[touched]):
        members = np.flatnonzero(label == component)
        if len(members) < 3 or len(members) % 2 == 0:
            continue
        member[:] = False
        member[members] = True
        if x[member[first] & member[second]].sum() > (len(members) - 1) / 2 + 1e-6:
            found.append(members)
    return found


def _shortfall(
    n: int, block: BlockScores, y: FloatArray, cuts: list[IndexArray], z: FloatArray
) -> tuple[FloatArray, IndexArray, IndexArray, FloatArray]:
    """Per person, the most any allowed pair of theirs is short of its cover; and the most
    violated pairs (a few per row) as new candidates, with their scores."""
    membership = np.zeros((n, len(cuts)))
    for column, members in enumerate(cuts):
        membership[members, column] = 1.0
    weighted = membership * z
    short = np.zeros(n)
    new_first: list[IndexArray] = []
    new_second: list[IndexArray] = []
    new_scores: list[FloatArray] = []
    for start in range(0, n, _ROW_BLOCK):
        rows = np.arange(start, min(n, start + _ROW_BLOCK))
        scores, allowed = block(rows)
        cover = y[rows][:, None] + y[None, :]
        if len(cuts):
            cover += weighted[rows] @ membership.T
        gap = np.where(allowed, scores - cover, -np.inf)
        short[rows] = np.maximum(gap.max(axis=1), 0.0)
        take = min(_ADD_PER_ROW, n)
        best = np.argpartition(-gap, take - 1, axis=1)[:, :take]
        value = np.take_along_axis(gap, best, axis=1)
        hit = value > 1e-7
        owner = np.repeat(rows, take).reshape(len(rows), take)[hit]
        new_first.append(owner)
        new_second.append(best[hit])
        new_scores.append(np.take_along_axis(scores, best, axis=1)[hit])
    return short, np.concatenate(new_first), np.concatenate(new_second), np.concatenate(new_scores)


def _covering_sum(y: FloatArray, short: FloatArray, cuts: list[IndexArray], z: FloatArray) -> float:
    """The bound from duals (y, z) made feasible for every allowed pair: a pair short by s has
    both ends short by at least s, so half of each end's own shortfall covers it."""
    covered = np.maximum(y, 0.0) + short / 2 + _MARGIN
    sizes = np.array([(len(c) - 1) / 2 for c in cuts]) if cuts else np.zeros(0)
    return float(covered.sum() + (np.maximum(z[: len(cuts)], 0.0) * sizes).sum())


def best_pairs(n: int, block: BlockScores, per_row: int = 10) -> tuple[IndexArray, IndexArray]:
    """Each person's `per_row` best allowed partners, as unique pairs (first < second)."""
    keys: list[NDArray[np.int64]] = []
    for start in range(0, n, _ROW_BLOCK):
        rows = np.arange(start, min(n, start + _ROW_BLOCK))
        scores, allowed = block(rows)
        value = np.where(allowed, scores, -np.inf)
        take = min(per_row, n)
        best = np.argpartition(-value, take - 1, axis=1)[:, :take]
        ok = np.isfinite(np.take_along_axis(value, best, axis=1))
        owner = np.repeat(rows, take).reshape(len(rows), take)[ok]
        partner = best[ok]
        low, high = np.minimum(owner, partner), np.maximum(owner, partner)
        keys.append(low.astype(np.int64) * n + high)
    unique = np.unique(np.concatenate(keys)) if keys else np.zeros(0, dtype=np.int64)
    return (unique // n).astype(np.intp), (unique % n).astype(np.intp)


def odd_set_bound(
    n: int,
    first: IndexArray,
    second: IndexArray,
    weights: FloatArray,
    block: BlockScores,
    *,
    rounds: int = 8,
) -> tuple[float, dict[str, float]]:
    """A bound on every valid set of pairs of the pool (see the module docstring).

    `first`, `second`, `weights` are starting candidate pairs with their exact scores; `block`
    gives exact scores and allowed flags of some rows against the whole pool.
    """
    pair_weight: dict[tuple[int, int], float] = {
        (int(a), int(b)): float(w)
        for a, b, w in zip(
            np.minimum(first, second), np.maximum(first, second), weights, strict=True
        )
    }
    cuts: list[IndexArray] = []
    z = np.zeros(0)
    best = np.inf
    lp_rounds = 0
    for _ in range(rounds):
        keys = list(pair_weight)
        a = np.array([k[0] for k in keys], dtype=np.intp)
        b = np.array([k[1] for k in keys], dtype=np.intp)
        w = np.array([pair_weight[k] for k in keys])
        solved = _solve(n, a, b, w, cuts)
        if solved is None:
            break
        lp_rounds += 1
        x, y, z = solved
        short, add_first, add_second, add_scores = _shortfall(n, block, y, cuts, z)
        best = min(best, _covering_sum(y, short, cuts, z))
        fresh = 0
        if len(add_first):
            # Scores are symmetric: the pass already scored every pair it proposes.
            low, high = np.minimum(add_first, add_second), np.maximum(add_first, add_second)
            for p, q, score in zip(low.tolist(), high.tolist(), add_scores.tolist(), strict=True):
                if (p, q) not in pair_weight:
                    pair_weight[(p, q)] = score
                    fresh += 1
        known = {tuple(c.tolist()) for c in cuts}
        tight = [c for c, value in zip(cuts, z, strict=True) if value > 1e-9]
        new_cuts = [c for c in _odd_sets(n, a, b, x, tight) if tuple(c.tolist()) not in known]
        cuts.extend(new_cuts)
        if not fresh and not new_cuts:
            break
        if new_cuts:
            z = np.concatenate([z, np.zeros(len(new_cuts))])
    if not np.isfinite(best):
        short = _shortfall(n, block, np.zeros(n), [], np.zeros(0))[0]
        best = _covering_sum(np.zeros(n), short, [], np.zeros(0))
    return best, {
        "odd_set_cuts": float(len(cuts)),
        "odd_set_rounds": float(lp_rounds),
        "odd_set_pairs": float(len(pair_weight)),
    }
