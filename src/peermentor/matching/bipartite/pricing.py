"""Pricing: every allowed pair against the duals, block by block; the pairs that (nearly) price
out become candidates."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from peermentor.matching.model import ProgressCallback

from .problem import Weights

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]

# Candidates: each side-b person's best hosts and each host's best people, first by weight, then
# by reduced cost under the latest duals (pairs within NEAR_PRICE of pricing out included).
CANDIDATES_PER_B = 4
CANDIDATES_PER_A_BASE = 4
CANDIDATES_PER_A_PER_SLOT = 4
NEAR_PRICE = 0.02
# A pricing block keeps all its near pairs (and chooses later) when they are at most this many
# per host of the block; otherwise it chooses on the spot with partial sorts.
SPARSE_PRICING = 64
# Ties are broken by a tiny pseudo-random amount per pair when choosing candidates (never in
# the scores): otherwise every tied person would list the same few partners.
TIE_JITTER = 1e-7


@dataclass
class Edges:
    """Candidate pairs: local host index, local side-b index, weight (score + M)."""

    a: IntArray
    b: IntArray
    w: FloatArray

    @staticmethod
    def empty() -> Edges:
        return Edges(np.zeros(0, dtype=np.intp), np.zeros(0, dtype=np.intp), np.zeros(0))

    @staticmethod
    def concat(parts: list[Edges]) -> Edges:
        if not parts:
            return Edges.empty()
        return Edges(
            np.concatenate([p.a for p in parts]),
            np.concatenate([p.b for p in parts]),
            np.concatenate([p.w for p in parts]),
        )

    def assigned(self, assignment: IntArray) -> Edges:
        """Only the pairs the assignment uses."""
        own = assignment[self.b] == self.a
        return Edges(self.a[own], self.b[own], self.w[own])

    def merged(self, other: Edges, n_b: int) -> Edges:
        """Both edge sets, each pair once, in a canonical (host, side-b) order."""
        joined = Edges.concat([self, other])
        keys = joined.a.astype(np.int64) * n_b + joined.b
        _, first = np.unique(keys, return_index=True)
        return Edges(joined.a[first], joined.b[first], joined.w[first])


@dataclass
class Pricing:
    """What one pass over all allowed pairs learned, given host duals u and side-b duals v."""

    edges: Edges  # candidates (first pass) or pairs that (nearly) price out
    max_reduced: float  # the largest w - u - v over all allowed pairs
    best_response_v: FloatArray  # max(0, max_a w_ab - u_a) for each side-b person
    spare_a: IntArray  # per side-b person: the best allowed host with room left (-1: none)


def price_pairs(
    weights: Weights,
    u: FloatArray,
    v: FloatArray,
    assignment: IntArray | None,
    *,
    first: bool,
    progress: ProgressCallback,
) -> Pricing:
    """Price every allowed pair against the duals u (hosts) and v (side b), block by block.

    In the first pass (u = v = 0) the reduced cost is the weight itself, so the pairs kept are each
    person's best allowed partners. Later passes keep each person's pairs that price out or come
    within NEAR_PRICE of it. With an assignment, also finds for each unplaced side-b person the
    best allowed host that still has room (for the zero-cost completion).
    """
    problem = weights.problem
    n_a, n_b = len(problem.hosts), len(problem.shadows)
    keep_b = min(CANDIDATES_PER_B, n_a)
    threshold = -np.inf if first else -NEAR_PRICE
    top = _TopHosts.empty(keep_b, n_b)
    best_response = np.zeros(n_b)
    max_reduced = -np.inf
    parts: list[Edges] = []
    capacity = problem.free_capacity
    room = _Room.start(assignment, capacity, n_b)
    sparse: list[tuple[IntArray, IntArray, FloatArray, FloatArray]] = []
    jitter = _jitter(weights.rows_per_block, n_b)

    for start, stop, weight in weights.blocks():
        progress("pricing pairs", start / max(n_a, 1))
        # cost = u + v - w - jitter, the negated (jittered) reduced cost, in one buffer.
        cost = u[start:stop, None] - weight
        np.maximum(best_response, -cost.min(axis=0), out=best_response)
        cost += v[None, :]
        max_reduced = max(max_reduced, -float(cost.min()))
        cost -= jitter[: stop - start]
        if not first:
            near = cost < NEAR_PRICE
            if int(np.count_nonzero(near)) <= SPARSE_PRICING * (stop - start):
                # Few pairs come close to pricing out: keep them all, choose at the end.
                rows, cols = np.nonzero(near)
                sparse.append((rows + start, cols, cost[rows, cols], weight[rows, cols]))
                room.note(weight, start, stop)
                continue
        parts.append(_best_per_host(cost, weight, start, stop, capacity, threshold))
        top.merge(cost, weight, start, stop)
        room.note(weight, start, stop)
    parts.append(top.edges(threshold))
    if sparse:
        parts.append(_select_near(sparse, keep_b, capacity))
    return Pricing(
        edges=Edges.concat(parts),
        max_reduced=max_reduced if np.isfinite(max_reduced) else -1.0,
        best_response_v=np.maximum(best_response, 0.0),
        spare_a=room.spare_a,
    )


def _best_per_host(
    cost: FloatArray,
    weight: FloatArray,
    start: int,
    stop: int,
    capacity: NDArray[np.int64],
    threshold: float,
) -> Edges:
    """Each host's best (or most violating) partners in a block."""
    n_b = cost.shape[1]
    need = CANDIDATES_PER_A_BASE + CANDIDATES_PER_A_PER_SLOT * capacity[start:stop]
    per_a = int(min(need.max(), n_b))
    part = np.argpartition(cost, per_a - 1, axis=1)[:, :per_a]
    part_cost = np.take_along_axis(cost, part, axis=1)
    order = np.argsort(part_cost, axis=1, kind="stable")
    part = np.take_along_axis(part, order, axis=1)
    part_cost = np.take_along_axis(part_cost, order, axis=1)
    keep = (np.arange(per_a)[None, :] < need[:, None]) & (part_cost < -threshold)
    kept_rows, kept_ranks = np.nonzero(keep)
    kept_cols = part[kept_rows, kept_ranks]
    return Edges(
        (kept_rows + start).astype(np.intp),
        kept_cols.astype(np.intp),
        weight[kept_rows, kept_cols],
    )


