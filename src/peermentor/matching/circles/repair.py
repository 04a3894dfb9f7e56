"""Repair: people left out are inserted where every pair stays allowed, directly or by moving
a member of a full circle elsewhere; leftovers then form new circles, borrowing members from circles
that can spare one; windows around the rest are re-formed by exhaustive search."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from .build import candidate_pool, difficulty_order
from .exact import best_partition
from .oracle import Neighbourhoods
from .state import State, circle_value

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]
BoolArray = NDArray[np.bool_]

# Exhaustive re-forming around someone left out: window size and how many tries per round.
WINDOW = 10
MAX_WINDOW_REPAIRS = 200
# Rounds of inserting and re-forming circles for people left out.
REPAIR_ROUNDS = 4


def repair_unplaced(state: State, neighbours: Neighbourhoods, rng: np.random.Generator) -> bool:
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


def _window_repair(state: State, neighbours: Neighbourhoods, rng: np.random.Generator) -> bool:
    """For each person still left out: take them, their unplaced neighbours and the circles of
    their placed neighbours (up to WINDOW people), and re-form circles there by exhaustive
    search; keep the result if it places more people (or as many, scoring higher)."""
    changed = False
    tries = 0
    for person in difficulty_order(neighbours, rng).tolist():
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
        placed, _, best = best_partition(state, window)
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


def _insert_unplaced(state: State, neighbours: Neighbourhoods) -> None:
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
            gain = circle_value(state.size[circles] + 1, state.weight[circles] + fits.total)
            gain -= circle_value(state.size[circles], state.weight[circles])
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


def _fit(state: State, person: int, circles: IntArray) -> _Fit:
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


def _circles_near(state: State, neighbours: Neighbourhoods, person: int) -> IntArray:
    listed = neighbours.partners[person]
    listed = listed[listed >= 0]
    circles = np.unique(state.circle_of[listed])
    circles = circles[circles >= 0]
    own = state.circle_of[person]
    result: IntArray = circles[circles != own].astype(np.intp)
    return result


def _eject_for(
    state: State, neighbours: Neighbourhoods, person: int, circles: IntArray, fits: _Fit
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
    state: State, neighbours: Neighbourhoods, rng: np.random.Generator
) -> bool:
    """New circles around people left out. Members come from the unplaced first, then from
    circles that can spare one, then from circles at the smallest size when another unplaced
    person can take the borrowed member's seat. Returns whether anyone was placed."""
    changed = False
    for person in difficulty_order(neighbours, rng).tolist():
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
    state: State, neighbours: Neighbourhoods, person: int
) -> tuple[list[int], dict[int, int]] | None:
    """Members for a new circle around `person`, and who takes each borrowed member's seat."""
    available = np.ones(state.n, dtype=bool)
    available[person] = False
    candidates = candidate_pool(state, neighbours, person, available)
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


def _seat_taker(state: State, circle: int, leaving: int, reserved: set[int]) -> int:
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
