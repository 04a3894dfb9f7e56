"""Re-partition: the members of two neighbouring circles re-split in the best way, for many
pairs of circles at once."""

from __future__ import annotations

import itertools

import numpy as np
from numpy.typing import NDArray

from .balance import split_penalty
from .oracle import Neighbourhoods
from .params import EPSILON
from .state import State, circle_value

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]
BoolArray = NDArray[np.bool_]

# Re-partition: each circle's most linked neighbouring circles, and pairs scored per batch.
PAIRS_PER_CIRCLE = 8
REPARTITION_BATCH = 256
_MASK_CACHE: dict[tuple[int, int, int], BoolArray] = {}


def repartition(
    state: State, neighbours: Neighbourhoods, dirty: BoolArray | None = None
) -> list[int]:
    """Re-split the members of two neighbouring circles in the best way, for many pairs at once.

    Two circles of sizes s and t are pooled and every split into two valid sizes is scored
    (at most a few thousand splits: C(14, 7) = 3432); this covers every move and swap between
    them and every multiple exchange. Pairs of circles are those linked most often by members'
    neighbourhoods; the best improving re-splits of disjoint pairs are applied. With `dirty`,
    only pairs with a circle that changed since the last look. Returns the circles changed.
    """
    pairs = _linked_circle_pairs(state, neighbours, dirty)
    if dirty is not None and len(pairs):
        pairs = pairs[dirty[pairs[:, 0]] | dirty[pairs[:, 1]]]
    if len(pairs) == 0:
        return []
    totals = state.size[pairs[:, 0]] + state.size[pairs[:, 1]]
    best_gain = np.full(len(pairs), -np.inf)
    best_split: list[BoolArray | None] = [None] * len(pairs)
    for total in np.unique(totals).tolist():
        masks = _split_masks(int(total), state.lo, state.hi)
        chosen = np.flatnonzero(totals == total)
        if len(masks) == 0:
            continue
        for start in range(0, len(chosen), REPARTITION_BATCH):
            group = chosen[start : start + REPARTITION_BATCH]
            gains, picks = _score_splits(state, pairs[group], masks)
            best_gain[group] = gains
            for k, pick in zip(group.tolist(), picks.tolist(), strict=True):
                best_split[k] = masks[pick]
    used: set[int] = set()
    changed: list[int] = []
    for k in np.argsort(-best_gain, kind="stable").tolist():
        if not best_gain[k] > EPSILON:
            break
        first, second = int(pairs[k, 0]), int(pairs[k, 1])
        if first in used or second in used:
            continue
        used |= {first, second}
        split = best_split[k]
        assert split is not None
        pooled = _pooled(state, pairs[k : k + 1])[0]
        state.replace(first, pooled[split].tolist())
        state.replace(second, pooled[~split].tolist())
        changed += [first, second]
    if changed:
        state.refresh(np.asarray(changed, dtype=np.intp))
    return changed


def _linked_circle_pairs(
    state: State, neighbours: Neighbourhoods, dirty: BoolArray | None = None
) -> IntArray:
    """Pairs of circles (first < second) most linked by members' neighbour lists (with `dirty`,
    counted from the members of those circles only)."""
    if dirty is None:
        placed = np.flatnonzero(state.circle_of >= 0)
    else:
        rows = state.members[np.flatnonzero(dirty[: state.members.shape[0]])]
        placed = rows[rows >= 0]
    if len(placed) == 0:
        return np.zeros((0, 2), dtype=np.intp)
    partners = neighbours.partners[placed]
    own = np.repeat(state.circle_of[placed], partners.shape[1])
    other = np.where(partners >= 0, state.circle_of[np.maximum(partners, 0)], -1).ravel()
    keep = (other >= 0) & (other != own)
    low = np.minimum(own[keep], other[keep]).astype(np.int64)
    high = np.maximum(own[keep], other[keep]).astype(np.int64)
    keys, counts = np.unique(low * state.members.shape[0] + high, return_counts=True)
    first = keys // state.members.shape[0]
    second = keys % state.members.shape[0]
    # Keep each circle's most linked partners.
    order = np.lexsort((-counts, first))
    rank = np.arange(len(order)) - np.searchsorted(first[order], first[order])
    kept = order[rank < PAIRS_PER_CIRCLE]
    return np.stack([first[kept], second[kept]], axis=1).astype(np.intp)


def _pooled(state: State, pairs: IntArray) -> IntArray:
    """The members of both circles of each pair, side by side (same total size per call)."""
    rows = np.concatenate([state.members[pairs[:, 0]], state.members[pairs[:, 1]]], axis=1)
    order = np.argsort(rows < 0, axis=1, kind="stable")
    rows = np.take_along_axis(rows, order, axis=1)
    total = int(state.size[pairs[0, 0]] + state.size[pairs[0, 1]])
    pooled: IntArray = rows[:, :total]
    return pooled


def _split_masks(total: int, lo: int, hi: int) -> BoolArray:
    """Every split of `total` pooled people into two valid circles (first part as a mask)."""
    key = (total, lo, hi)
    if key not in _MASK_CACHE:
        masks: list[list[bool]] = []
        for size in range(lo, hi + 1):
            rest = total - size
            if not lo <= rest <= hi or size > rest:
                continue
            for combo in itertools.combinations(range(total), size):
                if size == rest and combo[0] != 0:
                    continue  # the same split with the parts swapped
                mask = [False] * total
                for k in combo:
                    mask[k] = True
                masks.append(mask)
        _MASK_CACHE[key] = np.asarray(masks, dtype=bool).reshape(len(masks), total)
    return _MASK_CACHE[key]


def _score_splits(state: State, pairs: IntArray, masks: BoolArray) -> tuple[FloatArray, IntArray]:
    """For each pair of circles, the gain of its best valid split and which split it is."""
    pooled = _pooled(state, pairs)  # (P, t)
    count, total = pooled.shape
    first = np.broadcast_to(pooled[:, :, None], (count, total, total))
    second = np.broadcast_to(pooled[:, None, :], (count, total, total))
    off_diagonal = ~np.eye(total, dtype=bool)
    scores = np.zeros((count, total, total))
    allowed = np.ones((count, total, total), dtype=bool)
    values, ok = state.oracle.pairs(first[:, off_diagonal], second[:, off_diagonal])
    scores[:, off_diagonal] = values
    allowed[:, off_diagonal] = ok
    inside = masks.astype(np.float64).T  # (t, M)
    outside = 1.0 - inside
    conflicts = (~allowed).astype(np.float64)

    def within(matrix: FloatArray, part: FloatArray) -> FloatArray:
        result: FloatArray = np.einsum("pim,im->pm", matrix @ part, part) / 2.0
        return result

    size_in = inside.sum(axis=0)
    size_out = total - size_in
    value = 2.0 * within(scores, inside) / (size_in - 1) + 2.0 * within(scores, outside) / (
        size_out - 1
    )
    bad = within(conflicts, inside) + within(conflicts, outside)
    if state.balance:
        value -= split_penalty(state, pooled, inside)
    value = np.where(bad > 0.5, -np.inf, value)
    pick = np.argmax(value, axis=1).astype(np.intp)
    current = circle_value(state.size[pairs[:, 0]], state.weight[pairs[:, 0]]) + circle_value(
        state.size[pairs[:, 1]], state.weight[pairs[:, 1]]
    )
    if state.balance:
        current -= state.penalty(pairs[:, 0]) + state.penalty(pairs[:, 1])
    gain = value[np.arange(count), pick] - current
    return gain, pick
