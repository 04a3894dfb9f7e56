"""Exhaustive search for the best circles among a dozen or so people (small pools, windows)."""

from __future__ import annotations

import itertools

import numpy as np

from .params import EPSILON
from .state import State

# Circles are formed among at most twice this many people left out (exhaustive search).
EXACT_WINDOW = 7


def solve_small(state: State, *, quality: bool) -> None:
    """Up to EXACT_LIMIT people: the best circles by exhaustive search.

    For `participation`, the most people placed, then the greatest total. For `quality`, the
    greatest total (anyone may be left out), then nobody left out who could still be placed:
    each joins the circle with room they fit best, and those left form circles among themselves
    where they can (which may cost a little of the total; see docs/matching.md)."""
    _, _, circles = best_partition(state, list(range(state.n)), quality=quality)
    for members in circles:
        state.new_circle(members)
    if quality:
        complete(state)


def complete(state: State) -> None:
    """Place whoever is left out and fits: first into circles with room (best gain first), then
    into new circles formed among the people left out (exhaustively, most placed)."""
    while True:
        while _insert_best(state):
            pass
        left = np.flatnonzero(state.circle_of < 0).tolist()
        if len(left) < state.lo or len(left) > 2 * EXACT_WINDOW:
            return
        placed, _, circles = best_partition(state, left)
        if placed == 0:
            return
        for members in circles:
            state.new_circle(members)


def _insert_best(state: State) -> bool:
    """Put the left-out person who fits a circle with room (every pair allowed) where that
    costs least or gains most; returns whether anyone was placed."""
    left = np.flatnonzero(state.circle_of < 0)
    if len(left) == 0:
        return False
    open_circles = np.flatnonzero(
        (state.size[: state.count] > 0) & (state.size[: state.count] < state.hi)
    )
    best: tuple[float, int, int] | None = None
    for circle in open_circles.tolist():
        row = state.members[circle][: state.size[circle]]
        first = np.repeat(left, len(row))
        second = np.tile(row, len(left))
        scores, allowed = state.oracle.exact(first, second)
        fits = allowed.reshape(len(left), len(row)).all(axis=1)
        size, weight = int(state.size[circle]), float(state.weight[circle])
        sums = scores.reshape(len(left), len(row)).sum(axis=1)
        for k in np.flatnonzero(fits).tolist():
            gain = 2.0 * (weight + sums[k]) / size - 2.0 * weight / (size - 1)
            if best is None or gain > best[0] + EPSILON:
                best = (gain, int(left[k]), circle)
    if best is None:
        return False
    _, person, circle = best
    state.add(person, circle)
    state.refresh(np.array([circle], dtype=np.intp))
    return True


def best_partition(
    state: State, people: list[int], *, quality: bool = False
) -> tuple[int, float, list[list[int]]]:
    """The best circles among `people` (at most ~14) by exhaustive search: (placed, total,
    circles); best means most placed then greatest total, or with `quality` greatest total then
    most placed. Scores are exact."""
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
                if _better(option[0], option[1], placed, value, quality):
                    placed, value, chosen = option
        memo[free] = (placed, value, chosen)
        return memo[free]

    placed, value, masks = best((1 << n) - 1)
    return placed, value, [[people[k] for k in range(n) if mask >> k & 1] for mask in masks]


def _better(placed: int, value: float, best_placed: int, best_value: float, quality: bool) -> bool:
    if quality:
        return value > best_value + EPSILON or (
            value >= best_value - EPSILON and placed > best_placed
        )
    return placed > best_placed or (placed == best_placed and value > best_value + EPSILON)
