"""Bipartite matching with capacities: hosts, buddies or mentors (side a) and the people they take.

Each side-a person `a` may take up to `capacity[a]` side-b people; each side-b person gets at most
one side-a person. This is a transportation (b-matching) problem. Its linear program has a
totally unimodular constraint matrix, so the LP optimum is attained by an integral assignment and
LP duality certifies it:

    max  sum_ab w_ab x_ab   s.t.  sum_b x_ab <= c_a,   sum_a x_ab <= 1,   x >= 0
    min  sum_a c_a u_a + sum_b v_b   s.t.  u_a + v_b >= w_ab (allowed pairs),   u, v >= 0

With 5,000 hosts and 10,000 shadows there are 50 million pairs: too many to hand to a solver. We
solve it by column generation (delayed pricing):

1. Score every pair block by block (kept in memory as float64 when that fits comfortably) and take
   as candidates each person's best allowed partners.
2. Solve the assignment exactly on the candidates: hosts are expanded into capacity slots, every
   side-b person gets a private "stay unassigned" column, and scipy's sparse LAPJV
   (`min_weight_full_bipartite_matching`) finds the optimum.
3. Recover optimal LP duals of the candidate problem from the assignment: by complementary
   slackness the host duals u are the longest-path potentials of the exchange graph (a -> a' when
   a's candidate is assigned to a'), computed by Bellman-Ford; v_b = w_ab - u_a on assigned pairs.
4. Price every allowed pair: a pair with w_ab - u_a - v_b > 0 could improve the result; the most
   violating ones join the candidates and we go back to 2. When none is left, the duals are
   feasible for the full problem and prove the assignment optimal.

The reported bound does not trust any of this: given the host duals u, v_b = max(0, max_a w_ab -
u_a) over ALL allowed pairs is the cheapest feasible choice of v, so sum c_a u_a + sum v_b bounds
every valid result by weak duality. The solution is certified when the bound equals its total.

The `participation` objective (most side-b people placed, then the greatest total) uses weights
M + w_ab with M above any total score, so one more placement outweighs any score; among results
placing as many people, the bound on the total score is the dual bound minus M per placement.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray
from scipy.optimize import linprog
from scipy.sparse.csgraph import min_weight_full_bipartite_matching

from peermentor.matching import explain
from peermentor.matching.model import (
    Group,
    InputError,
    Locks,
    MatchResult,
    Placement,
    Policy,
    ProgressCallback,
    Unmatched,
)

if TYPE_CHECKING:
    from peermentor.matching.scoring import Scorer

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]

# About two million pairs per scored block keeps a block's temporaries near 100 MB.
BLOCK_PAIRS = 1 << 21
# Keep all scores in memory (float64) up to this many pairs (512 MB): pricing rounds then cost
# a few numpy passes instead of scoring every pair again.
CACHE_PAIRS = 1 << 26
# Candidates: each side-b person's best hosts and each host's best people, first by weight, then
# by reduced cost under the latest duals (pairs within NEAR_PRICE of pricing out included).
CANDIDATES_PER_B = 4
CANDIDATES_PER_A_BASE = 4
CANDIDATES_PER_A_PER_SLOT = 4
NEAR_PRICE = 0.02
# A pricing block keeps all its near pairs (and chooses later) when they are at most this many
# per host of the block; otherwise it chooses on the spot with partial sorts.
SPARSE_PRICING = 64
# The first rounds rebuild the candidates around the latest duals (keeping the assignment), so
# the assignment problem stays small; later rounds only add pairs, which guarantees termination.
REBUILD_ROUNDS = 4
MAX_ROUNDS = 30
# Ties are broken by a tiny pseudo-random amount per pair when choosing candidates (never in
# the scores): otherwise every tied person would list the same few partners.
TIE_JITTER = 1e-7
# A pair prices out when its reduced cost exceeds this: far above rounding noise, far below
# any difference between two scores that matters.
PRICE_TOLERANCE = 1e-9
# The result counts as certified optimal when the bound exceeds its total by no more than this
# (MATCHING.md's tolerance for scores).
CERTIFY_TOLERANCE = 1e-6


@dataclass
class _Edges:
    """Candidate pairs: local host index, local side-b index, weight (score + M)."""

    a: IntArray
    b: IntArray
    w: FloatArray

    @staticmethod
    def empty() -> _Edges:
        return _Edges(np.zeros(0, dtype=np.intp), np.zeros(0, dtype=np.intp), np.zeros(0))

    @staticmethod
    def concat(parts: list[_Edges]) -> _Edges:
        if not parts:
            return _Edges.empty()
        return _Edges(
            np.concatenate([p.a for p in parts]),
            np.concatenate([p.b for p in parts]),
            np.concatenate([p.w for p in parts]),
        )

    def assigned(self, assignment: IntArray) -> _Edges:
        """Only the pairs the assignment uses."""
        own = assignment[self.b] == self.a
        return _Edges(self.a[own], self.b[own], self.w[own])

    def merged(self, other: _Edges, n_b: int) -> _Edges:
        """Both edge sets, each pair once, in a canonical (host, side-b) order."""
        joined = _Edges.concat([self, other])
        keys = joined.a.astype(np.int64) * n_b + joined.b
        _, first = np.unique(keys, return_index=True)
        return _Edges(joined.a[first], joined.b[first], joined.w[first])


@dataclass
class _Pricing:
    """What one pass over all allowed pairs learned, given host duals u and side-b duals v."""

    edges: _Edges  # candidates (first pass) or pairs that (nearly) price out
    max_reduced: float  # the largest w - u - v over all allowed pairs
    best_response_v: FloatArray  # max(0, max_a w_ab - u_a) for each side-b person
    spare_a: IntArray  # per side-b person: the best allowed host with room left (-1: none)


def solve_bipartite(
    scorer: Scorer,
    policy: Policy,
    *,
    locks: Locks = Locks(),  # noqa: B008 - frozen dataclass, safe as a default
    seed: int = 0,
    progress: ProgressCallback | None = None,
) -> MatchResult:
    """Assign side-b people to side-a people optimally.

    After the call: every group is one side-a person with the side-b people assigned to them,
    at most `capacity` of them (fixed groups from `locks` count against it), every new pair is
    allowed, nobody in `locks.context` is placed, and the total is the exact optimum for the
    objective, certified by `upper_bound` (equal to the total within 1e-6 when `stats["certified"]`
    is 1). `seed` is accepted for a uniform solver signature; the result does not depend on it.
    """
    del seed  # every step is deterministic
    started = time.perf_counter()
    report = progress or _no_progress
    if policy.sides is None:
        raise InputError("a bipartite policy needs sides = { field, a, b }", field="sides")
    side_a_name, side_b_name = policy.sides.a, policy.sides.b
    problem = _Problem.build(scorer, policy, locks)
    n_a, n_b = len(problem.hosts), len(problem.shadows)
    participation = policy.objective == "participation"
    # One more placement must outweigh any change of score: an augmenting path displaces at
    # most min(slots, side-b people) pairs, each worth at most 1.
    big_m = float(min(int(problem.free_capacity.sum()), n_b) + 1) if participation else 0.0
    weights = _Weights(scorer, problem, big_m)

    u = np.zeros(n_a)
    candidates = _Edges.empty()
    assignment = np.full(n_b, -1, dtype=np.intp)
    pricing: _Pricing | None = None
    rounds = 0
    if n_a and n_b:
        report("scoring every pair", 0.0)
        pricing = _price(weights, u, np.zeros(n_b), None, first=True, progress=report)
        candidates = pricing.edges.merged(_Edges.empty(), n_b)
        for rounds in range(1, MAX_ROUNDS + 1):
            report(f"solving the assignment (round {rounds})", 0.5)
            assignment = _solve_assignment(candidates, problem.free_capacity, n_b, big_m)
            u, v = _duals(candidates, assignment, problem.free_capacity)
            pricing = _price(weights, u, v, assignment, first=False, progress=report)
            if pricing.max_reduced <= PRICE_TOLERANCE:
                break
            if rounds < REBUILD_ROUNDS:
                candidates = candidates.assigned(assignment).merged(pricing.edges, n_b)
            else:
                candidates = candidates.merged(pricing.edges, n_b)
    report("writing groups", 0.95)

    pair_weight = _assigned_scores(candidates, assignment, big_m)
    if big_m:
        # w' - M loses the last bits of the score; score the assigned pairs again exactly.
        placed_now = np.flatnonzero(assignment >= 0)
        pair_weight[placed_now] = weights.exact(assignment[placed_now], placed_now)
    if pricing is not None and not participation:
        # Zero-score pairs cost nothing: place whoever still has an allowed host with room.
        assignment, pair_weight = _complete_with_spare(
            weights, problem, assignment, pair_weight, pricing
        )
    placed_b = int(np.count_nonzero(assignment >= 0))
    new_total = math.fsum(pair_weight[assignment >= 0].tolist())
    new_bound = new_total
    if pricing is not None:
        dual_bound = float(problem.free_capacity @ u + pricing.best_response_v.sum())
        new_bound = max(new_total, dual_bound - big_m * placed_b)
    certified = new_bound - new_total <= CERTIFY_TOLERANCE

    groups, fixed_total = _groups(
        scorer, problem, assignment, pair_weight, side_a_name, side_b_name
    )
    unmatched = _unmatched(scorer, problem, assignment, weights, side_a_name, side_b_name)
    report("done", 1.0)
    return MatchResult(
        groups=tuple(groups),
        unmatched=tuple(unmatched),
        total_score=fixed_total + new_total,
        upper_bound=fixed_total + new_bound,
        seconds=time.perf_counter() - started,
        placed=sum(len(group.members) for group in groups),
        stats={
            "certified": 1.0 if certified else 0.0,
            "gap": new_bound - new_total,
            "rounds": float(rounds),
            "candidate_pairs": float(len(candidates.w)),
            "side_a": float(n_a),
            "side_b": float(n_b),
        },
    )


def _no_progress(stage: str, fraction: float) -> None:
    del stage, fraction


@dataclass
class _Problem:
    """Who is on which side, who is already fixed, and what capacity is left."""

    hosts: IntArray  # scorer indices of side-a people that can still take someone
    shadows: IntArray  # scorer indices of side-b people still to place
    free_capacity: NDArray[np.int64]  # per entry of `hosts`
    capacity: NDArray[np.int64]  # per scorer index (negative read as 0)
    fixed: dict[int, list[int]]  # side-a scorer index -> side-b people fixed with them
    role_problems: dict[int, str]  # scorer index -> why their role puts them on neither side
    context: set[int]
    side_a_all: IntArray  # every side-a person not in context (for reasons)

    @staticmethod
    def build(scorer: Scorer, policy: Policy, locks: Locks) -> _Problem:
        assert policy.sides is not None
        sides = policy.sides
        side = np.asarray(scorer.side)
        is_a, is_b = side == 0, side == 1
        role_problems = {
            int(i): f"no {sides.field} given (expected {sides.a!r} or {sides.b!r})"
            for i in np.flatnonzero(~is_a & ~is_b)
        }
        context = {int(i) for i in np.flatnonzero(~np.asarray(scorer.active, dtype=bool))}
        context |= {_index(scorer, pid, "context") for pid in locks.context}
        capacity = np.maximum(np.asarray(scorer.capacity, dtype=np.int64), 0)

        fixed: dict[int, list[int]] = {}
        fixed_b: set[int] = set()
        for group in locks.fixed:
            members = [_index(scorer, pid, "fixed") for pid in group]
            heads = [m for m in members if is_a[m]]
            tail = [m for m in members if not is_a[m]]
            if len(heads) != 1 or not all(is_b[m] for m in tail):
                raise InputError(
                    f"fixed group ({', '.join(group)}) must hold exactly one {sides.a!r} and "
                    f"only {sides.b!r} people besides",
                    field="locks",
                )
            if any(m in context for m in members):
                raise InputError(
                    f"fixed group ({', '.join(group)}) names a context-only person", field="locks"
                )
            fixed_b.update(tail)
            fixed.setdefault(heads[0], []).extend(tail)

        used = np.zeros(scorer.n, dtype=np.int64)
        for head, tail in fixed.items():
            used[head] = len(tail)
        free = np.maximum(capacity - used, 0)
        blocked = np.zeros(scorer.n, dtype=bool)
        blocked[list(context | fixed_b)] = True
        hosts = np.flatnonzero(is_a & ~blocked & (free > 0)).astype(np.intp)
        shadows = np.flatnonzero(is_b & ~blocked).astype(np.intp)
        return _Problem(
            hosts=hosts,
            shadows=shadows,
            free_capacity=free[hosts],
            capacity=capacity,
            fixed=fixed,
            role_problems=role_problems,
            context=context,
            side_a_all=np.flatnonzero(is_a & ~blocked).astype(np.intp),
        )


def _index(scorer: Scorer, person_id: str, what: str) -> int:
    try:
        return scorer.index(person_id)
    except KeyError:
        raise InputError(f"{what} lock names unknown id {person_id!r}", field="locks") from None


class _Weights:
    """Every allowed (host, side-b) pair's weight, score + M (-inf when not allowed), by blocks.

    The first pass scores all pairs with the scorer and counts each person's allowed partners;
    when the whole matrix fits in CACHE_PAIRS it is kept, and later passes read it back.
    """

    def __init__(self, scorer: Scorer, problem: _Problem, big_m: float) -> None:
        self.scorer = scorer
        self.problem = problem
        self.big_m = big_m
        n_a, n_b = len(problem.hosts), len(problem.shadows)
        self.rows_per_block = max(1, BLOCK_PAIRS // max(n_b, 1))
        self.allowed_a = np.zeros(n_a, dtype=np.int64)
        self.allowed_b = np.zeros(n_b, dtype=np.int64)
        self._cache: FloatArray | None = (
            np.empty((n_a, n_b)) if 0 < n_a * n_b <= CACHE_PAIRS else None
        )
        self._passes = 0

    def blocks(self) -> Iterator[tuple[int, int, FloatArray]]:
        hosts, shadows = self.problem.hosts, self.problem.shadows
        first = self._passes == 0
        for start in range(0, len(hosts), self.rows_per_block):
            stop = min(len(hosts), start + self.rows_per_block)
            if self._cache is not None and not first:
                yield start, stop, self._cache[start:stop]
                continue
            scores, allowed = self.scorer.block(hosts[start:stop], shadows, directed=True)
            weight = np.where(allowed, scores + self.big_m, -np.inf)
            if first:
                self.allowed_a[start:stop] = allowed.sum(axis=1)
                self.allowed_b += allowed.sum(axis=0)
                if self._cache is not None:
                    self._cache[start:stop] = weight
            yield start, stop, weight
        self._passes += 1

    def exact(self, local_a: IntArray, local_b: IntArray) -> FloatArray:
        """The scores (without M) of the given pairs, scored again."""
        if len(local_a) == 0:
            return np.zeros(0)
        scores, _ = self.scorer.pair_scores(
            self.problem.hosts[local_a], self.problem.shadows[local_b], directed=True
        )
        return np.asarray(scores, dtype=np.float64)


def _price(
    weights: _Weights,
    u: FloatArray,
    v: FloatArray,
    assignment: IntArray | None,
    *,
    first: bool,
    progress: ProgressCallback,
) -> _Pricing:
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
    top_cost = np.full((keep_b, n_b), np.inf)
    top_a = np.zeros((keep_b, n_b), dtype=np.intp)
    top_w = np.zeros((keep_b, n_b))
    best_response = np.zeros(n_b)
    max_reduced = -np.inf
    parts: list[_Edges] = []
    capacity = problem.free_capacity
    has_room = np.zeros(n_a, dtype=bool)
    unplaced = np.zeros(n_b, dtype=bool)
    if assignment is not None:
        load = np.bincount(assignment[assignment >= 0], minlength=n_a)
        has_room = load < capacity
        unplaced = assignment < 0
    spare_w = np.full(n_b, -np.inf)
    spare_a = np.full(n_b, -1, dtype=np.intp)
    sparse: list[tuple[IntArray, IntArray, FloatArray, FloatArray]] = []
    look_for_room = assignment is not None and bool(has_room.any()) and bool(unplaced.any())
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
                if look_for_room:
                    _note_room(weight, start, stop, has_room, unplaced, spare_w, spare_a)
                continue
        # Each host's best (or most violating) partners.
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
        parts.append(
            _Edges(
                (kept_rows + start).astype(np.intp),
                kept_cols.astype(np.intp),
                weight[kept_rows, kept_cols],
            )
        )
        # Each side-b person's best (or most violating) hosts, merged across blocks.
        block_keep = min(keep_b, stop - start)
        pick = np.argpartition(cost, block_keep - 1, axis=0)[:block_keep]
        stacked_cost = np.vstack([top_cost, np.take_along_axis(cost, pick, axis=0)])
        stacked_a = np.vstack([top_a, pick + start])
        stacked_w = np.vstack([top_w, np.take_along_axis(weight, pick, axis=0)])
        best = np.argpartition(stacked_cost, keep_b - 1, axis=0)[:keep_b]
        top_cost = np.take_along_axis(stacked_cost, best, axis=0)
        top_a = np.take_along_axis(stacked_a, best, axis=0)
        top_w = np.take_along_axis(stacked_w, best, axis=0)
        if look_for_room:
            _note_room(weight, start, stop, has_room, unplaced, spare_w, spare_a)
    keep_top = top_cost < -threshold
    ranks, cols = np.nonzero(keep_top)
    parts.append(_Edges(top_a[ranks, cols], cols.astype(np.intp), top_w[ranks, cols]))
    if sparse:
        parts.append(_select_near(sparse, keep_b, capacity))
    return _Pricing(
        edges=_Edges.concat(parts),
        max_reduced=max_reduced if np.isfinite(max_reduced) else -1.0,
        best_response_v=np.maximum(best_response, 0.0),
        spare_a=spare_a,
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
) -> _Edges:
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
    return _Edges(a[keep], b[keep], weight[keep])


def _jitter(rows: int, n_b: int) -> FloatArray:
    """A deterministic pseudo-random amount in [0, TIE_JITTER) for each pair of a block.

    The same pattern serves every block: it only has to break ties among a person's partners.
    """
    row = np.arange(rows, dtype=np.uint32)[:, None] * np.uint32(0x9E3779B1)
    col = np.arange(n_b, dtype=np.uint32)[None, :] * np.uint32(0x85EBCA77)
    mixed = (row ^ col) * np.uint32(0xC2B2AE3D)
    mixed ^= mixed >> np.uint32(15)
    return (mixed & np.uint32(0xFFFF)).astype(np.float64) * (TIE_JITTER / 65536.0)


def _solve_assignment(
    edges: _Edges, capacity: NDArray[np.int64], n_b: int, big_m: float
) -> IntArray:
    """The optimal assignment on the candidate pairs (side-b local index -> host, -1 none).

    Hosts become min(capacity, candidates) slots; each side-b person also gets a private column
    meaning "unassigned", so a full matching always exists. Costs are shifted into [1, 2 + M]
    because the sparse solver treats a zero entry as a missing edge.
    """
    assignment = np.full(n_b, -1, dtype=np.intp)
    if len(edges.w) == 0:
        return assignment
    n_a = len(capacity)
    degree = np.bincount(edges.a, minlength=n_a)
    slots = np.minimum(capacity, degree)
    slot_start = np.concatenate([[0], np.cumsum(slots)])
    n_slots = int(slot_start[-1])
    repeats = slots[edges.a]
    rows = np.repeat(edges.b, repeats)
    first_slot = np.repeat(slot_start[edges.a], repeats)
    offset = np.arange(len(rows)) - np.repeat(np.cumsum(repeats) - repeats, repeats)
    cols = first_slot + offset
    ceiling = 2.0 + big_m
    cost = np.concatenate([ceiling - np.repeat(edges.w, repeats), np.full(n_b, ceiling)])
    graph = sp.csr_matrix(
        (
            cost,
            (
                np.concatenate([rows, np.arange(n_b)]),
                np.concatenate([cols, n_slots + np.arange(n_b)]),
            ),
        ),
        shape=(n_b, n_slots + n_b),
    )
    matched_rows, matched_cols = min_weight_full_bipartite_matching(graph)
    slot_host = np.repeat(np.arange(n_a, dtype=np.intp), slots)
    real = matched_cols < n_slots
    assignment[matched_rows[real]] = slot_host[matched_cols[real]]
    return assignment


def _duals(
    edges: _Edges, assignment: IntArray, capacity: NDArray[np.int64]
) -> tuple[FloatArray, FloatArray]:
    """Optimal LP duals of the candidate problem, recovered from its optimal assignment.

    Complementary slackness fixes v_b = w_ab - u_a on assigned pairs, v_b = 0 for unassigned
    people and u_a = 0 for hosts with room; dual feasibility then reads u_a <= w_ab for b assigned
    to a, and u_a' <= u_a + w_a'b - w_ab when b is assigned to a' and a is another candidate.
    Of all optimal duals we take the LARGEST host duals (shortest-path potentials of these
    exchanges, by Bellman-Ford): a host that many people want is priced as high as its current
    partners allow, which deters the pairs outside the candidates best and so keeps the bound
    tight and the pricing rounds few. A cycle that keeps lowering the potentials would be an
    improving exchange, impossible at the optimum; should rounding produce one, the LP solver
    supplies the duals instead.
    """
    n_a, n_b = len(capacity), len(assignment)
    owner = assignment[edges.b]
    own = owner == edges.a
    assigned_w = np.zeros(n_b)
    assigned_w[edges.b[own]] = edges.w[own]
    load = np.bincount(edges.a[own], minlength=n_a)
    u = np.full(n_a, np.inf)
    np.minimum.at(u, edges.a[own], edges.w[own])
    u[load < capacity] = 0.0
    exchange = (owner >= 0) & ~own
    source = edges.a[exchange]
    target = owner[exchange]
    length = assigned_w[edges.b[exchange]] - edges.w[exchange]
    active = np.ones(n_a, dtype=bool)
    for _ in range(n_a + 2):
        live = active[source]
        if not live.any():
            break
        proposal = u.copy()
        np.minimum.at(proposal, target[live], u[source[live]] + length[live])
        active = proposal < u - 1e-12
        u = np.where(active, proposal, u)
    else:
        return _lp_duals(edges, capacity, n_b)
    u = np.maximum(u, 0.0)
    v = np.zeros(n_b)
    np.maximum.at(v, edges.b, edges.w - u[edges.a])
    return u, np.maximum(v, 0.0)


def _lp_duals(
    edges: _Edges, capacity: NDArray[np.int64], n_b: int
) -> tuple[FloatArray, FloatArray]:
    """Duals of the candidate LP from HiGHS (only when the exchange graph does not settle)."""
    n_a, m = len(capacity), len(edges.w)
    columns = np.arange(m)
    matrix = sp.vstack(
        [
            sp.csr_matrix((np.ones(m), (edges.a, columns)), shape=(n_a, m)),
            sp.csr_matrix((np.ones(m), (edges.b, columns)), shape=(n_b, m)),
        ]
    ).tocsc()
    result = linprog(
        -edges.w,
        A_ub=matrix,
        b_ub=np.concatenate([capacity.astype(np.float64), np.ones(n_b)]),
        bounds=(0, None),
        method="highs",
    )
    if result.status != 0:
        raise RuntimeError(f"the assignment LP failed: {result.message}")
    duals = np.maximum(-np.asarray(result.ineqlin.marginals, dtype=np.float64), 0.0)
    return duals[:n_a], duals[n_a:]


def _assigned_scores(edges: _Edges, assignment: IntArray, big_m: float) -> FloatArray:
    """Each side-b person's score with their host (0 when unassigned)."""
    scores = np.zeros(len(assignment))
    own = assignment[edges.b] == edges.a
    scores[edges.b[own]] = edges.w[own] - big_m
    return scores


