"""One vectorised local-search step: every move of a batch of people to a neighbour's circle
and every swap with a member of one, evaluated at once; the best disjoint improvements applied."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from .balance import balance_move, balance_swap
from .oracle import Neighbourhoods
from .params import EPSILON, PLACE_BONUS
from .state import State, circle_value

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]
BoolArray = NDArray[np.bool_]

# Swaps are tried with the members of each person's most promising candidate circles.
SWAP_CIRCLES = 8


@dataclass
class _Batch:
    """A batch of people, their home circles and the candidate circles of their neighbours."""

    people: IntArray  # (B,)
    home: IntArray  # (B,) home circle, -1 if unplaced
    placed: BoolArray
    circles: IntArray  # (B, K) candidate circles, -1 padded
    rows: IntArray  # (B, K, hi) their members, -1 padded
    scores: FloatArray  # (B, K, hi) person's score with each member
    allowed: BoolArray  # (B, K, hi) (True on empty slots)
    total: FloatArray  # (B, K) person's score sum with each candidate circle
    conflicts: NDArray[np.int64]  # (B, K) members the person may not be grouped with
    size_c: NDArray[np.int64]
    weight_c: FloatArray
    base_c: FloatArray  # value of each candidate circle now
    size_h: NDArray[np.int64]
    weight_h: FloatArray
    base_h: FloatArray  # value of each home circle now (0 if unplaced)
    own: FloatArray  # person's score sum with the rest of their home circle


def improve_batch(state: State, neighbours: Neighbourhoods, people: IntArray) -> list[int]:
    """Evaluate every move and swap for a batch at once; apply the best disjoint improvements.

    Returns the circles that changed."""
    people = people[neighbours.degree[people] >= state.lo - 1]
    if len(people) == 0:
        return []
    batch = _batch(state, neighbours, people)
    move_gain = _move_gains(state, batch)
    swap_gain, swap_circles, q = _swap_gains(state, batch)
    return _apply_best(state, batch, move_gain, swap_gain, swap_circles, q)


def _batch(state: State, neighbours: Neighbourhoods, people: IntArray) -> _Batch:
    """Candidate circles (those of each person's neighbours, each once, never their own) and
    the person's scores with their members."""
    home = state.circle_of[people]
    placed = home >= 0
    safe_home = np.maximum(home, 0)
    listed = neighbours.partners[people]
    near = np.where(listed >= 0, state.circle_of[np.maximum(listed, 0)], -1)
    near[near == home[:, None]] = -1
    near = np.sort(near, axis=1)
    near[:, 1:][near[:, 1:] == near[:, :-1]] = -1
    circles = near
    has_circle = circles >= 0
    safe_circles = np.maximum(circles, 0)
    rows = state.members[safe_circles]
    rows = np.where(has_circle[:, :, None], rows, -1)
    valid = rows >= 0
    b_index = np.broadcast_to(people[:, None, None], rows.shape)
    scores = np.zeros(rows.shape)
    allowed = np.ones(rows.shape, dtype=bool)
    if valid.any():
        values, ok = state.oracle.pairs(b_index[valid], rows[valid])
        scores[valid] = values
        allowed[valid] = ok
    size_c = state.size[safe_circles]
    weight_c = state.weight[safe_circles]
    size_h = np.where(placed, state.size[safe_home], 0)
    weight_h = np.where(placed, state.weight[safe_home], 0.0)
    return _Batch(
        people=people,
        home=home,
        placed=placed,
        circles=circles,
        rows=rows,
        scores=scores,
        allowed=allowed,
        total=scores.sum(axis=2),
        conflicts=(~allowed).sum(axis=2),
        size_c=size_c,
        weight_c=weight_c,
        base_c=circle_value(size_c, weight_c),
        size_h=size_h,
        weight_h=weight_h,
        base_h=circle_value(size_h, weight_h),
        own=state.own[people],
    )


def _move_gains(state: State, b: _Batch) -> FloatArray:
    """(B, K): the gain of leaving home (if any) to join each candidate circle (-inf: invalid)."""
    can_leave = ~b.placed | (b.size_h > state.lo)
    move_ok = (b.circles >= 0) & (b.conflicts == 0) & (b.size_c < state.hi) & can_leave[:, None]
    leave_gain = np.where(
        b.placed, circle_value(b.size_h - 1, b.weight_h - b.own) - b.base_h, PLACE_BONUS
    )
    move_gain = leave_gain[:, None] + circle_value(b.size_c + 1, b.weight_c + b.total) - b.base_c
    if state.balance:
        move_gain -= balance_move(state, b.people, b.home, b.circles)
    result: FloatArray = np.where(move_ok, move_gain, -np.inf)
    return result


def _swap_gains(state: State, b: _Batch) -> tuple[FloatArray, IntArray, IntArray]:
    """Swaps with a member q of one of each person's most promising candidate circles (the
    person may conflict with q only, as q leaves): gains (B, S, hi), the circles (B, S) and q."""
    hi = state.hi
    people = b.people
    promise = np.where((b.circles >= 0) & (b.conflicts <= 1), b.total, -np.inf)
    width = min(SWAP_CIRCLES, b.circles.shape[1])
    top = np.argsort(-promise, axis=1, kind="stable")[:, :width]
    swap_circles = np.take_along_axis(b.circles, top, axis=1)
    swap_circles = np.where(np.isfinite(np.take_along_axis(promise, top, axis=1)), swap_circles, -1)
    q = np.take_along_axis(b.rows, top[:, :, None], axis=1)  # (B, S, hi)
    q = np.where(swap_circles[:, :, None] >= 0, q, -1)
    q_valid = q >= 0
    q_safe = np.maximum(q, 0)
    scores_s = np.take_along_axis(b.scores, top[:, :, None], axis=1)
    allowed_s = np.take_along_axis(b.allowed, top[:, :, None], axis=1)
    total_s = np.take_along_axis(b.total, top, axis=1)
    conflicts_s = np.take_along_axis(b.conflicts, top, axis=1)
    size_s = np.take_along_axis(b.size_c, top, axis=1)
    weight_s = np.take_along_axis(b.weight_c, top, axis=1)
    base_s = np.take_along_axis(b.base_c, top, axis=1)
    home_rows = state.members[np.maximum(b.home, 0)]  # (B, hi)
    home_rows = np.where(b.placed[:, None] & (home_rows != people[:, None]), home_rows, -1)
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
    swap_ok &= np.where(b.placed[:, None, None], q_home_conflicts == 0, True)
    new_weight_c = weight_s[:, :, None] - state.own[q_safe] + total_s[:, :, None] - scores_s
    new_weight_h = b.weight_h[:, None, None] - b.own[:, None, None] + q_home_total
    swap_gain = circle_value(size_s[:, :, None], new_weight_c) - base_s[:, :, None]
    swap_gain += np.where(
        b.placed[:, None, None],
        circle_value(b.size_h[:, None, None], new_weight_h) - b.base_h[:, None, None],
        0.0,
    )
    if state.balance:
        swap_gain -= balance_swap(state, people, b.home, swap_circles, q)
    swap_gain = np.where(swap_ok, swap_gain, -np.inf)
    return swap_gain, swap_circles, q


def _apply_best(
    state: State,
    b: _Batch,
    move_gain: FloatArray,
    swap_gain: FloatArray,
    swap_circles: IntArray,
    q: IntArray,
) -> list[int]:
    """Apply each person's best action, best first, skipping any that touch a circle or person
    already changed in this batch. Returns the circles that changed."""
    hi = state.hi
    people = b.people
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
        origin = int(b.home[k])
        if use_swap[k]:
            slot = int(best_swap[k])
            target = int(swap_circles[k, slot // hi])
            other = int(q[k, slot // hi, slot % hi])
        else:
            target = int(b.circles[k, best_move[k]])
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
