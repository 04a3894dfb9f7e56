"""Circles: groups of `group_size = [lo, hi]` people in which every pair is allowed.

Objective (MATCHING.md): place as many people as possible, then maximise the total, where a
circle of s people with pair-score sum W scores s x (mean pair score) = 2 W / (s - 1). The problem
contains clique partitioning, so no exact method scales; we use a careful heuristic:

1. Pair lookups go through an *oracle*. Up to DENSE_LIMIT people it is a dense float32 matrix of
   the scorer's fast keys (exact scores within ~2e-5; whether a pair is allowed is decided exactly:
   keys near min_score are confirmed with the exact scorer). Beyond, the oracle calls the exact
   scorer for each batch of pairs. Either way each person's NEIGHBOURS best allowed partners are
   found in one vectorised pass: the candidate neighbourhoods that every later step searches.
2. Construction: hardest people first (fewest allowed partners), each seeds a circle that grows
   greedily with the candidate most compatible with everyone already in it.
3. Repair: people left over are inserted where every pair stays allowed, directly or by moving a
   member of a full circle elsewhere; leftovers then form new circles, borrowing members from
   circles that can spare one.
4. Local search: for batches of people, every move to a neighbour's circle and every swap with a
   member of one is evaluated at once (numpy); the best improving actions that touch disjoint
   circles are applied. Sweeps repeat until nothing improves. Optional `balance` attributes add a
   penalty on how far each circle's mix is from the population's.
5. Final scores are recomputed with the exact scorer and every pair is checked again.

The reported upper bound is valid for any result: a person in a circle of s >= lo contributes
their mean score with the s - 1 others, at most the mean of their best lo - 1 allowed partners.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

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
BoolArray = NDArray[np.bool_]

# Up to this many people the pair scores live in a dense float32 matrix (576 MB at the limit).
DENSE_LIMIT = 12_000
# Candidate neighbourhood: each person's best allowed partners.
NEIGHBOURS = 32
# People evaluated together in one vectorised local-search step.
BATCH = 256
MAX_SWEEPS = 12
# A sweep that improves the objective by less than this (relative) ends the search.
MIN_SWEEP_GAIN = 1e-6
# Weight of the balance penalty (per attribute, per squared head-count deviation).
BALANCE_WEIGHT = 0.2
# Placing one more person always outranks any change of score.
PLACE_BONUS = 1e3
# About two million pairs per block in whole-population passes.
BLOCK_PAIRS = 1 << 21
# Below this much, a gain is rounding noise.
EPSILON = 1e-9
# Swaps are tried with the members of each person's most promising candidate circles.
SWAP_CIRCLES = 8
# Re-partition: each circle's most linked neighbouring circles, and pairs scored per batch.
PAIRS_PER_CIRCLE = 8
REPARTITION_BATCH = 256
# Up to this many people, circles are chosen by exhaustive search (exactly optimal).
EXACT_LIMIT = 12
# Iterated local search: rounds of dissolving PERTURB_CIRCLES linked circles and re-forming them
# (one round per PEOPLE_PER_PERTURBATION people, at most MAX_PERTURBATIONS).
PERTURB_CIRCLES = 4
PEOPLE_PER_PERTURBATION = 40
MAX_PERTURBATIONS = 150
# Exhaustive re-forming around someone left out: window size and how many tries per round.
WINDOW = 10
MAX_WINDOW_REPAIRS = 200
# Rounds of inserting and re-forming circles for people left out.
REPAIR_ROUNDS = 4


def solve_circles(
    scorer: Scorer,
    policy: Policy,
    *,
    locks: Locks = Locks(),  # noqa: B008 - frozen dataclass, safe as a default
    seed: int = 0,
    progress: ProgressCallback | None = None,
) -> MatchResult:
    """Form circles that place as many people as possible with a high total score.

    After the call: every circle has between lo and hi members (fixed circles from `locks` stay
    exactly as given), every pair inside a new circle is allowed, nobody is in two circles,
    context people are not placed, and every person left out has a reason. The same inputs and
    seed give the same result. `upper_bound` is a valid bound on the total of any result.
    """
    started = time.perf_counter()
    report = progress or _no_progress
    if policy.group_size is None:
        raise InputError(
            "a circles policy needs group_size = [smallest, largest]", field="group_size"
        )
    lo, hi = policy.group_size
    rng = np.random.default_rng(seed)

    fixed = [[_index(scorer, person_id) for person_id in group] for group in locks.fixed]
    context = ~np.asarray(scorer.active, dtype=bool)
    for person_id in locks.context:
        context[_index(scorer, person_id)] = True
    taken = context.copy()
    for group in fixed:
        if any(context[i] for i in group):
            raise InputError(
                f"fixed circle ({', '.join(scorer.ids[i] for i in group)}) names a context-only "
                "person",
                field="locks",
            )
        taken[group] = True
    pool = np.flatnonzero(~taken).astype(np.intp)

    report("scoring candidate partners", 0.0)
    oracle: _Oracle = (
        _DenseOracle(scorer, pool, seed)
        if len(pool) <= DENSE_LIMIT
        else _ExactOracle(scorer, pool, seed)
    )
    neighbours = oracle.neighbours(NEIGHBOURS, lo - 1, report)
    state = _State(len(pool), lo, hi, oracle, _balance_codes(scorer, policy, pool))

    report("building circles", 0.3)
    sweeps = perturbations = 0
    if lo <= len(pool) <= EXACT_LIMIT:
        _solve_small(state)
    elif len(pool) > EXACT_LIMIT:
        _construct(state, neighbours, rng)
        _repair(state, neighbours, rng)
        report("improving circles", 0.5)
        sweeps = _local_search(state, neighbours, rng, report)
        if _repair(state, neighbours, rng):
            sweeps += _local_search(state, neighbours, rng, report)
        perturbations = _perturb(state, neighbours, rng, report)

    report("writing circles", 0.95)
    result = _result(scorer, policy, pool, fixed, state, neighbours, started, sweeps)
    result = dataclasses.replace(
        result, stats={**result.stats, "perturbations_kept": float(perturbations)}
    )
    report("done", 1.0)
    return result


def _no_progress(stage: str, fraction: float) -> None:
    del stage, fraction


def _index(scorer: Scorer, person_id: str) -> int:
    try:
        return scorer.index(person_id)
    except KeyError:
        raise InputError(f"a lock names unknown id {person_id!r}", field="locks") from None


def _value(size: NDArray[np.int64] | IntArray, weight: FloatArray) -> FloatArray:
    """A circle's score, 2 W / (s - 1): s times its mean pair score (0 below two people)."""
    return np.where(size >= 2, 2.0 * weight / np.maximum(size - 1, 1), 0.0)


# --- pair oracles -------------------------------------------------------------------------------


@dataclass
class _Neighbourhoods:
    """Each person's best allowed partners (pool positions, -1 padded) and bound material."""

    partners: IntArray  # (N, K)
    degree: NDArray[np.int64]  # possibly-allowed partners (a superset count; exact when dense)
    top_mean: FloatArray  # mean of the best lo - 1 possibly-allowed keys, plus the key error


class _Oracle:
    """Scores and allowed flags for pairs of pool positions."""

    scorer: Scorer
    pool: IntArray

    def pairs(self, first: IntArray, second: IntArray) -> tuple[FloatArray, BoolArray]:
        raise NotImplementedError

    def exact(self, first: IntArray, second: IntArray) -> tuple[FloatArray, BoolArray]:
        """Exact scores (the dense oracle's are within the fast keys' error)."""
        scores, allowed = self.scorer.pair_scores(self.pool[first], self.pool[second])
        return np.asarray(scores, dtype=np.float64), np.asarray(allowed, dtype=bool)

    def neighbours(self, k: int, bound_size: int, progress: ProgressCallback) -> _Neighbourhoods:
        raise NotImplementedError

    def allowed_counts(self, people: IntArray) -> NDArray[np.int64]:
        raise NotImplementedError


