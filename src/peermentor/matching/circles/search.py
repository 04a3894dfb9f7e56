"""Local search: sweeps of batched moves and swaps and re-partitions of neighbouring circles,
then iterated local search (dissolve a few linked circles, re-form, keep if better)."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from peermentor.matching.model import ProgressCallback

from .build import grow_circle
from .moves import improve_batch
from .oracle import Neighbourhoods
from .params import EPSILON, PLACE_BONUS
from .repair import repair_unplaced
from .repartition import repartition
from .state import State

IntArray = NDArray[np.intp]
BoolArray = NDArray[np.bool_]

# People evaluated together in one vectorised local-search step.
BATCH = 256
MAX_SWEEPS = 12
# A sweep that improves the objective by less than this (relative) ends the search.
MIN_SWEEP_GAIN = 1e-6
# Iterated local search: rounds of dissolving PERTURB_CIRCLES linked circles and re-forming them
# (one round per PEOPLE_PER_PERTURBATION people, at most MAX_PERTURBATIONS).
PERTURB_CIRCLES = 4
PEOPLE_PER_PERTURBATION = 40
MAX_PERTURBATIONS = 150


def local_search(
    state: State,
    neighbours: Neighbourhoods,
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
            changed += improve_batch(state, neighbours, order[start : start + BATCH])
        changed += repartition(state, neighbours, dirty)
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


def perturb(
    state: State,
    neighbours: Neighbourhoods,
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
            members = grow_circle(state, person, pool[free[pool]], free, state.lo)
            if len(members) >= state.lo:
                created.append(state.new_circle(members))
                free[members] = False
            else:
                free[person] = True
        if (state.circle_of[pool] < 0).any():
            repair_unplaced(state, neighbours, rng)
        dirty = np.zeros(state.members.shape[0], dtype=bool)
        dirty[created] = True
        dirty[state.circle_of[pool][state.circle_of[pool] >= 0]] = True
        local_search(state, neighbours, rng, progress, dirty)
        after = (state.placed(), state.objective())
        if after[0] > before[0] or (after[0] == before[0] and after[1] > before[1] + EPSILON):
            kept += 1
        else:
            state.restore(snapshot)
    return kept


def _linked_group(state: State, neighbours: Neighbourhoods, centre: int) -> list[int]:
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
    state: State, neighbours: Neighbourhoods, people: IntArray, dirty: BoolArray
) -> BoolArray:
    """Which of `people` are unplaced, in a changed circle, or have a neighbour in one."""
    home = state.circle_of[people]
    near = np.where(home >= 0, dirty[np.maximum(home, 0)], True)
    listed = neighbours.partners[people]
    circles = np.where(listed >= 0, state.circle_of[np.maximum(listed, 0)], -1)
    near |= (dirty[np.maximum(circles, 0)] & (circles >= 0)).any(axis=1)
    return near
