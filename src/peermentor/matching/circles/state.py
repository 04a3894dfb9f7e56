"""The state of a solution: circles over pool positions with their pair-score sums (and
balance head counts) kept up to date, snapshots to undo, and the objective."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from peermentor.matching.model import Policy

from .oracle import Oracle
from .params import BALANCE_WEIGHT

if TYPE_CHECKING:
    from peermentor.matching.scoring import Scorer

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]


def circle_value(size: NDArray[np.int64] | IntArray, weight: FloatArray) -> FloatArray:
    """A circle's score, 2 W / (s - 1): s times its mean pair score (0 below two people)."""
    return np.where(size >= 2, 2.0 * weight / np.maximum(size - 1, 1), 0.0)


@dataclass
class Balance:
    """Head counts per circle for one balance attribute (see State.penalty)."""

    codes: IntArray  # category per pool person
    shares: FloatArray  # the population's share per category
    counts: NDArray[np.int64] = field(default_factory=lambda: np.zeros((0, 0), dtype=np.int64))


def balance_codes(scorer: Scorer, policy: Policy, pool: IntArray) -> list[Balance]:
    result: list[Balance] = []
    for name in policy.balance:
        values = scorer.column(name)
        labels = ["; ".join(sorted(values[i])) for i in pool.tolist()]
        vocabulary = {label: k for k, label in enumerate(sorted(set(labels)))}
        codes = np.array([vocabulary[label] for label in labels], dtype=np.intp)
        shares = np.bincount(codes, minlength=len(vocabulary)) / max(len(codes), 1)
        result.append(Balance(codes=codes, shares=shares.astype(np.float64)))
    return result


@dataclass
class _Snapshot:
    circle_of: IntArray
    members: IntArray
    size: NDArray[np.int64]
    weight: FloatArray
    own: FloatArray
    count: int
    empty: list[int]
    counts: list[NDArray[np.int64]]


