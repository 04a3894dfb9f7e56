"""Polish: every single move and every swap between circles, exhaustively, until none improves.

The local search (moves.py) looks at the circles of each person's candidate neighbours, so a swap
with someone outside them is never tried. With the dense oracle every pair's score is in memory,
and this step evaluates ALL of them: for each person p and circle B, S[p, B] (p's score sum with
B's members) and the number of B's members p may not meet; from those,

- moving p from A to B gains v(B + p) - v(B) + v(A - p) - v(A)   (sizes stay within bounds);
- swapping p in A with q in B gains 2 (S[q, A] - S[p, A] - w_pq) / (|A| - 1)
                                   + 2 (S[p, B] - S[q, B] - w_pq) / (|B| - 1),

valid when p meets all of B but q and q all of A but p. The best improving actions on disjoint
circles are applied, and only rows of circles that changed are evaluated again (a pair whose two
circles did not change keeps its gain, which was not an improvement). It stops when nothing
improves by more than MIN_GAIN or the time is up, and reports the largest gain still available
(0 when the result is a local optimum for moves and swaps). Pools with balance attributes skip
it (their penalty is the local search's business).
"""

from __future__ import annotations

import time

import numpy as np
from numpy.typing import NDArray

from .oracle import DenseOracle
from .params import PLACE_BONUS
from .state import State, circle_value

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]

ROWS = 256
# Smaller gains are within the dense keys' rounding (about 2e-5 a score).
MIN_GAIN = 1e-4
MAX_ROUNDS = 200


class _Sums:
    """S[p, c] and conflicts[p, c] for every person and circle slot, kept current."""

    def __init__(self, state: State, matrix: NDArray[np.float32]) -> None:
        self.state = state
        self.matrix = matrix
        slots = state.members.shape[0]
        self.sums = np.zeros((state.n, slots), dtype=np.float32)
        self.conflicts = np.zeros((state.n, slots), dtype=np.int16)
        self.self_conflict = np.isnan(matrix[np.arange(state.n), np.arange(state.n)])

    def update(self, circles: IntArray) -> None:
        state = self.state
        circles = circles[state.size[circles] > 0]
        if len(circles) == 0:
            return
        if state.members.shape[0] > self.sums.shape[1]:
            extra = state.members.shape[0] - self.sums.shape[1]
            self.sums = np.hstack([self.sums, np.zeros((state.n, extra), dtype=np.float32)])
            self.conflicts = np.hstack([self.conflicts, np.zeros((state.n, extra), dtype=np.int16)])
        rows = state.members[circles]
        valid = rows >= 0
        flat = rows[valid]
        sizes = valid.sum(axis=1)
        offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]])
        for start in range(0, state.n, ROWS * 4):
            block = self.matrix[start : start + ROWS * 4][:, flat]
            missing = np.isnan(block)
            self.sums[start : start + ROWS * 4, circles] = np.add.reduceat(
                np.where(missing, np.float32(0.0), block), offsets, axis=1
            )
            self.conflicts[start : start + ROWS * 4, circles] = np.add.reduceat(
                missing.astype(np.int16), offsets, axis=1
            )
        # A person is not in conflict with themself.
        inside = np.flatnonzero(np.isin(state.circle_of, circles) & self.self_conflict)
        self.conflicts[inside, state.circle_of[inside]] -= 1


def polish(state: State, deadline: float) -> float:
    """Apply improving moves and swaps until none is left (see the module docstring); returns
    the largest gain of a move or swap still available (NaN when the step does not apply or ran
    out of time before scoring every swap)."""
    if not isinstance(state.oracle, DenseOracle) or state.balance or state.count == 0:
        return float("nan")
    sums = _Sums(state, state.oracle.matrix)
    alive = np.flatnonzero(state.size[: state.count] > 0)
    sums.update(alive)
    rows = np.arange(state.n, dtype=np.intp)
    largest = 0.0
    for _ in range(MAX_ROUNDS):
        swaps, complete = _swaps(state, sums, rows, deadline)
        actions = _moves(state, sums) + swaps
        largest = max((gain for gain, _, _ in actions), default=0.0)
        if not complete:
            # Out of time before every swap was scored: what is left is not known.
            _apply(state, actions)
            return float("nan")
        if largest <= MIN_GAIN or time.perf_counter() > deadline:
            break
        changed = _apply(state, actions)
        if not changed:
            break
        changed_circles = np.unique(np.asarray(changed, dtype=np.intp))
        sums.update(changed_circles)
        rows = np.flatnonzero(np.isin(state.circle_of, changed_circles)).astype(np.intp)
    return max(largest, 0.0)


