"""Exhaustive search for the best circles among a dozen or so people (small pools, windows)."""

from __future__ import annotations

import itertools

import numpy as np

from .params import EPSILON
from .state import State


def solve_small(state: State) -> None:
    """Up to EXACT_LIMIT people: the best circles by exhaustive search (most people placed, then
    the greatest total)."""
    _, _, circles = best_partition(state, list(range(state.n)))
    for members in circles:
        state.new_circle(members)


def best_partition(state: State, people: list[int]) -> tuple[int, float, list[list[int]]]:
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