@dataclass
class _TopHosts:
    """Each side-b person's best (or most violating) hosts so far, merged across blocks."""

    cost: FloatArray  # (keep, n_b)
    a: IntArray
    w: FloatArray

    @staticmethod
    def empty(keep: int, n_b: int) -> _TopHosts:
        return _TopHosts(
            np.full((keep, n_b), np.inf),
            np.zeros((keep, n_b), dtype=np.intp),
            np.zeros((keep, n_b)),
        )

    def merge(self, cost: FloatArray, weight: FloatArray, start: int, stop: int) -> None:
        keep = self.cost.shape[0]
        block_keep = min(keep, stop - start)
        pick = np.argpartition(cost, block_keep - 1, axis=0)[:block_keep]
        stacked_cost = np.vstack([self.cost, np.take_along_axis(cost, pick, axis=0)])
        stacked_a = np.vstack([self.a, pick + start])
        stacked_w = np.vstack([self.w, np.take_along_axis(weight, pick, axis=0)])
        best = np.argpartition(stacked_cost, keep - 1, axis=0)[:keep]
        self.cost = np.take_along_axis(stacked_cost, best, axis=0)
        self.a = np.take_along_axis(stacked_a, best, axis=0)
        self.w = np.take_along_axis(stacked_w, best, axis=0)

    def edges(self, threshold: float) -> Edges:
        ranks, cols = np.nonzero(self.cost < -threshold)
        return Edges(self.a[ranks, cols], cols.astype(np.intp), self.w[ranks, cols])


@dataclass
class _Room:
    """Per unplaced side-b person, the best allowed host with room left (with an assignment)."""

    has_room: NDArray[np.bool_]
    unplaced: NDArray[np.bool_]
    spare_w: FloatArray
    spare_a: IntArray
    active: bool

    @staticmethod
    def start(assignment: IntArray | None, capacity: NDArray[np.int64], n_b: int) -> _Room:
        n_a = len(capacity)
        has_room = np.zeros(n_a, dtype=bool)
        unplaced = np.zeros(n_b, dtype=bool)
        if assignment is not None:
            load = np.bincount(assignment[assignment >= 0], minlength=n_a)
            has_room = load < capacity
            unplaced = assignment < 0
        active = assignment is not None and bool(has_room.any()) and bool(unplaced.any())
        return _Room(
            has_room, unplaced, np.full(n_b, -np.inf), np.full(n_b, -1, dtype=np.intp), active
        )

    def note(self, weight: FloatArray, start: int, stop: int) -> None:
        if self.active:
            _note_room(
                weight, start, stop, self.has_room, self.unplaced, self.spare_w, self.spare_a
            )


def _note_room(
    weight: FloatArray,
    start: int,
    stop: int,
    has_room: NDArray[np.bool_],
    unplaced: NDArray[np.bool_],
    spare_w: FloatArray,
    spare_a: IntArray,
) -> None:
    """Remember, per unplaced side-b person, the best allowed host of the block with room."""
    room = np.where(has_room[start:stop, None] & unplaced[None, :], weight, -np.inf)
    best_row = room.argmax(axis=0)
    best_w = room[best_row, np.arange(room.shape[1])]
    better = best_w > spare_w
    spare_w[better] = best_w[better]
    spare_a[better] = best_row[better] + start


def _select_near(
    sparse: list[tuple[IntArray, IntArray, FloatArray, FloatArray]],
    keep_b: int,
    capacity: NDArray[np.int64],
) -> Edges:
    """From pairs near pricing out, each side-b person's and each host's most violating ones."""
    a = np.concatenate([part[0] for part in sparse]).astype(np.intp)
    b = np.concatenate([part[1] for part in sparse]).astype(np.intp)
    cost = np.concatenate([part[2] for part in sparse])
    weight = np.concatenate([part[3] for part in sparse])
    keep = np.zeros(len(a), dtype=bool)
    for group, limit in (
        (b, np.full(len(a), keep_b)),
        (a, CANDIDATES_PER_A_BASE + CANDIDATES_PER_A_PER_SLOT * capacity[a]),
    ):
        order = np.lexsort((cost, group))
        sorted_group = group[order]
        first = np.searchsorted(sorted_group, sorted_group, side="left")
        rank = np.arange(len(order)) - first
        keep[order[rank < limit[order]]] = True
    return Edges(a[keep], b[keep], weight[keep])


def _jitter(rows: int, n_b: int) -> FloatArray:
    """A deterministic pseudo-random amount in [0, TIE_JITTER) for each pair of a block.

    The same pattern serves every block: it only has to break ties among a person's partners.
    """
    row = np.arange(rows, dtype=np.uint32)[:, None] * np.uint32(0x9E3779B1)
    col = np.arange(n_b, dtype=np.uint32)[None, :] * np.uint32(0x85EBCA77)
    mixed = (row ^ col) * np.uint32(0xC2B2AE3D)
    mixed ^= mixed >> np.uint32(15)
    return (mixed & np.uint32(0xFFFF)).astype(np.float64) * (TIE_JITTER / 65536.0)
