"""The problem: who is on which side, what is fixed, what capacity is left, and every allowed
pair's weight by blocks."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from peermentor.matching.model import InputError, Locks, Policy

from .params import BLOCK_PAIRS

if TYPE_CHECKING:
    from peermentor.matching.scoring import Scorer

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]

# Keep all scores in memory (float64) up to this many pairs (512 MB): pricing rounds then cost
# a few numpy passes instead of scoring every pair again.
CACHE_PAIRS = 1 << 26


@dataclass
class Problem:
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
    def build(scorer: Scorer, policy: Policy, locks: Locks) -> Problem:
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
        return Problem(
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


class Weights:
    """Every allowed (host, side-b) pair's weight, score + M (-inf when not allowed), by blocks.

    The first pass scores all pairs with the scorer and counts each person's allowed partners;
    when the whole matrix fits in CACHE_PAIRS it is kept, and later passes read it back.
    """

    def __init__(self, scorer: Scorer, problem: Problem, big_m: float) -> None:
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
