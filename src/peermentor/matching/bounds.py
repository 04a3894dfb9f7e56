"""The fractional-matching relaxation, solved as an assignment problem, and its dual certificate.

For people 0..n-1 and allowed pairs E with scores w, the fractional matching LP is

    max  sum_{ij in E} w_ij x_ij   s.t.  sum_j x_ij <= 1 for every i,  x >= 0
    min  sum_i u_i                 s.t.  u_i + u_j >= w_ij for every ij in E,  u >= 0   (dual)

Every matching is a feasible x, so by weak duality ANY feasible u bounds the total of every valid
set of pairs: total <= sum_i u_i. That is the certificate the engine reports.

The LP equals half of an assignment problem on the "double cover": each person is once a bidder
and once an object, bidder i may take object j for w_ij when ij is in E, or its own object i for
0 (staying unmatched). A symmetric fractional matching x gives the assignment y_ij = y_ji = x_ij
of twice the value, and any assignment y gives x_ij = (y_ij + y_ji) / 2. We solve the assignment
with Bertsekas' auction algorithm with epsilon-scaling: bidders bid for their best object and
objects go to the highest bidder, raising prices p. For ANY prices, taking each bidder's profit
pi_i = max_j (a_ij - p_j) gives a feasible assignment dual (pi_i + p_j >= a_ij), so

    u_i = (pi_i + p_i) / 2

is feasible for the matching dual on E (u_i + u_j = (pi_i + p_j + pi_j + p_i) / 2 >= w_ij, and
u_i >= 0 because pi_i >= a_ii - p_i = -p_i). Feasibility never depends on the auction having
converged; convergence (epsilon-complementary slackness) only makes the bound tight: within n *
epsilon / 2 of the LP optimum.

Pairs outside the candidate graph E are handled by `extend_dual`: see its docstring.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
IndexArray = NDArray[np.intp]

# Below this many unassigned bidders a round of vectorised bidding costs more in numpy overhead
# than bidding one at a time.
_SEQUENTIAL_BELOW = 24
# Added to every dual value so that rounding in u_i + u_j >= w_ij can never matter.
_DUAL_MARGIN = 1e-9


class DoubleCover:
    """The assignment problem of a symmetric candidate graph (CSR rows = bidders).

    Every row holds its own diagonal entry (staying unmatched, worth `diagonal`: 0, or per
    person an outside option; its dual then satisfies u_i >= diagonal_i / 2) and the candidate
    edges in both directions.
    """

    def __init__(
        self,
        n: int,
        first: IndexArray,
        second: IndexArray,
        weights: FloatArray,
        diagonal: float | FloatArray,
    ) -> None:
        self.diagonal: FloatArray = np.broadcast_to(
            np.asarray(diagonal, dtype=np.float64), (n,)
        ).copy()
        rows = np.concatenate([first, second, np.arange(n)])
        cols = np.concatenate([second, first, np.arange(n)])
        values = np.concatenate([weights, weights, self.diagonal])
        matrix = sp.csr_matrix((values, (rows, cols)), shape=(n, n))
        matrix.sum_duplicates()
        matrix.sort_indices()
        self.n = n
        self.indptr: NDArray[np.int64] = matrix.indptr.astype(np.int64)
        self.indices: IndexArray = matrix.indices.astype(np.intp)
        self.values: FloatArray = matrix.data.astype(np.float64)
        self.row_of: IndexArray = np.repeat(np.arange(n), np.diff(self.indptr))

    def profits(self, prices: FloatArray) -> FloatArray:
        """pi_i = max_j (a_ij - p_j) over each row."""
        result: FloatArray = np.maximum.reduceat(
            self.values - prices[self.indices], self.indptr[:-1]
        )
        return result

    def matching_dual(self, prices: FloatArray) -> FloatArray:
        """u_i = (pi_i + p_i) / 2: feasible for the matching dual on the candidate edges.

        A margin far below any score difference absorbs floating-point rounding.
        """
        result: FloatArray = (self.profits(prices) + prices) * 0.5 + _DUAL_MARGIN
        return result

    def value_of(self, bidder: IndexArray, obj: IndexArray) -> FloatArray:
        """a_ij for the given (bidder, object) pairs, which must be entries of the matrix."""
        starts = self.indptr[bidder]
        ends = self.indptr[bidder + 1]
        result = np.empty(len(bidder), dtype=np.float64)
        for k in range(len(bidder)):
            row = self.indices[starts[k] : ends[k]]
            result[k] = self.values[starts[k] + int(np.searchsorted(row, obj[k]))]
        return result


class _AuctionState:
    """Prices and the current (partial) assignment of an auction."""

    def __init__(self, cover: DoubleCover, prices: FloatArray | None) -> None:
        n = cover.n
        self.cover = cover
        self.price = np.zeros(n) if prices is None else prices.astype(np.float64).copy()
        values = cover.values
        self.span = (
            float(values.max() - min(0.0, float(values.min())) + 1.0) if len(values) else 1.0
        )
        self.owner = np.full(n, -1, dtype=np.intp)
        self.assigned = np.full(n, -1, dtype=np.intp)
        self.assigned_value = np.zeros(n)

    def drop_stale(self, epsilon: float) -> None:
        """Unassign bidders that no longer satisfy epsilon-complementary slackness."""
        has = self.assigned >= 0
        if not has.any():
            return
        profit = self.cover.profits(self.price)
        current = self.assigned_value - self.price[np.maximum(self.assigned, 0)]
        stale = has & (current < profit - epsilon)
        self.owner[self.assigned[stale]] = -1
        self.assigned[stale] = -1

    def bid_round(self, bidders: IndexArray, epsilon: float) -> None:
        """One Jacobi round: every unassigned bidder bids; each object goes to its best bid."""
        cover = self.cover
        starts = cover.indptr[bidders]
        lengths = cover.indptr[bidders + 1] - starts
        offsets = np.concatenate(([0], np.cumsum(lengths)[:-1]))
        positions = np.repeat(starts - offsets, lengths) + np.arange(int(lengths.sum()))
        objects = cover.indices[positions]
        net = cover.values[positions] - self.price[objects]
        best = np.maximum.reduceat(net, offsets)
        segment = np.repeat(np.arange(len(bidders)), lengths)
        at_best = np.flatnonzero(net == best[segment])
        first = at_best[np.concatenate(([True], segment[at_best][1:] != segment[at_best][:-1]))]
        net[first] = -np.inf
        second = np.maximum.reduceat(net, offsets)
        second = np.where(np.isfinite(second), second, best - self.span)
        target = objects[first]
        bid = self.price[target] + (best - second) + epsilon
        order = np.lexsort((-bid, target))
        sorted_target = target[order]
        winners = order[np.concatenate(([True], sorted_target[1:] != sorted_target[:-1]))]
        won = target[winners]
        previous = self.owner[won]
        self.assigned[previous[previous >= 0]] = -1
        self.owner[won] = bidders[winners]
        self.assigned[bidders[winners]] = won
        self.assigned_value[bidders[winners]] = cover.values[positions[first[winners]]]
        self.price[won] = bid[winners]

    def bid_sequentially(self, bidders: IndexArray, epsilon: float) -> None:
        """Gauss-Seidel bidding for the last few bidders.

        Displacement chains can run through much of the graph, so this loop works on Python
        lists (a numpy call per bid costs more than the bid itself).
        """
        cover = self.cover
        indptr = cover.indptr
        price = self.price.tolist()
        owner = self.owner.tolist()
        assigned = self.assigned
        assigned_value = self.assigned_value
        rows: dict[int, tuple[list[int], list[float]]] = {}
        span = self.span
        stack = [int(i) for i in bidders[::-1]]
        while stack:
            bidder = stack.pop()
            row = rows.get(bidder)
            if row is None:
                start, end = int(indptr[bidder]), int(indptr[bidder + 1])
                row = (cover.indices[start:end].tolist(), cover.values[start:end].tolist())
                rows[bidder] = row
            objects, values = row
            best = second = -np.inf
            best_object = -1
            best_value = 0.0
            for obj, value in zip(objects, values, strict=True):
                net = value - price[obj]
                if net > best:
                    second = best
                    best = net
                    best_object = obj
                    best_value = value
                elif net > second:
                    second = net
            if second == -np.inf:
                second = best - span
            price[best_object] += best - second + epsilon
            previous = owner[best_object]
            owner[best_object] = bidder
            assigned[bidder] = best_object
            assigned_value[bidder] = best_value
            if previous >= 0:
                assigned[previous] = -1
                stack.append(previous)
        self.price[:] = price
        self.owner[:] = owner


def auction(
    cover: DoubleCover,
    *,
    epsilon_final: float,
    epsilon_start: float,
    factor: float = 8.0,
    prices: FloatArray | None = None,
    finish_assignment: bool = True,
    leave_share: float = 0.0,
) -> tuple[IndexArray, FloatArray]:
    """An epsilon-optimal assignment (the object of each bidder) and the final prices.

    Within n * epsilon_final of the optimal assignment; starting prices (e.g. from an earlier
    solve) only change the speed. With finish_assignment=False each phase stops once fewer than
    max(24, n * leave_share) bidders are unassigned: the prices still give a feasible dual, and
    the assignment is partial.
    """
    state = _AuctionState(cover, prices)
    epsilon = max(epsilon_start, epsilon_final)
    # Unfinished phases stop while a small share of bidders is left: the last rounds each move
    # a handful of bidders and cost as much as the first ones.
    leave = max(_SEQUENTIAL_BELOW, int(cover.n * leave_share))
    while True:
        state.drop_stale(epsilon)
        unassigned = np.flatnonzero(state.assigned < 0)
        while len(unassigned):
            if not finish_assignment and len(unassigned) < leave:
                break
            if len(unassigned) < _SEQUENTIAL_BELOW:
                state.bid_sequentially(unassigned, epsilon)
                break
            state.bid_round(unassigned, epsilon)
            unassigned = np.flatnonzero(state.assigned < 0)
        if epsilon <= epsilon_final:
            return state.assigned, state.price
        epsilon = max(epsilon / factor, epsilon_final)


def tighten_dual(cover: DoubleCover, dual: FloatArray, *, iterations: int = 30) -> FloatArray:
    """Lower a feasible matching dual while keeping it feasible on the candidate edges.

    need_i = max(floor_i, max_j (w_ij - u_j)) is the least u_i allowed by its neighbours and by
    its own floor (half its diagonal value, at least 0). Moving every u_i HALF way down to need_i
    at once keeps every edge covered: each endpoint gives up at most half of the edge's slack,
    since u_i - need_i <= u_i + u_j - w_ij. This removes most of the epsilon-slack an auction
    leaves. A final margin absorbs floating-point rounding.
    """
    off_diagonal = cover.indices != cover.row_of
    values = np.where(off_diagonal, cover.values, -np.inf)
    floor = np.maximum(cover.diagonal * 0.5, 0.0)
    u = np.maximum(dual, floor)
    for _ in range(iterations):
        need = np.maximum.reduceat(values - u[cover.indices], cover.indptr[:-1])
        u = (u + np.maximum(need, floor)) * 0.5
    need = np.maximum.reduceat(values - u[cover.indices], cover.indptr[:-1])
    result: FloatArray = np.maximum(np.maximum(u, need), floor) + _DUAL_MARGIN
    return result


def extend_dual(
    dual: FloatArray,
    outside_cap: FloatArray,
) -> tuple[FloatArray, FloatArray]:
    """Make a dual on the candidate graph feasible for ALL allowed pairs (the threshold rule).

    `outside_cap[i]` bounds the score of every allowed pair (i, j) that is NOT a candidate edge
    and was not priced exactly (-inf when there is none). For such a pair, w_ij <= min(cap_i,
    cap_j) <= (cap_i + cap_j) / 2, so raising each u_i to at least cap_i / 2 covers it. Returns
    the raised dual and how much each person was raised.
    """
    floor = np.where(np.isfinite(outside_cap), outside_cap * 0.5, 0.0)
    raised = np.maximum(dual, floor)
    return raised, raised - dual