class _KeyPass:
    """A pass over all pool pairs with the scorer's fast keys, block by block."""

    def __init__(self, scorer: Scorer, pool: IntArray, seed: int) -> None:
        self.scorer = scorer
        self.pool = pool
        self.fast = scorer.fast(pool, seed=seed)
        self.min_score = scorer.policy.min_score
        self.rows_per_block = max(1, BLOCK_PAIRS // max(len(pool), 1))

    def allowed_keys(
        self, start: int, stop: int, first_column: int = 0
    ) -> tuple[NDArray[np.float32], BoolArray]:
        """Keys of rows start:stop against columns first_column:, and exactly which of those
        pairs are allowed.

        A key at least the error above min_score is surely allowed, one the error below surely not
        (constraint violations and exclusions push keys far below); keys in between are settled
        with the exact scorer.
        """
        n = len(self.pool)
        keys = self.fast.keys(slice(start, stop), slice(first_column, n))
        error = self.fast.error
        maybe = keys >= self.min_score - error
        band = maybe & (keys < self.min_score + error)
        if band.any():
            rows, cols = np.nonzero(band)
            _, allowed = self.scorer.pair_scores(
                self.pool[rows + start], self.pool[cols + first_column]
            )
            maybe[rows[~allowed], cols[~allowed]] = False
        return keys, maybe


def _top_partners(
    keys: NDArray[np.float32], allowed: BoolArray, k: int, bound_size: int, error: float
) -> tuple[IntArray, NDArray[np.int64], FloatArray]:
    masked = np.where(allowed, keys, -np.inf)
    n = masked.shape[1]
    k_eff = min(k, n)
    part = np.argpartition(-masked, k_eff - 1, axis=1)[:, :k_eff]
    values = np.take_along_axis(masked, part, axis=1)
    order = np.argsort(-values, axis=1, kind="stable")
    part = np.take_along_axis(part, order, axis=1).astype(np.intp)
    values = np.take_along_axis(values, order, axis=1)
    part[~np.isfinite(values)] = -1
    degree = allowed.sum(axis=1).astype(np.int64)
    m = max(1, bound_size)
    top = values[:, :m] if m <= k_eff else -np.sort(-masked, axis=1)[:, :m]
    top = np.where(np.isfinite(top), top, 0.0).astype(np.float64)
    top_mean = np.where(degree >= m, top.mean(axis=1) + error, 0.0)
    return part, degree, top_mean


class _DenseOracle(_Oracle):
    """All pool pairs in memory: float32 keys, NaN where a pair is not allowed."""

    def __init__(self, scorer: Scorer, pool: IntArray, seed: int) -> None:
        self.scorer = scorer
        self.pool = pool
        n = len(pool)
        self.matrix = np.full((n, n), np.nan, dtype=np.float32)
        self._pass = _KeyPass(scorer, pool, seed) if n else None

    def neighbours(self, k: int, bound_size: int, progress: ProgressCallback) -> _Neighbourhoods:
        n = len(self.pool)
        partners = np.full((n, min(k, max(n, 1))), -1, dtype=np.intp)
        degree = np.zeros(n, dtype=np.int64)
        top_mean = np.zeros(n)
        if self._pass is None:
            return _Neighbourhoods(partners, degree, top_mean)
        # Scores are symmetric: compute the upper triangle by blocks and mirror it.
        step = max(1, 2 * self._pass.rows_per_block)
        for start in range(0, n, step):
            progress("scoring candidate partners", 0.2 * (1 - (1 - start / n) ** 2))
            stop = min(n, start + step)
            keys, allowed = self._pass.allowed_keys(start, stop, first_column=start)
            block = np.where(allowed, keys, np.float32(np.nan))
            self.matrix[start:stop, start:] = block
            self.matrix[start:, start:stop] = block.T
        step = self._pass.rows_per_block
        for start in range(0, n, step):
            stop = min(n, start + step)
            keys = self.matrix[start:stop]
            allowed = ~np.isnan(keys)
            part, deg, mean = _top_partners(keys, allowed, k, bound_size, self._pass.fast.error)
            partners[start:stop, : part.shape[1]] = part
            degree[start:stop] = deg
            top_mean[start:stop] = mean
        return _Neighbourhoods(partners, degree, top_mean)

    def pairs(self, first: IntArray, second: IntArray) -> tuple[FloatArray, BoolArray]:
        values = self.matrix[first, second].astype(np.float64)
        allowed = ~np.isnan(values)
        return np.where(allowed, values, 0.0), allowed

    def allowed_counts(self, people: IntArray) -> NDArray[np.int64]:
        counts: NDArray[np.int64] = (~np.isnan(self.matrix[people])).sum(axis=1)
        return counts


class _ExactOracle(_Oracle):
    """Large pools: neighbourhoods from one fast pass, every lookup from the exact scorer."""

    def __init__(self, scorer: Scorer, pool: IntArray, seed: int) -> None:
        self.scorer = scorer
        self.pool = pool
        self._pass = _KeyPass(scorer, pool, seed)

    def neighbours(self, k: int, bound_size: int, progress: ProgressCallback) -> _Neighbourhoods:
        n = len(self.pool)
        partners = np.full((n, min(k, n)), -1, dtype=np.intp)
        degree = np.zeros(n, dtype=np.int64)
        top_mean = np.zeros(n)
        step = self._pass.rows_per_block
        for start in range(0, n, step):
            progress("scoring candidate partners", 0.3 * start / n)
            stop = min(n, start + step)
            keys, allowed = self._pass.allowed_keys(start, stop)
            part, deg, mean = _top_partners(keys, allowed, k, bound_size, self._pass.fast.error)
            partners[start:stop, : part.shape[1]] = part
            degree[start:stop] = deg
            top_mean[start:stop] = mean
        return _Neighbourhoods(partners, degree, top_mean)

    def pairs(self, first: IntArray, second: IntArray) -> tuple[FloatArray, BoolArray]:
        first, second = np.broadcast_arrays(first, second)
        shape = first.shape
        if first.size == 0:
            return np.zeros(shape), np.zeros(shape, dtype=bool)
        scores, allowed = self.scorer.pair_scores(
            self.pool[first.ravel()], self.pool[second.ravel()]
        )
        return scores.reshape(shape), allowed.reshape(shape)

    def allowed_counts(self, people: IntArray) -> NDArray[np.int64]:
        counts = np.zeros(len(people), dtype=np.int64)
        step = max(1, BLOCK_PAIRS // max(len(self.pool), 1))
        for start in range(0, len(people), step):
            _, allowed = self.scorer.block(self.pool[people[start : start + step]], self.pool)
            counts[start : start + step] = allowed.sum(axis=1)
        return counts


# --- the state of a solution ---------------------------------------------------------------------


@dataclass
class _Balance:
    """Head counts per circle for one balance attribute (see _State.penalty)."""

    codes: IntArray  # category per pool person
    shares: FloatArray  # the population's share per category
    counts: NDArray[np.int64] = field(default_factory=lambda: np.zeros((0, 0), dtype=np.int64))


def _balance_codes(scorer: Scorer, policy: Policy, pool: IntArray) -> list[_Balance]:
    result: list[_Balance] = []
    for name in policy.balance:
        values = scorer.column(name)
        labels = ["; ".join(sorted(values[i])) for i in pool.tolist()]
        vocabulary = {label: k for k, label in enumerate(sorted(set(labels)))}
        codes = np.array([vocabulary[label] for label in labels], dtype=np.intp)
        shares = np.bincount(codes, minlength=len(vocabulary)) / max(len(codes), 1)
        result.append(_Balance(codes=codes, shares=shares.astype(np.float64)))
    return result


@dataclass
class _Snapshot:
    circle_of: IntArray
    members: IntArray
    size: NDArray[np.int64]
    weight: FloatArray
    own: FloatArray
    count: int
    empty: list[int]
    counts: list[NDArray[np.int64]]


class _State:
    """Circles over pool positions, with their pair-score sums kept up to date."""

    def __init__(self, n: int, lo: int, hi: int, oracle: _Oracle, balance: list[_Balance]) -> None:
        self.n, self.lo, self.hi = n, lo, hi
        self.oracle = oracle
        capacity = n // max(lo, 1) + 2
        self.circle_of = np.full(n, -1, dtype=np.intp)
        self.members = np.full((capacity, hi), -1, dtype=np.intp)
        self.size = np.zeros(capacity, dtype=np.int64)
        self.weight = np.zeros(capacity)  # sum of pair scores inside the circle
        self.own = np.zeros(n)  # each person's score sum with the rest of their circle
        self.count = 0  # circle slots used so far (some may be empty again)
        self.empty: list[int] = []  # dissolved slots to reuse
        self.balance = balance
        for attribute in balance:
            attribute.counts = np.zeros((capacity, len(attribute.shares)), dtype=np.int64)

    # -- objective

    def penalty(self, circles: IntArray) -> FloatArray:
        """Balance penalty of circles: sum over attributes of sum_k (count_k - s share_k)^2."""
        total = np.zeros(len(circles))
        for attribute in self.balance:
            expected = self.size[circles, None] * attribute.shares[None, :]
            total += ((attribute.counts[circles] - expected) ** 2).sum(axis=1)
        return BALANCE_WEIGHT * total

    def objective(self) -> float:
        alive = np.flatnonzero(self.size[: self.count] > 0)
        score = float(_value(self.size[alive], self.weight[alive]).sum())
        if self.balance:
            score -= float(self.penalty(alive).sum())
        return score

    # -- changes

    def new_circle(self, people: Sequence[int]) -> int:
        if self.empty:
            circle = self.empty.pop()
        else:
            circle = self.count
            self.count += 1
            if circle >= self.members.shape[0]:
                self._grow()
        self.members[circle] = -1
        self.members[circle, : len(people)] = people
        self.size[circle] = len(people)
        self.circle_of[list(people)] = circle
        for attribute in self.balance:
            attribute.counts[circle] = np.bincount(
                attribute.codes[list(people)], minlength=len(attribute.shares)
            )
        self.refresh(np.array([circle], dtype=np.intp))
        return circle

    def snapshot(self) -> _Snapshot:
        """Everything needed to undo later changes (see restore)."""
        return _Snapshot(
            circle_of=self.circle_of.copy(),
            members=self.members.copy(),
            size=self.size.copy(),
            weight=self.weight.copy(),
            own=self.own.copy(),
            count=self.count,
            empty=list(self.empty),
            counts=[attribute.counts.copy() for attribute in self.balance],
        )

    def restore(self, saved: _Snapshot) -> None:
        self.circle_of = saved.circle_of
        self.members = saved.members
        self.size = saved.size
        self.weight = saved.weight
        self.own = saved.own
        self.count = saved.count
        self.empty = saved.empty
        for attribute, counts in zip(self.balance, saved.counts, strict=True):
            attribute.counts = counts

    def dissolve(self, circle: int) -> None:
        """Everyone in the circle becomes unplaced; the slot is reused by the next circle."""
        row = self.members[circle]
        people = row[row >= 0]
        self.circle_of[people] = -1
        self.own[people] = 0.0
        row[:] = -1
        self.size[circle] = 0
        self.weight[circle] = 0.0
        for attribute in self.balance:
            attribute.counts[circle] = 0
        self.empty.append(circle)

    def _grow(self) -> None:
        extra = max(16, self.members.shape[0] // 2)
        self.members = np.vstack([self.members, np.full((extra, self.hi), -1, dtype=np.intp)])
        self.size = np.concatenate([self.size, np.zeros(extra, dtype=np.int64)])
        self.weight = np.concatenate([self.weight, np.zeros(extra)])
        for attribute in self.balance:
            attribute.counts = np.vstack(
                [attribute.counts, np.zeros((extra, len(attribute.shares)), dtype=np.int64)]
            )

    def remove(self, person: int) -> None:
        circle = int(self.circle_of[person])
        row = self.members[circle]
        kept = row[(row >= 0) & (row != person)]
        row[:] = -1
        row[: len(kept)] = kept
        self.size[circle] -= 1
        self.circle_of[person] = -1
        self.own[person] = 0.0
        for attribute in self.balance:
            attribute.counts[circle, attribute.codes[person]] -= 1

    def replace(self, circle: int, people: Sequence[int]) -> None:
        """Make `people` the whole of `circle` (call refresh afterwards)."""
        self.members[circle] = -1
        self.members[circle, : len(people)] = people
        self.size[circle] = len(people)
        self.circle_of[list(people)] = circle
        for attribute in self.balance:
            attribute.counts[circle] = np.bincount(
                attribute.codes[list(people)], minlength=len(attribute.shares)
            )

    def add(self, person: int, circle: int) -> None:
        self.members[circle, self.size[circle]] = person
        self.size[circle] += 1
        self.circle_of[person] = circle
        for attribute in self.balance:
            attribute.counts[circle, attribute.codes[person]] += 1

    def refresh(self, circles: IntArray) -> None:
        """Recompute the pair sums of the given circles (and their members' own sums)."""
        circles = np.unique(circles)
        if len(circles) == 0:
            return
        rows = self.members[circles]  # (c, hi)
        valid = rows >= 0
        left = np.where(valid, rows, 0)
        first = np.broadcast_to(left[:, :, None], (len(circles), self.hi, self.hi))
        second = np.broadcast_to(left[:, None, :], (len(circles), self.hi, self.hi))
        both = valid[:, :, None] & valid[:, None, :]
        both &= ~np.eye(self.hi, dtype=bool)[None, :, :]
        scores = np.zeros(both.shape)
        if both.any():
            values, _ = self.oracle.pairs(first[both], second[both])
            scores[both] = values
        own = scores.sum(axis=2)
        self.weight[circles] = own.sum(axis=1) / 2.0
        self.own[rows[valid]] = own[valid]

    def placed(self) -> int:
        return int(np.count_nonzero(self.circle_of >= 0))


# --- construction and repair ---------------------------------------------------------------------


def _difficulty_order(neighbours: _Neighbourhoods, rng: np.random.Generator) -> IntArray:
    """People with the fewest allowed partners first (ties in a seeded random order)."""
    n = len(neighbours.degree)
    return np.lexsort((rng.permutation(n), neighbours.degree)).astype(np.intp)


def _candidate_pool(
    state: _State, neighbours: _Neighbourhoods, person: int, free: BoolArray
) -> IntArray:
    """Free people the person may join: their neighbours, or (none left) everyone free."""
    row: IntArray = neighbours.partners[person]
    listed: IntArray = row[row >= 0]
    listed = listed[free[listed]]
    if len(listed) >= 2 * (state.lo - 1):
        return listed
    others = np.flatnonzero(free)
    others = others[others != person]
    if len(others) == 0:
        return listed
    scores, allowed = state.oracle.pairs(np.full(len(others), person, dtype=np.intp), others)
    ranked: IntArray = others[allowed][np.argsort(-scores[allowed], kind="stable")]
    return ranked[: 4 * NEIGHBOURS]


def _grow(
    state: _State,
    seed_person: int,
    candidates: IntArray,
    free: BoolArray,
    target: int,
) -> list[int]:
    """Grow a circle from a seed: add the candidate with the most affinity to all members."""
    members = [seed_person]
    if len(candidates) == 0:
        return members
    seeds = np.full(len(candidates), seed_person, dtype=np.intp)
    total, compatible = state.oracle.pairs(seeds, candidates)
    compatible = compatible & free[candidates]
    while len(members) < target:
        options = np.flatnonzero(compatible)
        if len(options) == 0:
            break
        pick = int(options[np.argmax(total[options])])
        person = int(candidates[pick])
        members.append(person)
        compatible[pick] = False
        scores, allowed = state.oracle.pairs(
            np.full(len(candidates), person, dtype=np.intp), candidates
        )
        total += scores
        compatible &= allowed
    return members


def _construct(state: _State, neighbours: _Neighbourhoods, rng: np.random.Generator) -> None:
    """Greedy circles of the smallest size, seeded by the hardest people first.

    Small circles score best (a person's mean with few close partners beats that with many);
    the repair and search phases grow circles where that places more people.
    """
    free = np.ones(state.n, dtype=bool)
    for person in _difficulty_order(neighbours, rng).tolist():
        if not free[person] or neighbours.degree[person] < state.lo - 1:
            continue
        candidates = _candidate_pool(state, neighbours, person, free)
        members = _grow(state, person, candidates, free, state.lo)
        if len(members) >= state.lo:
            state.new_circle(members)
            free[members] = False


def _repair(state: _State, neighbours: _Neighbourhoods, rng: np.random.Generator) -> bool:
    """Place people left out, as long as that works. Returns whether anyone was placed."""
    start = state.placed()
    for _ in range(REPAIR_ROUNDS):
        before = state.placed()
        _insert_unplaced(state, neighbours)
        _form_from_leftovers(state, neighbours, rng)
        if state.placed() == before:
            _window_repair(state, neighbours, rng)
        if state.placed() == before or state.placed() == state.n:
            break
    return state.placed() > start


def _solve_small(state: _State) -> None:
    """Up to EXACT_LIMIT people: the best circles by exhaustive search (most people placed, then
    the greatest total)."""
    _, _, circles = _best_partition(state, list(range(state.n)))
    for members in circles:
        state.new_circle(members)


def _best_partition(state: _State, people: list[int]) -> tuple[int, float, list[list[int]]]:
    """The best circles among `people` (at most ~14) by exhaustive search: (placed, total,
    circles). Scores are exact."""
    n, lo, hi = len(people), state.lo, state.hi
    index = np.asarray(people, dtype=np.intp)
    first, second = np.meshgrid(index, index, indexing="ij")
    scores, allowed = state.oracle.exact(first.ravel(), second.ravel())
    scores = scores.reshape(n, n)
    allowed = allowed.reshape(n, n)
    # Valid circles, filed under their lowest member: a circle inside the free people that
    # contains the lowest free person has that person as its lowest member.
    by_lowest: list[list[tuple[int, float]]] = [[] for _ in range(n)]
    for size in range(lo, min(hi, n) + 1):
        upper = np.triu_indices(size, 1)
        for combo in itertools.combinations(range(n), size):
            chosen = np.asarray(combo)
            if allowed[np.ix_(chosen, chosen)][upper].all():
                weight = float(scores[np.ix_(chosen, chosen)][upper].sum())
                mask = sum(1 << k for k in combo)
                by_lowest[combo[0]].append((mask, 2.0 * weight / (size - 1)))
    memo: dict[int, tuple[int, float, tuple[int, ...]]] = {}

    def best(free: int) -> tuple[int, float, tuple[int, ...]]:
        if free == 0:
            return 0, 0.0, ()
        if free in memo:
            return memo[free]
        low = free & -free
        placed, value, chosen = best(free & ~low)
        for mask, circle_value in by_lowest[low.bit_length() - 1]:
            if mask & free == mask:
                rest = best(free & ~mask)
                option = (rest[0] + mask.bit_count(), rest[1] + circle_value, (mask, *rest[2]))
                if option[0] > placed or (option[0] == placed and option[1] > value + EPSILON):
                    placed, value, chosen = option
        memo[free] = (placed, value, chosen)
        return memo[free]

    placed, value, masks = best((1 << n) - 1)
    return placed, value, [[people[k] for k in range(n) if mask >> k & 1] for mask in masks]


def _window_repair(state: _State, neighbours: _Neighbourhoods, rng: np.random.Generator) -> bool:
    """For each person still left out: take them, their unplaced neighbours and the circles of
    their placed neighbours (up to WINDOW people), and re-form circles there by exhaustive
    search; keep the result if it places more people (or as many, scoring higher)."""
    changed = False
    tries = 0
    for person in _difficulty_order(neighbours, rng).tolist():
        if state.circle_of[person] >= 0 or neighbours.degree[person] < state.lo - 1:
            continue
        tries += 1
        if tries > MAX_WINDOW_REPAIRS:
            break
        window = [person]
        circles: list[int] = []
        for partner in neighbours.partners[person].tolist():
            if partner < 0 or partner in window:
                continue
            circle = int(state.circle_of[partner])
            joining = (
                [partner] if circle < 0 else state.members[circle][: state.size[circle]].tolist()
            )
            if len(window) + len(joining) > WINDOW:
                continue
            window += joining
            if circle >= 0:
                circles.append(circle)
        if len(window) < state.lo:
            continue
        placed_now = sum(int(state.size[c]) for c in circles)
        placed, _, best = _best_partition(state, window)
        # Only more people placed counts here; quality among the same people is the local
        # search's job.
        if placed <= placed_now:
            continue
        for circle in circles:
            state.dissolve(circle)
        for members in best:
            state.new_circle(members)
        changed = True
    return changed


def _insert_unplaced(state: _State, neighbours: _Neighbourhoods) -> None:
    """Put each unplaced person into a circle with room where every pair stays allowed; failing
    that, move one member of a circle elsewhere to make the room (an ejection chain of one)."""
    for person in np.flatnonzero(state.circle_of < 0).tolist():
        if neighbours.degree[person] < state.lo - 1:
            continue
        circles = _circles_near(state, neighbours, person)
        if len(circles) == 0:
            continue
        fits = _fit(state, person, circles)
        room = state.size[circles] < state.hi
        direct = np.flatnonzero((fits.conflicts == 0) & room)
        if len(direct):
            gain = _value(state.size[circles] + 1, state.weight[circles] + fits.total)
            gain -= _value(state.size[circles], state.weight[circles])
            best = int(circles[direct[np.argmax(gain[direct])]])
            state.add(person, best)
            state.refresh(np.array([best], dtype=np.intp))
            continue
        _eject_for(state, neighbours, person, circles, fits)


@dataclass
class _Fit:
    total: FloatArray  # person's score sum with each circle
    conflicts: NDArray[np.int64]  # members the person may not be grouped with
    scores: FloatArray  # (circles, hi) per-member scores
    allowed: BoolArray  # (circles, hi) per-member allowed (True on empty slots)


def _fit(state: _State, person: int, circles: IntArray) -> _Fit:
    rows = state.members[circles]
    valid = rows >= 0
    scores = np.zeros(rows.shape)
    allowed = np.ones(rows.shape, dtype=bool)
    if valid.any():
        values, ok = state.oracle.pairs(
            np.full(int(valid.sum()), person, dtype=np.intp), rows[valid]
        )
        scores[valid] = values
        allowed[valid] = ok
    return _Fit(scores.sum(axis=1), (~allowed).sum(axis=1).astype(np.int64), scores, allowed)


def _circles_near(state: _State, neighbours: _Neighbourhoods, person: int) -> IntArray:
    listed = neighbours.partners[person]
    listed = listed[listed >= 0]
    circles = np.unique(state.circle_of[listed])
    circles = circles[circles >= 0]
    own = state.circle_of[person]
    result: IntArray = circles[circles != own].astype(np.intp)
    return result


def _eject_for(
    state: _State, neighbours: _Neighbourhoods, person: int, circles: IntArray, fits: _Fit
) -> bool:
    """Place `person` in a circle by moving out the one member in the way (a conflict, or the
    member whose seat is needed in a full circle) to another circle that can take them."""
    for slot in np.argsort(fits.conflicts, kind="stable").tolist():
        circle = int(circles[slot])
        if fits.conflicts[slot] > 1:
            break
        row = state.members[circle]
        if fits.conflicts[slot] == 1:
            blocking = row[(row >= 0) & ~fits.allowed[slot]]
        elif state.size[circle] >= state.hi:
            blocking = row[row >= 0]
        else:
            continue
        for member in blocking.tolist():
            targets = _circles_near(state, neighbours, member)
            targets = targets[(targets != circle) & (state.size[targets] < state.hi)]
            if len(targets) == 0:
                continue
            member_fits = _fit(state, member, targets)
            ok = np.flatnonzero(member_fits.conflicts == 0)
            if len(ok) == 0:
                continue
            destination = int(targets[ok[np.argmax(member_fits.total[ok])]])
            state.remove(member)
            state.add(member, destination)
            state.add(person, circle)
            state.refresh(np.array([circle, destination], dtype=np.intp))
            return True
    return False


def _form_from_leftovers(
    state: _State, neighbours: _Neighbourhoods, rng: np.random.Generator
) -> bool:
    """New circles around people left out. Members come from the unplaced first, then from
    circles that can spare one, then from circles at the smallest size when another unplaced
    person can take the borrowed member's seat. Returns whether anyone was placed."""
    changed = False
    for person in _difficulty_order(neighbours, rng).tolist():
        if state.circle_of[person] >= 0 or neighbours.degree[person] < state.lo - 1:
            continue
        plan = _plan_circle(state, neighbours, person)
        if plan is None:
            continue
        members, seats = plan
        touched = {int(state.circle_of[m]) for m in members if state.circle_of[m] >= 0}
        for member in members:
            if state.circle_of[member] >= 0:
                circle = int(state.circle_of[member])
                state.remove(member)
                if member in seats:
                    state.add(seats[member], circle)
        state.new_circle(members)
        state.refresh(np.asarray(sorted(touched), dtype=np.intp))
        changed = True
    return changed


def _plan_circle(
    state: _State, neighbours: _Neighbourhoods, person: int
) -> tuple[list[int], dict[int, int]] | None:
    """Members for a new circle around `person`, and who takes each borrowed member's seat."""
    available = np.ones(state.n, dtype=bool)
    available[person] = False
    candidates = _candidate_pool(state, neighbours, person, available)
    if len(candidates) == 0:
        return None
    total, compatible = state.oracle.pairs(
        np.full(len(candidates), person, dtype=np.intp), candidates
    )
    members = [person]
    lent: dict[int, int] = {}
    seats: dict[int, int] = {}
    reserved = {person}
    while len(members) < state.lo:
        options = np.flatnonzero(compatible)
        home = state.circle_of[candidates[options]]
        spare = np.where(
            home >= 0,
            state.size[np.maximum(home, 0)] - [lent.get(int(c), 0) for c in home.tolist()],
            0,
        )
        kind = np.where(home < 0, 0, np.where(spare > state.lo, 1, 2))
        chosen = -1
        for k in np.lexsort((-total[options], kind)).tolist():
            option = int(options[k])
            candidate = int(candidates[option])
            if candidate in reserved:
                continue
            if kind[k] < 2:
                chosen = option
                break
            circle = int(home[k])
            if lent.get(circle, 0):
                continue
            seat = _seat_taker(state, circle, candidate, reserved)
            if seat >= 0:
                seats[candidate] = seat
                reserved.add(seat)
                chosen = option
                break
        if chosen < 0:
            return None
        member = int(candidates[chosen])
        members.append(member)
        reserved.add(member)
        circle = int(state.circle_of[member])
        if circle >= 0:
            lent[circle] = lent.get(circle, 0) + 1
        compatible[chosen] = False
        scores, allowed = state.oracle.pairs(
            np.full(len(candidates), member, dtype=np.intp), candidates
        )
        total += scores
        compatible &= allowed
    return members, seats


def _seat_taker(state: _State, circle: int, leaving: int, reserved: set[int]) -> int:
    """An unplaced person who may join `circle` once `leaving` is out of it (-1: nobody)."""
    row = state.members[circle]
    rest = row[(row >= 0) & (row != leaving)]
    unplaced = np.flatnonzero(state.circle_of < 0)
    unplaced = unplaced[[p not in reserved for p in unplaced.tolist()]]
    if len(unplaced) == 0 or len(rest) == 0:
        return -1
    first = np.repeat(unplaced, len(rest))
    second = np.tile(rest, len(unplaced))
    scores, allowed = state.oracle.pairs(first, second)
    fits = allowed.reshape(len(unplaced), len(rest)).all(axis=1)
    if not fits.any():
        return -1
    gain = scores.reshape(len(unplaced), len(rest)).sum(axis=1)
    options = np.flatnonzero(fits)
    return int(unplaced[options[np.argmax(gain[options])]])


# --- local search --------------------------------------------------------------------------------


def _local_search(
    state: _State,
    neighbours: _Neighbourhoods,
    rng: np.random.Generator,
    progress: ProgressCallback,
    dirty: BoolArray | None = None,
) -> int:
    """Sweeps of batched moves and swaps, then re-partitions of neighbouring circles, until a
    sweep gains (almost) nothing. After the first sweep only people near a circle that changed
    are looked at again (nothing else can have a new improving move); with `dirty`, even the
    first sweep looks only near those circles."""
    sweeps = 0
    focused = dirty is not None
    for sweep in range(MAX_SWEEPS):
        before = state.objective() + PLACE_BONUS * state.placed()
        order = rng.permutation(state.n).astype(np.intp)
        if dirty is not None and focused:
            # Only the members of changed circles (and anyone unplaced) move.
            home = state.circle_of[order]
            order = order[np.where(home >= 0, dirty[np.maximum(home, 0)], True)]
        elif dirty is not None:
            order = order[_near_dirty(state, neighbours, order, dirty)]
        changed: list[int] = []
        for start in range(0, len(order), BATCH):
            changed += _improve_batch(state, neighbours, order[start : start + BATCH])
        changed += _repartition(state, neighbours, dirty)
        sweeps += 1
        after = state.objective() + PLACE_BONUS * state.placed()
        if not focused:
            progress("improving circles", 0.5 + 0.2 * (sweep + 1) / MAX_SWEEPS)
        small = after - before <= MIN_SWEEP_GAIN * max(1.0, abs(before))
        if not changed or (small and not focused):
            break
        dirty = np.zeros(state.members.shape[0], dtype=bool)
        dirty[changed] = True
    return sweeps


def _perturb(
    state: _State,
    neighbours: _Neighbourhoods,
    rng: np.random.Generator,
    progress: ProgressCallback,
) -> int:
    """Iterated local search: dissolve a circle and its most linked neighbours, re-form them
    greedily in a random order, improve locally, and keep the result only if it is better
    (more people placed, or the same and a higher objective). Returns the improvements kept."""
    kept = 0
    rounds = min(MAX_PERTURBATIONS, state.n // PEOPLE_PER_PERTURBATION)
    for round_number in range(rounds):
        alive = np.flatnonzero(state.size[: state.count] > 0)
        if len(alive) < 2:
            break
        if round_number % 10 == 0:
            progress("improving circles", 0.7 + 0.2 * round_number / max(rounds, 1))
        group = _linked_group(state, neighbours, int(rng.choice(alive)))
        snapshot = state.snapshot()
        before = (state.placed(), state.objective())
        people: list[int] = []
        for circle in group:
            people += state.members[circle][: state.size[circle]].tolist()
            state.dissolve(circle)
        free = np.zeros(state.n, dtype=bool)
        free[people] = True
        pool = np.asarray(people, dtype=np.intp)
        created: list[int] = []
        for person in rng.permutation(pool).tolist():
            if not free[person]:
                continue
            free[person] = False
            members = _grow(state, person, pool[free[pool]], free, state.lo)
            if len(members) >= state.lo:
                created.append(state.new_circle(members))
                free[members] = False
            else:
                free[person] = True
        if (state.circle_of[pool] < 0).any():
            _repair(state, neighbours, rng)
        dirty = np.zeros(state.members.shape[0], dtype=bool)
        dirty[created] = True
        dirty[state.circle_of[pool][state.circle_of[pool] >= 0]] = True
        _local_search(state, neighbours, rng, progress, dirty)
        after = (state.placed(), state.objective())
        if after[0] > before[0] or (after[0] == before[0] and after[1] > before[1] + EPSILON):
            kept += 1
        else:
            state.restore(snapshot)
    return kept


def _linked_group(state: _State, neighbours: _Neighbourhoods, centre: int) -> list[int]:
    """A circle and the circles its members' neighbours are in most often."""
    row = state.members[centre]
    partners = neighbours.partners[row[row >= 0]].ravel()
    circles = state.circle_of[partners[partners >= 0]]
    circles = circles[(circles >= 0) & (circles != centre)]
    if len(circles) == 0:
        return [centre]
    found, counts = np.unique(circles, return_counts=True)
    order = np.argsort(-counts, kind="stable")[: PERTURB_CIRCLES - 1]
    return [centre, *found[order].tolist()]


def _near_dirty(
    state: _State, neighbours: _Neighbourhoods, people: IntArray, dirty: BoolArray
) -> BoolArray:
    """Which of `people` are unplaced, in a changed circle, or have a neighbour in one."""
    home = state.circle_of[people]
    near = np.where(home >= 0, dirty[np.maximum(home, 0)], True)
    listed = neighbours.partners[people]
    circles = np.where(listed >= 0, state.circle_of[np.maximum(listed, 0)], -1)
    near |= (dirty[np.maximum(circles, 0)] & (circles >= 0)).any(axis=1)
    return near


def _improve_batch(state: _State, neighbours: _Neighbourhoods, people: IntArray) -> list[int]:
    """Evaluate every move and swap for a batch at once; apply the best disjoint improvements.

    Returns the circles that changed."""
    people = people[neighbours.degree[people] >= state.lo - 1]
    if len(people) == 0:
        return []
    lo, hi = state.lo, state.hi
    home = state.circle_of[people]  # (B,)
    placed = home >= 0
    safe_home = np.maximum(home, 0)
    # Candidate circles: those of the person's neighbours, each once, never their own.
    listed = neighbours.partners[people]
    near = np.where(listed >= 0, state.circle_of[np.maximum(listed, 0)], -1)
    near[near == home[:, None]] = -1
    near = np.sort(near, axis=1)
    near[:, 1:][near[:, 1:] == near[:, :-1]] = -1
    circles = near  # (B, K)
    has_circle = circles >= 0
    safe_circles = np.maximum(circles, 0)
    rows = state.members[safe_circles]  # (B, K, hi)
    rows = np.where(has_circle[:, :, None], rows, -1)
    valid = rows >= 0
    b_index = np.broadcast_to(people[:, None, None], rows.shape)

    scores = np.zeros(rows.shape)
    allowed = np.ones(rows.shape, dtype=bool)
    if valid.any():
        values, ok = state.oracle.pairs(b_index[valid], rows[valid])
        scores[valid] = values
        allowed[valid] = ok
    total = scores.sum(axis=2)  # person's sum with each candidate circle
    conflicts = (~allowed).sum(axis=2)

    size_c = state.size[safe_circles]
    weight_c = state.weight[safe_circles]
    size_h = np.where(placed, state.size[safe_home], 0)
    weight_h = np.where(placed, state.weight[safe_home], 0.0)
    own = state.own[people]
    base_c = _value(size_c, weight_c)
    base_h = _value(size_h, weight_h)

    # Moves: leave home (if any), join the candidate circle.
    can_leave = ~placed | (size_h > lo)
    move_ok = has_circle & (conflicts == 0) & (size_c < hi) & can_leave[:, None]
    leave_gain = np.where(placed, _value(size_h - 1, weight_h - own) - base_h, PLACE_BONUS)
    move_gain = leave_gain[:, None] + _value(size_c + 1, weight_c + total) - base_c
    if state.balance:
        move_gain -= _balance_move(state, people, home, circles)
    move_gain = np.where(move_ok, move_gain, -np.inf)

    # Swaps with a member q of one of the most promising candidate circles (the person may
    # conflict with q only, as q leaves).
    promise = np.where(has_circle & (conflicts <= 1), total, -np.inf)
    width = min(SWAP_CIRCLES, circles.shape[1])
    top = np.argsort(-promise, axis=1, kind="stable")[:, :width]
    swap_circles = np.take_along_axis(circles, top, axis=1)
    swap_circles = np.where(np.isfinite(np.take_along_axis(promise, top, axis=1)), swap_circles, -1)
    q = np.take_along_axis(rows, top[:, :, None], axis=1)  # (B, S, hi)
    q = np.where(swap_circles[:, :, None] >= 0, q, -1)
    q_valid = q >= 0
    q_safe = np.maximum(q, 0)
    scores_s = np.take_along_axis(scores, top[:, :, None], axis=1)
    allowed_s = np.take_along_axis(allowed, top[:, :, None], axis=1)
    total_s = np.take_along_axis(total, top, axis=1)
    conflicts_s = np.take_along_axis(conflicts, top, axis=1)
    size_s = np.take_along_axis(size_c, top, axis=1)
    weight_s = np.take_along_axis(weight_c, top, axis=1)
    base_s = np.take_along_axis(base_c, top, axis=1)
    home_rows = state.members[safe_home]  # (B, hi)
    home_rows = np.where(placed[:, None] & (home_rows != people[:, None]), home_rows, -1)
    pair_first = np.broadcast_to(q_safe[:, :, :, None], (*q.shape, hi))
    pair_second = np.broadcast_to(home_rows[:, None, None, :], (*q.shape, hi))
    pair_valid = q_valid[:, :, :, None] & (pair_second >= 0)
    q_scores = np.zeros(pair_first.shape)
    q_allowed = np.ones(pair_first.shape, dtype=bool)
    if pair_valid.any():
        values, ok = state.oracle.pairs(pair_first[pair_valid], pair_second[pair_valid])
        q_scores[pair_valid] = values
        q_allowed[pair_valid] = ok
    q_home_total = q_scores.sum(axis=3)  # q's sum with home minus the person
    q_home_conflicts = (~q_allowed).sum(axis=3)
    person_conflicts_without_q = conflicts_s[:, :, None] - (~allowed_s).astype(np.int64)
    swap_ok = q_valid & (person_conflicts_without_q == 0)
    swap_ok &= np.where(placed[:, None, None], q_home_conflicts == 0, True)
    new_weight_c = weight_s[:, :, None] - state.own[q_safe] + total_s[:, :, None] - scores_s
    new_weight_h = weight_h[:, None, None] - own[:, None, None] + q_home_total
    swap_gain = _value(size_s[:, :, None], new_weight_c) - base_s[:, :, None]
    swap_gain += np.where(
        placed[:, None, None],
        _value(size_h[:, None, None], new_weight_h) - base_h[:, None, None],
        0.0,
    )
    if state.balance:
        swap_gain -= _balance_swap(state, people, home, swap_circles, q)
    swap_gain = np.where(swap_ok, swap_gain, -np.inf)

    best_move = np.argmax(move_gain, axis=1)
    best_move_gain = move_gain[np.arange(len(people)), best_move]
    flat_swaps = swap_gain.reshape(len(people), -1)
    best_swap = np.argmax(flat_swaps, axis=1)
    best_swap_gain = flat_swaps[np.arange(len(people)), best_swap]
    use_swap = best_swap_gain > best_move_gain
    gain = np.where(use_swap, best_swap_gain, best_move_gain)

    touched_circles: set[int] = set()
    touched_people: set[int] = set()
    changed: list[int] = []
    for k in np.argsort(-gain, kind="stable").tolist():
        if not gain[k] > EPSILON:
            break
        person = int(people[k])
        origin = int(home[k])
        if use_swap[k]:
            slot = int(best_swap[k])
            target = int(swap_circles[k, slot // hi])
            other = int(q[k, slot // hi, slot % hi])
        else:
            target = int(circles[k, best_move[k]])
            other = -1
        involved = {target} | ({origin} if origin >= 0 else set())
        if involved & touched_circles or person in touched_people or other in touched_people:
            continue
        touched_circles |= involved
        touched_people |= {person, other}
        if origin >= 0:
            state.remove(person)
        if other >= 0:
            state.remove(other)
            if origin >= 0:
                state.add(other, origin)
        state.add(person, target)
        changed.extend(involved)
    if changed:
        state.refresh(np.asarray(changed, dtype=np.intp))
    return changed


def _repartition(
    state: _State, neighbours: _Neighbourhoods, dirty: BoolArray | None = None
) -> list[int]:
    """Re-split the members of two neighbouring circles in the best way, for many pairs at once.

    Two circles of sizes s and t are pooled and every split into two valid sizes is scored
    (at most a few thousand splits: C(14, 7) = 3432); this covers every move and swap between
    them and every multiple exchange. Pairs of circles are those linked most often by members'
    neighbourhoods; the best improving re-splits of disjoint pairs are applied. With `dirty`,
    only pairs with a circle that changed since the last look. Returns the circles changed.
    """
    pairs = _linked_circle_pairs(state, neighbours, dirty)
    if dirty is not None and len(pairs):
        pairs = pairs[dirty[pairs[:, 0]] | dirty[pairs[:, 1]]]
    if len(pairs) == 0:
        return []
    totals = state.size[pairs[:, 0]] + state.size[pairs[:, 1]]
    best_gain = np.full(len(pairs), -np.inf)
    best_split: list[BoolArray | None] = [None] * len(pairs)
    for total in np.unique(totals).tolist():
        masks = _split_masks(int(total), state.lo, state.hi)
        chosen = np.flatnonzero(totals == total)
        if len(masks) == 0:
            continue
        for start in range(0, len(chosen), REPARTITION_BATCH):
            group = chosen[start : start + REPARTITION_BATCH]
            gains, picks = _score_splits(state, pairs[group], masks)
            best_gain[group] = gains
            for k, pick in zip(group.tolist(), picks.tolist(), strict=True):
                best_split[k] = masks[pick]
    used: set[int] = set()
    changed: list[int] = []
    for k in np.argsort(-best_gain, kind="stable").tolist():
        if not best_gain[k] > EPSILON:
            break
        first, second = int(pairs[k, 0]), int(pairs[k, 1])
        if first in used or second in used:
            continue
        used |= {first, second}
        split = best_split[k]
        assert split is not None
        pooled = _pooled(state, pairs[k : k + 1])[0]
        state.replace(first, pooled[split].tolist())
        state.replace(second, pooled[~split].tolist())
        changed += [first, second]
    if changed:
        state.refresh(np.asarray(changed, dtype=np.intp))
    return changed


def _linked_circle_pairs(
    state: _State, neighbours: _Neighbourhoods, dirty: BoolArray | None = None
) -> IntArray:
    """Pairs of circles (first < second) most linked by members' neighbour lists (with `dirty`,
    counted from the members of those circles only)."""
    if dirty is None:
        placed = np.flatnonzero(state.circle_of >= 0)
    else:
        rows = state.members[np.flatnonzero(dirty[: state.members.shape[0]])]
        placed = rows[rows >= 0]
    if len(placed) == 0:
        return np.zeros((0, 2), dtype=np.intp)
    partners = neighbours.partners[placed]
    own = np.repeat(state.circle_of[placed], partners.shape[1])
    other = np.where(partners >= 0, state.circle_of[np.maximum(partners, 0)], -1).ravel()
    keep = (other >= 0) & (other != own)
    low = np.minimum(own[keep], other[keep]).astype(np.int64)
    high = np.maximum(own[keep], other[keep]).astype(np.int64)
    keys, counts = np.unique(low * state.members.shape[0] + high, return_counts=True)
    first = keys // state.members.shape[0]
    second = keys % state.members.shape[0]
    # Keep each circle's most linked partners.
    order = np.lexsort((-counts, first))
    rank = np.arange(len(order)) - np.searchsorted(first[order], first[order])
    kept = order[rank < PAIRS_PER_CIRCLE]
    return np.stack([first[kept], second[kept]], axis=1).astype(np.intp)


def _pooled(state: _State, pairs: IntArray) -> IntArray:
    """The members of both circles of each pair, side by side (same total size per call)."""
    rows = np.concatenate([state.members[pairs[:, 0]], state.members[pairs[:, 1]]], axis=1)
    order = np.argsort(rows < 0, axis=1, kind="stable")
    rows = np.take_along_axis(rows, order, axis=1)
    total = int(state.size[pairs[0, 0]] + state.size[pairs[0, 1]])
    pooled: IntArray = rows[:, :total]
    return pooled


_MASK_CACHE: dict[tuple[int, int, int], BoolArray] = {}


def _split_masks(total: int, lo: int, hi: int) -> BoolArray:
    """Every split of `total` pooled people into two valid circles (first part as a mask)."""
    key = (total, lo, hi)
    if key not in _MASK_CACHE:
        masks: list[list[bool]] = []
        for size in range(lo, hi + 1):
            rest = total - size
            if not lo <= rest <= hi or size > rest:
                continue
            for combo in itertools.combinations(range(total), size):
                if size == rest and combo[0] != 0:
                    continue  # the same split with the parts swapped
                mask = [False] * total
                for k in combo:
                    mask[k] = True
                masks.append(mask)
        _MASK_CACHE[key] = np.asarray(masks, dtype=bool).reshape(len(masks), total)
    return _MASK_CACHE[key]


def _score_splits(state: _State, pairs: IntArray, masks: BoolArray) -> tuple[FloatArray, IntArray]:
    """For each pair of circles, the gain of its best valid split and which split it is."""
    pooled = _pooled(state, pairs)  # (P, t)
    count, total = pooled.shape
    first = np.broadcast_to(pooled[:, :, None], (count, total, total))
    second = np.broadcast_to(pooled[:, None, :], (count, total, total))
    off_diagonal = ~np.eye(total, dtype=bool)
    scores = np.zeros((count, total, total))
    allowed = np.ones((count, total, total), dtype=bool)
    values, ok = state.oracle.pairs(first[:, off_diagonal], second[:, off_diagonal])
    scores[:, off_diagonal] = values
    allowed[:, off_diagonal] = ok
    inside = masks.astype(np.float64).T  # (t, M)
    outside = 1.0 - inside
    conflicts = (~allowed).astype(np.float64)

    def within(matrix: FloatArray, part: FloatArray) -> FloatArray:
        result: FloatArray = np.einsum("pim,im->pm", matrix @ part, part) / 2.0
        return result

    size_in = inside.sum(axis=0)
    size_out = total - size_in
    value = 2.0 * within(scores, inside) / (size_in - 1) + 2.0 * within(scores, outside) / (
        size_out - 1
    )
    bad = within(conflicts, inside) + within(conflicts, outside)
    if state.balance:
        value -= _split_penalty(state, pooled, inside)
    value = np.where(bad > 0.5, -np.inf, value)
    pick = np.argmax(value, axis=1).astype(np.intp)
    current = _value(state.size[pairs[:, 0]], state.weight[pairs[:, 0]]) + _value(
        state.size[pairs[:, 1]], state.weight[pairs[:, 1]]
    )
    if state.balance:
        current -= state.penalty(pairs[:, 0]) + state.penalty(pairs[:, 1])
    gain = value[np.arange(count), pick] - current
    return gain, pick


def _split_penalty(state: _State, pooled: IntArray, inside: FloatArray) -> FloatArray:
    """Balance penalty of both parts of every split (P, M)."""
    total = np.zeros((pooled.shape[0], inside.shape[1]))
    size_in = inside.sum(axis=0)
    size_out = pooled.shape[1] - size_in
    for attribute in state.balance:
        one_hot = np.eye(len(attribute.shares))[attribute.codes[pooled]]  # (P, t, cats)
        counts_in = np.einsum("ptc,tm->pmc", one_hot, inside)
        counts_out = one_hot.sum(axis=1)[:, None, :] - counts_in
        expected_in = size_in[None, :, None] * attribute.shares[None, None, :]
        expected_out = size_out[None, :, None] * attribute.shares[None, None, :]
        total += ((counts_in - expected_in) ** 2).sum(axis=2)
        total += ((counts_out - expected_out) ** 2).sum(axis=2)
    return BALANCE_WEIGHT * total


def _balance_move(state: _State, people: IntArray, home: IntArray, circles: IntArray) -> FloatArray:
    """Change of balance penalty when each person moves to each candidate circle."""
    safe_home = np.maximum(home, 0)
    safe_circles = np.maximum(circles, 0)
    delta = np.zeros(circles.shape)
    for attribute in state.balance:
        category = attribute.codes[people]
        shares = attribute.shares
        share2 = float((shares**2).sum())
        counts_c = attribute.counts[safe_circles].astype(np.float64)  # (B, K, cats)
        q_c = (counts_c**2).sum(axis=2)
        r_c = counts_c @ shares
        s_c = state.size[safe_circles].astype(np.float64)
        c_k = np.take_along_axis(counts_c, category[:, None, None], axis=2)[:, :, 0]
        p_k = shares[category][:, None]
        delta += _penalty(q_c + 2 * c_k + 1, r_c + p_k, s_c + 1, share2) - _penalty(
            q_c, r_c, s_c, share2
        )
        counts_h = attribute.counts[safe_home].astype(np.float64)  # (B, cats)
        q_h = (counts_h**2).sum(axis=1)
        r_h = counts_h @ shares
        s_h = state.size[safe_home].astype(np.float64)
        h_k = counts_h[np.arange(len(people)), category]
        leave = _penalty(q_h - 2 * h_k + 1, r_h - shares[category], s_h - 1, share2)
        leave -= _penalty(q_h, r_h, s_h, share2)
        delta += np.where(home >= 0, leave, 0.0)[:, None]
    return BALANCE_WEIGHT * delta


def _penalty(squares: FloatArray, dot: FloatArray, size: FloatArray, share2: float) -> FloatArray:
    """sum_k (c_k - s p_k)^2 from sum c_k^2, sum c_k p_k, s and sum p_k^2."""
    return squares - 2.0 * size * dot + size * size * share2


def _balance_swap(
    state: _State, people: IntArray, home: IntArray, circles: IntArray, q: IntArray
) -> FloatArray:
    """Change of balance penalty when each person swaps with each member q of a circle."""
    safe_home = np.maximum(home, 0)
    safe_circles = np.maximum(circles, 0)
    safe_q = np.maximum(q, 0)
    delta = np.zeros(q.shape)
    for attribute in state.balance:
        shares = attribute.shares
        k_p = attribute.codes[people][:, None, None]  # person's category
        k_q = attribute.codes[safe_q]  # (B, K, hi)
        differ = k_p != k_q
        counts_c = attribute.counts[safe_circles].astype(np.float64)  # (B, K, cats)
        # In the candidate circle, q (k_q) leaves and the person (k_p) arrives.
        c_q = np.take_along_axis(counts_c, k_q, axis=2)
        c_p = np.take_along_axis(counts_c, np.broadcast_to(k_p, k_q.shape), axis=2)
        delta_q = -2 * c_q + 1 + 2 * c_p + 1
        delta_r = shares[np.broadcast_to(k_p, k_q.shape)] - shares[k_q]
        s_c = state.size[safe_circles].astype(np.float64)[:, :, None]
        delta_c = delta_q - 2.0 * s_c * delta_r
        # At home the person leaves and q arrives (only if the person had a home).
        counts_h = attribute.counts[safe_home].astype(np.float64)  # (B, cats)
        h_p = counts_h[np.arange(len(people)), attribute.codes[people]][:, None, None]
        h_q = np.take_along_axis(counts_h, k_q.reshape(len(people), -1), axis=1)
        h_q = h_q.reshape(k_q.shape)
        s_h = state.size[safe_home].astype(np.float64)[:, None, None]
        delta_h = (-2 * h_p + 1 + 2 * h_q + 1) - 2.0 * s_h * (-delta_r)
        delta_h = np.where((home >= 0)[:, None, None], delta_h, 0.0)
        delta += np.where(differ, delta_c + delta_h, 0.0)
    return BALANCE_WEIGHT * delta


# --- the result ----------------------------------------------------------------------------------


def _result(
    scorer: Scorer,
    policy: Policy,
    pool: IntArray,
    fixed: list[list[int]],
    state: _State,
    neighbours: _Neighbourhoods,
    started: float,
    sweeps: int,
) -> MatchResult:
    assert policy.group_size is not None
    lo, hi = policy.group_size
    circles: list[list[int]] = [[int(i) for i in group] for group in fixed]
    is_fixed = [True] * len(fixed)
    for circle in range(state.count):
        if state.size[circle] == 0:
            continue
        row = state.members[circle]
        circles.append([int(pool[p]) for p in row[row >= 0].tolist()])
        is_fixed.append(False)

    scored = _exact_circles(scorer, circles)
    # The oracle decides allowed pairs exactly; this is a guard, never expected to fire.
    for k, (members, (_, allowed)) in enumerate(zip(circles, scored, strict=True)):
        if not is_fixed[k] and not allowed.all():
            raise RuntimeError(f"circle {members} holds a pair that is not allowed")

    order = sorted(range(len(circles)), key=lambda k: min(scorer.ids[i] for i in circles[k]))
    best_partner: list[tuple[int, int]] = []
    for k in order:
        scores, _ = scored[k]
        members = circles[k]
        for position, person in enumerate(members):
            row = scores[position].copy()
            row[position] = -np.inf
            best_partner.append((person, members[int(np.argmax(row))]))
    texts = iter(
        explain.reasons_for_pairs(
            scorer,
            np.asarray([a for a, _ in best_partner], dtype=np.intp),
            np.asarray([b for _, b in best_partner], dtype=np.intp),
        )
    )
    groups: list[Group] = []
    total = 0.0
    fixed_total = 0.0
    for number, k in enumerate(order, start=1):
        scores, _ = scored[k]
        members = circles[k]
        size = len(members)
        pair_sum = math.fsum(scores[np.triu_indices(size, 1)].tolist())
        mean = pair_sum / (size * (size - 1) / 2) if size >= 2 else 0.0
        value = size * mean
        total += value
        if is_fixed[k]:
            fixed_total += value
        placements = [
            Placement(person_id=scorer.ids[person], role="member", score=mean, reasons=next(texts))
            for person in members
        ]
        placements.sort(key=lambda placement: placement.person_id)
        groups.append(Group(id=f"circle-{number}", members=tuple(placements), score=value))

    unmatched = _unmatched(scorer, pool, state, neighbours, lo, hi)
    free_bound = float(neighbours.top_mean.sum())
    bound = max(total, fixed_total + free_bound)
    imbalance = float(state.penalty(np.flatnonzero(state.size[: state.count] > 0)).sum())
    return MatchResult(
        groups=tuple(groups),
        unmatched=tuple(unmatched),
        total_score=total,
        upper_bound=bound,
        seconds=time.perf_counter() - started,
        placed=sum(len(group.members) for group in groups),
        stats={
            "circles": float(len(groups)),
            "sweeps": float(sweeps),
            "balance_penalty": imbalance / BALANCE_WEIGHT if state.balance else 0.0,
            "share_of_bound": total / bound if bound > 0 else 1.0,
            "dense": 1.0 if isinstance(state.oracle, _DenseOracle) else 0.0,
        },
    )


def _exact_circles(scorer: Scorer, circles: list[list[int]]) -> list[tuple[FloatArray, BoolArray]]:
    """Exact pair scores and allowed flags inside each circle (diagonal: 0 and True), scored
    in one call."""
    uppers = [np.triu_indices(len(members), 1) for members in circles]
    first = [
        np.asarray(members, dtype=np.intp)[upper[0]]
        for members, upper in zip(circles, uppers, strict=True)
    ]
    second = [
        np.asarray(members, dtype=np.intp)[upper[1]]
        for members, upper in zip(circles, uppers, strict=True)
    ]
    if circles and sum(len(f) for f in first):
        values, ok = scorer.pair_scores(np.concatenate(first), np.concatenate(second))
    else:
        values, ok = np.zeros(0), np.zeros(0, dtype=bool)
    result: list[tuple[FloatArray, BoolArray]] = []
    offset = 0
    for members, (rows, cols) in zip(circles, uppers, strict=True):
        size = len(members)
        count = len(rows)
        scores = np.zeros((size, size))
        allowed = np.ones((size, size), dtype=bool)
        scores[rows, cols] = scores[cols, rows] = values[offset : offset + count]
        allowed[rows, cols] = allowed[cols, rows] = ok[offset : offset + count]
        offset += count
        result.append((scores, allowed))
    return result


def _unmatched(
    scorer: Scorer,
    pool: IntArray,
    state: _State,
    neighbours: _Neighbourhoods,
    lo: int,
    hi: int,
) -> list[Unmatched]:
    left_out = np.flatnonzero(state.circle_of < 0).astype(np.intp)
    if len(left_out) == 0:
        return []
    reasons: list[str]
    if len(pool) < lo:
        reasons = [f"too few people for a circle of at least {lo}"] * len(left_out)
    else:
        counts = state.oracle.allowed_counts(left_out)
        placed = np.zeros(scorer.n, dtype=bool)
        placed[pool[state.circle_of >= 0]] = True
        base = explain.unmatched_reasons(scorer, pool[left_out], placed, pool)
        reasons = []
        for count, text in zip(counts.tolist(), base, strict=True):
            if count == 0:
                reasons.append(text)
            elif count < lo - 1:
                reasons.append(
                    f"only {count} allowed partner{'s' if count > 1 else ''}; a circle needs "
                    f"{lo - 1} who may all be grouped with them"
                )
            else:
                reasons.append(f"no circle of {lo} to {hi} could take them with every pair allowed")
    return [
        Unmatched(id=scorer.ids[int(pool[p])], reason=reason)
        for p, reason in sorted(
            zip(left_out.tolist(), reasons, strict=True),
            key=lambda item: scorer.ids[int(pool[item[0]])],
        )
    ]