def _complete_with_spare(
    weights: _Weights,
    problem: _Problem,
    assignment: IntArray,
    scores: FloatArray,
    pricing: _Pricing,
) -> tuple[IntArray, FloatArray]:
    """Give unplaced side-b people a host with room if an allowed one exists.

    At the optimum such pairs score 0 (a positive one would improve the result), so the total does
    not change, but more people get a partner. Each person has one candidate host (the best with
    room in the last pricing pass); the host's room is re-checked as it fills.
    """
    load = np.bincount(assignment[assignment >= 0], minlength=len(problem.hosts))
    assignment = assignment.copy()
    added: list[int] = []
    for b in np.flatnonzero((assignment < 0) & (pricing.spare_a >= 0)).tolist():
        a = int(pricing.spare_a[b])
        if load[a] < problem.free_capacity[a]:
            assignment[b] = a
            load[a] += 1
            added.append(b)
    if added:
        chosen = np.asarray(added, dtype=np.intp)
        scores = scores.copy()
        scores[chosen] = weights.exact(assignment[chosen], chosen)
    return assignment, scores


def _groups(
    scorer: Scorer,
    problem: _Problem,
    assignment: IntArray,
    weights: FloatArray,
    side_a: str,
    side_b: str,
) -> tuple[list[Group], float]:
    """One group per host with at least one person: fixed people first, then new ones."""
    members: dict[int, list[tuple[int, float]]] = {}
    fixed_total = 0.0
    for fixed_head, fixed_tail in problem.fixed.items():
        for person in fixed_tail:
            fixed_score = scorer.pair_score(fixed_head, person, directed=True)
            fixed_total += fixed_score
            members.setdefault(fixed_head, []).append((person, fixed_score))
    for local_b in np.flatnonzero(assignment >= 0):
        host = int(problem.hosts[assignment[local_b]])
        members.setdefault(host, []).append(
            (int(problem.shadows[local_b]), float(weights[local_b]))
        )
    heads = sorted(members, key=lambda i: scorer.ids[i])
    pair_heads = [head for head in heads for _ in members[head]]
    pair_tails = [person for head in heads for person, _ in members[head]]
    texts = iter(
        explain.reasons_for_pairs(
            scorer,
            np.asarray(pair_heads, dtype=np.intp),
            np.asarray(pair_tails, dtype=np.intp),
            directed=True,
        )
    )
    groups: list[Group] = []
    for number, head in enumerate(heads, start=1):
        tail = [(person, score, next(texts)) for person, score in members[head]]
        tail.sort(key=lambda item: scorer.ids[item[0]])
        placements = [
            Placement(
                person_id=scorer.ids[head],
                role=side_a,
                score=None,
                reasons=_host_reason(len(tail), int(problem.capacity[head]), side_b),
            )
        ]
        placements.extend(
            Placement(person_id=scorer.ids[person], role=side_b, score=score, reasons=text)
            for person, score, text in tail
        )
        groups.append(
            Group(
                id=f"group-{number}",
                members=tuple(placements),
                score=math.fsum(score for _, score, _ in tail),
            )
        )
    return groups, fixed_total