class State:
    """Circles over pool positions, with their pair-score sums kept up to date."""

    def __init__(self, n: int, lo: int, hi: int, oracle: Oracle, balance: list[Balance]) -> None:
        self.n, self.lo, self.hi = n, lo, hi
        self.oracle = oracle
        capacity = n // max(lo, 1) + 2
        self.circle_of = np.full(n, -1, dtype=np.intp)
        self.members = np.full((capacity, hi), -1, dtype=np.intp)
        self.size = np.zeros(capacity, dtype=np.int64)
        self.weight = np.zeros(capacity)  # sum of pair scores inside the circle
        self.own = np.zeros(n)  # each person's score sum with the rest of their circle
        self.count = 0  # circle slots used so far (some may be empty again)
        self.empty: list[int] = []  # dissolved slots to reuse
        self.balance = balance
        for attribute in balance:
            attribute.counts = np.zeros((capacity, len(attribute.shares)), dtype=np.int64)

    # -- objective

    def penalty(self, circles: IntArray) -> FloatArray:
        """Balance penalty of circles: sum over attributes of sum_k (count_k - s share_k)^2."""
        total = np.zeros(len(circles))
        for attribute in self.balance:
            expected = self.size[circles, None] * attribute.shares[None, :]
            total += ((attribute.counts[circles] - expected) ** 2).sum(axis=1)
        return BALANCE_WEIGHT * total

    def objective(self) -> float:
        alive = np.flatnonzero(self.size[: self.count] > 0)
        score = float(circle_value(self.size[alive], self.weight[alive]).sum())
        if self.balance:
            score -= float(self.penalty(alive).sum())
        return score

    # -- changes

    def new_circle(self, people: Sequence[int]) -> int:
        if self.empty:
            circle = self.empty.pop()
        else:
            circle = self.count
            self.count += 1
            if circle >= self.members.shape[0]:
                self._grow()
        self.members[circle] = -1
        self.members[circle, : len(people)] = people
        self.size[circle] = len(people)
        self.circle_of[list(people)] = circle
        for attribute in self.balance:
            attribute.counts[circle] = np.bincount(
                attribute.codes[list(people)], minlength=len(attribute.shares)
            )
        self.refresh(np.array([circle], dtype=np.intp))
        return circle

    def snapshot(self) -> _Snapshot:
        """Everything needed to undo later changes (see restore)."""
        return _Snapshot(
            circle_of=self.circle_of.copy(),
            members=self.members.copy(),
            size=self.size.copy(),
            weight=self.weight.copy(),
            own=self.own.copy(),
            count=self.count,
            empty=list(self.empty),
            counts=[attribute.counts.copy() for attribute in self.balance],
        )

    def restore(self, saved: _Snapshot) -> None:
        self.circle_of = saved.circle_of
        self.members = saved.members
        self.size = saved.size
        self.weight = saved.weight
        self.own = saved.own
        self.count = saved.count
        self.empty = saved.empty
        for attribute, counts in zip(self.balance, saved.counts, strict=True):
            attribute.counts = counts

    def dissolve(self, circle: int) -> None:
        """Everyone in the circle becomes unplaced; the slot is reused by the next circle."""
        row = self.members[circle]
        people = row[row >= 0]
        self.circle_of[people] = -1
        self.own[people] = 0.0
        row[:] = -1
        self.size[circle] = 0
        self.weight[circle] = 0.0
        for attribute in self.balance:
            attribute.counts[circle] = 0
        self.empty.append(circle)

    def _grow(self) -> None:
        extra = max(16, self.members.shape[0] // 2)
        self.members = np.vstack([self.members, np.full((extra, self.hi), -1, dtype=np.intp)])
        self.size = np.concatenate([self.size, np.zeros(extra, dtype=np.int64)])
        self.weight = np.concatenate([self.weight, np.zeros(extra)])
        for attribute in self.balance:
            attribute.counts = np.vstack(
                [attribute.counts, np.zeros((extra, len(attribute.shares)), dtype=np.int64)]
            )

    def remove(self, person: int) -> None:
        circle = int(self.circle_of[person])
        row = self.members[circle]
        kept = row[(row >= 0) & (row != person)]
        row[:] = -1
        row[: len(kept)] = kept
        self.size[circle] -= 1
        self.circle_of[person] = -1
        self.own[person] = 0.0
        for attribute in self.balance:
            attribute.counts[circle, attribute.codes[person]] -= 1

    def replace(self, circle: int, people: Sequence[int]) -> None:
        """Make `people` the whole of `circle` (call refresh afterwards)."""
        self.members[circle] = -1
        self.members[circle, : len(people)] = people
        self.size[circle] = len(people)
        self.circle_of[list(people)] = circle
        for attribute in self.balance:
            attribute.counts[circle] = np.bincount(
                attribute.codes[list(people)], minlength=len(attribute.shares)
            )

    def add(self, person: int, circle: int) -> None:
        self.members[circle, self.size[circle]] = person
        self.size[circle] += 1
        self.circle_of[person] = circle
        for attribute in self.balance:
            attribute.counts[circle, attribute.codes[person]] += 1

    def refresh(self, circles: IntArray) -> None:
        """Recompute the pair sums of the given circles (and their members' own sums)."""
        circles = np.unique(circles)
        if len(circles) == 0:
            return
        rows = self.members[circles]  # (c, hi)
        valid = rows >= 0
        left = np.where(valid, rows, 0)
        first = np.broadcast_to(left[:, :, None], (len(circles), self.hi, self.hi))
        second = np.broadcast_to(left[:, None, :], (len(circles), self.hi, self.hi))
        both = valid[:, :, None] & valid[:, None, :]
        both &= ~np.eye(self.hi, dtype=bool)[None, :, :]
        scores = np.zeros(both.shape)
        if both.any():
            values, _ = self.oracle.pairs(first[both], second[both])
            scores[both] = values
        own = scores.sum(axis=2)
        self.weight[circles] = own.sum(axis=1) / 2.0
        self.own[rows[valid]] = own[valid]

    def placed(self) -> int:
        return int(np.count_nonzero(self.circle_of >= 0))
