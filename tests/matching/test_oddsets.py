"""The odd-set certificate: never below the best matching, and it closes the LP's odd-cycle gap."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from peermentor.matching.oddsets import best_pairs, odd_set_bound


def dense_block(weights: np.ndarray, allowed: np.ndarray):
    def block(rows):
        return weights[rows], allowed[rows]

    return block


def best_matching(weights: np.ndarray, allowed: np.ndarray) -> float:
    n = len(weights)
    best = 0.0

    def extend(free: tuple[int, ...], total: float) -> None:
        nonlocal best
        best = max(best, total)
        if len(free) < 2:
            return
        first, rest = free[0], free[1:]
        extend(rest, total)  # first stays unmatched
        for k, other in enumerate(rest):
            if allowed[first, other]:
                extend(rest[:k] + rest[k + 1 :], total + weights[first, other])

    extend(tuple(range(n)), 0.0)
    return best


def bound_for(weights: np.ndarray, allowed: np.ndarray) -> float:
    block = dense_block(weights, allowed)
    first, second = best_pairs(len(weights), block, per_row=2)
    bound, _ = odd_set_bound(len(weights), first, second, weights[first, second], block)
    return bound


def test_a_triangle_of_equal_scores_is_bounded_by_one_pair_not_one_and_a_half():
    weights = np.ones((3, 3))
    allowed = ~np.eye(3, dtype=bool)
    # The fractional LP takes half of each edge (1.5); one pair is all three people can make.
    assert abs(bound_for(weights, allowed) - 1.0) < 1e-6


@settings(max_examples=60, deadline=None)
@given(st.integers(2, 9), st.integers(0, 2**31 - 1), st.sampled_from([0.3, 0.7, 1.0]))
def test_never_below_the_best_matching(n, seed, density):
    rng = np.random.default_rng(seed)
    # Coarse scores make many ties, where the LP's odd cycles appear.
    scores = rng.integers(1, 4, size=(n, n)) / 3.0
    scores = np.triu(scores, 1)
    scores = scores + scores.T
    allowed = np.triu(rng.random((n, n)) < density, 1)
    allowed = allowed | allowed.T
    optimum = best_matching(scores, allowed)
    bound = bound_for(scores, allowed)
    assert bound >= optimum - 1e-9
    # ... and, with every pair priced, never far above it on such small cases.
    assert bound <= optimum + 0.5 * n / 2 + 1e-6


def test_identical_odd_groups_no_longer_inflate_the_bound():
    # Five groups of three identical people: everyone scores 1 inside the group and 0.5 across
    # groups. The best matching pairs within groups and the five left over across them.
    n = 15
    group = np.repeat(np.arange(5), 3)
    weights = np.where(group[:, None] == group[None, :], 1.0, 0.5)
    allowed = ~np.eye(n, dtype=bool)
    optimum = best_matching(weights, allowed)
    assert abs(optimum - (5 * 1.0 + 2 * 0.5)) < 1e-9  # a pair in each group, two across
    # The plain LP says 7.5 (half of every triangle); the odd sets, the groups and then the
    # cycle through the five leftovers, bring it down to the optimum itself.
    assert abs(bound_for(weights, allowed) - optimum) < 1e-6