def _host_reason(taken: int, capacity: int, side_b: str) -> str:
    return f"takes {taken} {side_b}{'' if taken == 1 else 's'} (capacity {capacity})"


def _any_rules_hold(
    scorer: Scorer, rows: IntArray, cols: IntArray, *, axis: int
) -> NDArray[np.bool_]:
    """Whether some pair of rows x cols passes every rule but min_score, along `axis`."""
    found = np.zeros(len(cols) if axis == 0 else len(rows), dtype=bool)
    if len(rows) == 0 or len(cols) == 0:
        return found
    step = max(1, BLOCK_PAIRS // len(cols))
    for start in range(0, len(rows), step):
        holds = scorer.constraints_hold(rows[start : start + step], cols)
        if axis == 0:
            found |= holds.any(axis=0)
        else:
            found[start : start + step] = holds.any(axis=1)
    return found


def _unmatched(
    scorer: Scorer,
    problem: _Problem,
    assignment: IntArray,
    weights: _Weights,
    side_a: str,
    side_b: str,
) -> list[Unmatched]:
    """Why each person not in a group was left out, in words a participant understands."""
    reasons: dict[int, str] = dict(problem.role_problems)
    # Context people are matched elsewhere: not left out, so not listed (as in pairs).
    below = f"{explain.BELOW_MIN_SCORE} ({scorer.policy.min_score:g})"
    n_a, n_b = len(problem.hosts), len(problem.shadows)
    placed_b = assignment >= 0
    load = np.bincount(assignment[placed_b], minlength=n_a)

    lonely_b = np.flatnonzero(~placed_b & (weights.allowed_b == 0))
    near_b = dict(
        zip(
            lonely_b.tolist(),
            _any_rules_hold(scorer, problem.side_a_all, problem.shadows[lonely_b], axis=0).tolist(),
            strict=True,
        )
    )
    for b in np.flatnonzero(~placed_b).tolist():
        person = int(problem.shadows[b])
        if len(problem.side_a_all) == 0:
            reasons[person] = f"nobody is on side a ({side_a})"
        elif n_a == 0:
            reasons[person] = f"capacity of side a exhausted: every {side_a} is full"
        elif weights.allowed_b[b] == 0:
            reasons[person] = below if near_b[b] else explain.NO_PARTNER
        else:
            reasons[person] = f"capacity of side a exhausted: every allowed {side_a} is full"

    idle = [a for a in range(n_a) if load[a] == 0 and int(problem.hosts[a]) not in problem.fixed]
    lonely_a = [a for a in idle if weights.allowed_a[a] == 0]
    near_a = dict(
        zip(
            lonely_a,
            _any_rules_hold(
                scorer, problem.hosts[np.asarray(lonely_a, dtype=np.intp)], problem.shadows, axis=1
            ).tolist(),
            strict=True,
        )
    )
    for a in idle:
        person = int(problem.hosts[a])
        if n_b == 0:
            reasons[person] = f"nobody is left to place on side b ({side_b})"
        elif weights.allowed_a[a] == 0:
            reasons[person] = below if near_a[a] else explain.NO_PARTNER
        else:
            reasons[person] = f"every allowed {side_b} went to a {side_a} who fits them better"
    free_hosts = set(problem.hosts.tolist())
    for a in problem.side_a_all.tolist():
        if a not in free_hosts and a not in problem.fixed:
            reasons[a] = "capacity is 0"
    return [
        Unmatched(id=scorer.ids[i], reason=reason)
        for i, reason in sorted(reasons.items(), key=lambda item: scorer.ids[item[0]])
    ]
