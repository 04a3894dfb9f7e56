"""Construction: hardest people first (fewest allowed partners), each seeds a circle that grows
greedily with the candidate most compatible with everyone already in it."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from .oracle import Neighbourhoods
from .params import NEIGHBOURS
from .state import State

IntArray = NDArray[np.intp]
BoolArray = NDArray[np.bool_]


def difficulty_order(neighbours: Neighbourhoods, rng: np.random.Generator) -> IntArray:
    """People with the fewest allowed partners first (ties in a seeded random order)."""
    n = len(neighbours.degree)
    return np.lexsort((rng.permutation(n), neighbours.degree)).astype(np.intp)


def candidate_pool(
    state: State, neighbours: Neighbourhoods, person: int, free: BoolArray
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


def grow_circle(
    state: State,
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


def construct(state: State, neighbours: Neighbourhoods, rng: np.random.Generator) -> None:
    """Greedy circles of the smallest size, seeded by the hardest people first.

    Small circles score best (a person's mean with few close partners beats that with many);
    the repair and search phases grow circles where that places more people.
    """
    free = np.ones(state.n, dtype=bool)
    for person in difficulty_order(neighbours, rng).tolist():
        if not free[person] or neighbours.degree[person] < state.lo - 1:
            continue
        candidates = candidate_pool(state, neighbours, person, free)
        members = grow_circle(state, person, candidates, free, state.lo)
        if len(members) >= state.lo:
            state.new_circle(members)
            free[members] = False