def _moves(state: State, sums: _Sums) -> list[tuple[float, int, int]]:
    """Each person's best move into another circle with room: (gain, person, -1 - circle)."""
    alive = np.flatnonzero(state.size[: state.count] > 0)
    size = state.size[alive]
    weight = state.weight[alive]
    base = circle_value(size, weight)
    has_room = size < state.hi
    home = state.circle_of
    placed = home >= 0
    safe = np.maximum(home, 0)
    own = sums.sums[np.arange(state.n), safe].astype(np.float64)
    leave = np.where(
        placed,
        circle_value(state.size[safe] - 1, state.weight[safe] - own)
        - circle_value(state.size[safe], state.weight[safe]),
        PLACE_BONUS,
    )
    may_leave = ~placed | (state.size[safe] > state.lo)
    actions: list[tuple[float, int, int]] = []
    for start in range(0, state.n, ROWS * 4):
        rows = np.arange(start, min(state.n, start + ROWS * 4))
        joined = circle_value(size + 1, weight[None, :] + sums.sums[rows][:, alive])
        gain = joined - base[None, :] + leave[rows, None]
        ok = (sums.conflicts[rows][:, alive] == 0) & has_room[None, :]
        ok &= may_leave[rows, None] & (alive[None, :] != home[rows, None])
        gain = np.where(ok, gain, -np.inf)
        best = np.argmax(gain, axis=1)
        best_gain = gain[np.arange(len(rows)), best]
        for k in np.flatnonzero(best_gain > MIN_GAIN).tolist():
            actions.append((float(best_gain[k]), int(rows[k]), -1 - int(alive[best[k]])))
    return actions


def _swaps(
    state: State, sums: _Sums, rows: IntArray, deadline: float
) -> tuple[list[tuple[float, int, int]], bool]:
    """For each of `rows` (placed), the best swap with anyone in another circle: (gain, p, q);
    and whether every row was scored before the deadline."""
    home = state.circle_of
    placed = home >= 0
    rows = rows[placed[rows]]
    safe = np.maximum(home, 0)
    everyone = np.arange(state.n)
    own = sums.sums[everyone, safe]
    factor = np.where(placed, 2.0 / np.maximum(state.size[safe] - 1, 1), 0.0).astype(np.float32)
    actions: list[tuple[float, int, int]] = []
    for start in range(0, len(rows), ROWS):
        if time.perf_counter() > deadline:
            return actions, False
        p = rows[start : start + ROWS]
        a = home[p]
        score = sums.matrix[p]  # (R, n): w_pq, NaN where not allowed
        blocked = np.isnan(score)
        w = np.where(blocked, np.float32(0.0), score)
        q_with_a = sums.sums[:, a].T  # S[q, A_p]
        p_with_b = sums.sums[p][:, safe]  # S[p, B_q]
        ok = placed[None, :] & (a[:, None] != home[None, :])
        ok &= sums.conflicts[:, a].T - blocked == 0
        ok &= sums.conflicts[p][:, safe] - blocked == 0
        gain = factor[p][:, None] * (q_with_a - own[p][:, None] - w)
        gain += factor[None, :] * (p_with_b - own[None, :] - w)
        gain = np.where(ok, gain, -np.inf)
        best = np.argmax(gain, axis=1)
        best_gain = gain[np.arange(len(p)), best]
        for k in np.flatnonzero(best_gain > MIN_GAIN).tolist():
            actions.append((float(best_gain[k]), int(p[k]), int(best[k])))
    return actions, True


def _apply(state: State, actions: list[tuple[float, int, int]]) -> list[int]:
    """Apply the best actions that share no circle and no person; returns the circles changed."""
    touched: set[int] = set()
    people: set[int] = set()
    changed: list[int] = []
    for _, p, other in sorted(actions, key=lambda action: (-action[0], action[1], action[2])):
        origin = int(state.circle_of[p])
        if other < 0:
            target, q = -1 - other, -1
        else:
            target, q = int(state.circle_of[other]), other
        involved = {target} | ({origin} if origin >= 0 else set())
        if involved & touched or p in people or q in people:
            continue
        touched |= involved
        people |= {p, q}
        if origin >= 0:
            state.remove(p)
        if q >= 0:
            state.remove(q)
            state.add(q, origin)
        state.add(p, target)
        changed.extend(involved)
    if changed:
        state.refresh(np.asarray(changed, dtype=np.intp))
    return changed
