"""The result: exact scores of every circle, reasons, people left out and why, and the bound."""

from __future__ import annotations

import math
import time
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from peermentor.matching import explain
from peermentor.matching.model import Group, MatchResult, Placement, Policy, Unmatched

from .oracle import DenseOracle, Neighbourhoods
from .params import BALANCE_WEIGHT
from .state import State

if TYPE_CHECKING:
    from peermentor.matching.scoring import Scorer

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]
BoolArray = NDArray[np.bool_]


def build_result(
    scorer: Scorer,
    policy: Policy,
    pool: IntArray,
    fixed: list[list[int]],
    state: State,
    neighbours: Neighbourhoods,
    started: float,
    sweeps: int,
    relaxed: float,
) -> MatchResult:
    """The result; the bound is the smaller of two valid ones: the relaxation's (`relaxed`,
    bound.py) and each person's mean with their best lo - 1 allowed partners."""
    assert policy.group_size is not None
    lo, hi = policy.group_size
    circles, is_fixed = _all_circles(pool, fixed, state)
    scored = _exact_circles(scorer, circles)
    # The oracle decides allowed pairs exactly; this is a guard, never expected to fire.
    for k, (members, (_, allowed)) in enumerate(zip(circles, scored, strict=True)):
        if not is_fixed[k] and not allowed.all():
            raise RuntimeError(f"circle {members} holds a pair that is not allowed")
    groups, total, fixed_total = _groups(scorer, circles, scored, is_fixed)
    unmatched = _unmatched(scorer, pool, state, neighbours, lo, hi)
    free_bound = float(neighbours.top_mean.sum())
    free_bound = min(free_bound, relaxed)
    bound = max(total, fixed_total + free_bound)
    imbalance = float(state.penalty(np.flatnonzero(state.size[: state.count] > 0)).sum())
    return MatchResult(
        groups=tuple(groups),
        unmatched=tuple(unmatched),
        total_score=total,
        upper_bound=bound,
        seconds=time.perf_counter() - started,
        placed=sum(len(group.members) for group in groups),
        stats={
            "circles": float(len(groups)),
            "sweeps": float(sweeps),
            "balance_penalty": imbalance / BALANCE_WEIGHT if state.balance else 0.0,
            "share_of_bound": total / bound if bound > 0 else 1.0,
            "bound_by_best_partners": fixed_total + float(neighbours.top_mean.sum()),
            "dense": 1.0 if isinstance(state.oracle, DenseOracle) else 0.0,
        },
    )


def _all_circles(
    pool: IntArray, fixed: list[list[int]], state: State
) -> tuple[list[list[int]], list[bool]]:
    """Fixed circles, then the solver's (scorer indices), and which of them are fixed."""
    circles: list[list[int]] = [[int(i) for i in group] for group in fixed]
    is_fixed = [True] * len(fixed)
    for circle in range(state.count):
        if state.size[circle] == 0:
            continue
        row = state.members[circle]
        circles.append([int(pool[p]) for p in row[row >= 0].tolist()])
        is_fixed.append(False)
    return circles, is_fixed


def _groups(
    scorer: Scorer,
    circles: list[list[int]],
    scored: list[tuple[FloatArray, BoolArray]],
    is_fixed: list[bool],
) -> tuple[list[Group], float, float]:
    """The circles as groups (numbered in order of their first id), with each member's reasons
    taken from their best partner in the circle; the total and the fixed circles' part of it."""
    order = sorted(range(len(circles)), key=lambda k: min(scorer.ids[i] for i in circles[k]))
    best_partner: list[tuple[int, int]] = []
    for k in order:
        scores, _ = scored[k]
        members = circles[k]
        for position, person in enumerate(members):
            row = scores[position].copy()
            row[position] = -np.inf
            best_partner.append((person, members[int(np.argmax(row))]))
    texts = iter(
        explain.reasons_for_pairs(
            scorer,
            np.asarray([a for a, _ in best_partner], dtype=np.intp),
            np.asarray([b for _, b in best_partner], dtype=np.intp),
        )
    )
    groups: list[Group] = []
    total = 0.0
    fixed_total = 0.0
    for number, k in enumerate(order, start=1):
        scores, _ = scored[k]
        members = circles[k]
        size = len(members)
        pair_sum = math.fsum(scores[np.triu_indices(size, 1)].tolist())
        mean = pair_sum / (size * (size - 1) / 2) if size >= 2 else 0.0
        value = size * mean
        total += value
        if is_fixed[k]:
            fixed_total += value
        placements = [
            Placement(person_id=scorer.ids[person], role="member", score=mean, reasons=next(texts))
            for person in members
        ]
        placements.sort(key=lambda placement: placement.person_id)
        groups.append(Group(id=f"circle-{number}", members=tuple(placements), score=value))
    return groups, total, fixed_total


def _exact_circles(scorer: Scorer, circles: list[list[int]]) -> list[tuple[FloatArray, BoolArray]]:
    """Exact pair scores and allowed flags inside each circle (diagonal: 0 and True), scored
    in one call."""
    uppers = [np.triu_indices(len(members), 1) for members in circles]
    first = [
        np.asarray(members, dtype=np.intp)[upper[0]]
        for members, upper in zip(circles, uppers, strict=True)
    ]
    second = [
        np.asarray(members, dtype=np.intp)[upper[1]]
        for members, upper in zip(circles, uppers, strict=True)
    ]
    if circles and sum(len(f) for f in first):
        values, ok = scorer.pair_scores(np.concatenate(first), np.concatenate(second))
    else:
        values, ok = np.zeros(0), np.zeros(0, dtype=bool)
    result: list[tuple[FloatArray, BoolArray]] = []
    offset = 0
    for members, (rows, cols) in zip(circles, uppers, strict=True):
        size = len(members)
        count = len(rows)
        scores = np.zeros((size, size))
        allowed = np.ones((size, size), dtype=bool)
        scores[rows, cols] = scores[cols, rows] = values[offset : offset + count]
        allowed[rows, cols] = allowed[cols, rows] = ok[offset : offset + count]
        offset += count
        result.append((scores, allowed))
    return result


def _unmatched(
    scorer: Scorer,
    pool: IntArray,
    state: State,
    neighbours: Neighbourhoods,
    lo: int,
    hi: int,
) -> list[Unmatched]:
    left_out = np.flatnonzero(state.circle_of < 0).astype(np.intp)
    if len(left_out) == 0:
        return []
    reasons: list[str]
    if len(pool) < lo:
        reasons = [f"too few people for a circle of at least {lo}"] * len(left_out)
    else:
        counts = state.oracle.allowed_counts(left_out)
        placed = np.zeros(scorer.n, dtype=bool)
        placed[pool[state.circle_of >= 0]] = True
        base = explain.unmatched_reasons(scorer, pool[left_out], placed, pool)
        reasons = []
        for count, text in zip(counts.tolist(), base, strict=True):
            if count == 0:
                reasons.append(text)
            elif count < lo - 1:
                reasons.append(
                    f"only {count} allowed partner{'s' if count > 1 else ''}; a circle needs "
                    f"{lo - 1} who may all be grouped with them"
                )
            else:
                reasons.append(f"no circle of {lo} to {hi} could take them with every pair allowed")
    return [
        Unmatched(id=scorer.ids[int(pool[p])], reason=reason)
        for p, reason in sorted(
            zip(left_out.tolist(), reasons, strict=True),
            key=lambda item: scorer.ids[int(pool[item[0]])],
        )
    ]
