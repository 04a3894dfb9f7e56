"""Rounding: a matching from a (partial) assignment on the double cover, each path and cycle
matched optimally by dynamic programming."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from ..bounds import DoubleCover

IndexArray = NDArray[np.intp]


def round_assignment(assigned: IndexArray, cover: DoubleCover, bonus: float) -> IndexArray:
    """A matching from a (partial) assignment on the double cover.

    The assignment maps bidders to objects without repeats, so its components are cycles and
    paths of people; 2-cycles are pairs, and every longer cycle or path is matched optimally by
    dynamic programming along it.
    """
    m = len(assigned)
    positions = np.arange(m)
    mate = np.full(m, -1, dtype=np.intp)
    has_object = assigned >= 0
    target = np.where(has_object, assigned, 0)
    two_cycle = has_object & (assigned[target] == positions) & (assigned != positions)
    mate[two_cycle] = assigned[two_cycle]
    settled = two_cycle | (assigned == positions)
    has_preimage = np.zeros(m, dtype=np.bool_)
    has_preimage[assigned[has_object]] = True
    seen = settled.copy()
    successor = assigned.tolist()
    # Paths start where nobody points; what is left unseen afterwards lies on cycles.
    starts = [
        *np.flatnonzero(~settled & ~has_preimage).tolist(),
        *np.flatnonzero(~settled).tolist(),
    ]
    for start in starts:
        if seen[start]:
            continue
        chain = [start]
        seen[start] = True
        current = successor[start]
        while current >= 0 and not seen[current]:
            seen[current] = True
            chain.append(current)
            current = successor[current]
        closed = current == start
        if len(chain) < 2:
            continue
        nodes = np.array(chain, dtype=np.intp)
        if closed:
            following = np.roll(nodes, -1)
        else:
            nodes, following = nodes[:-1], nodes[1:]
        weights = cover.value_of(nodes, following).tolist()
        for a, b in _match_chain(chain, weights, closed):
            mate[a] = b
            mate[b] = a
    return mate


def _best_on_path(weights: Sequence[float]) -> tuple[float, list[int]]:
    """Maximum-weight set of non-adjacent edges on a path (edge t joins nodes t and t+1)."""
    count = len(weights)
    if count == 0:
        return 0.0, []
    # best[t]: best value using edges < t; took[t]: whether edge t-1 is used in it.
    best = [0.0] * (count + 1)
    took = [False] * (count + 1)
    for t in range(1, count + 1):
        skip = best[t - 1]
        take = (best[t - 2] if t >= 2 else 0.0) + weights[t - 1] + 1e-9  # more pairs on ties
        if take > skip:
            best[t], took[t] = take, True
        else:
            best[t] = skip
    chosen: list[int] = []
    t = count
    while t > 0:
        if took[t]:
            chosen.append(t - 1)
            t -= 2
        else:
            t -= 1
    return best[count], chosen[::-1]


def _match_chain(
    nodes: Sequence[int], weights: Sequence[float], closed: bool
) -> list[tuple[int, int]]:
    """Maximum-weight matching on a path (or a cycle when `closed`) of people."""
    length = len(nodes)
    if not closed:
        _, edges = _best_on_path(weights)
        return [(nodes[e], nodes[e + 1]) for e in edges]
    if length == 2:
        return [(nodes[0], nodes[1])]
    # Either the closing edge is unused (a path of the other edges), or it is used and its two
    # neighbouring edges are not.
    without_value, without_edges = _best_on_path(weights[: length - 1])
    inner_value, inner_edges = _best_on_path(weights[1 : length - 2])
    with_value = inner_value + weights[length - 1] + 1e-9
    if with_value > without_value:
        edges = [e + 1 for e in inner_edges] + [length - 1]
    else:
        edges = without_edges
    return [(nodes[e], nodes[(e + 1) % length]) for e in edges]
