"""The candidate graph: unique allowed pairs of pool positions with their exact scores."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from ..scoring import Scorer

FloatArray = NDArray[np.float64]
IndexArray = NDArray[np.intp]


class EdgeSet:
    """The candidate graph: unique pairs (first < second) of pool positions, exact scores.

    A sorted copy of the pair keys answers membership and look-ups by binary search (hashing
    millions of keys on every addition costs seconds).
    """

    def __init__(self, m: int, first: IndexArray, second: IndexArray, weight: FloatArray) -> None:
        self.m = m
        self.first = first
        self.second = second
        self.weight = weight
        self._keys = first.astype(np.int64) * m + second
        self._order = np.argsort(self._keys, kind="stable")
        self._sorted = self._keys[self._order]

    def _find(self, keys: NDArray[np.int64]) -> tuple[NDArray[np.bool_], IndexArray]:
        """Whether each key is listed, and its index into first/second/weight when it is."""
        if len(self._sorted) == 0:
            return np.zeros(len(keys), dtype=np.bool_), np.zeros(len(keys), dtype=np.intp)
        position = np.minimum(np.searchsorted(self._sorted, keys), len(self._sorted) - 1)
        found = self._sorted[position] == keys
        return found, self._order[position]

    def add(self, scorer: Scorer, pool: IndexArray, a: IndexArray, b: IndexArray) -> int:
        """Add allowed pairs (exactly scored); returns how many were new."""
        first, second = np.minimum(a, b), np.maximum(a, b)
        keys = first.astype(np.int64) * self.m + second
        keys = sorted_unique(keys)
        fresh = ~self._find(keys)[0]
        keys = keys[fresh]
        if len(keys) == 0:
            return 0
        first, second = (keys // self.m).astype(np.intp), (keys % self.m).astype(np.intp)
        weight, allowed = scorer.pair_scores(pool[first], pool[second])
        first, second, weight = first[allowed], second[allowed], weight[allowed]
        self.first = np.concatenate([self.first, first])
        self.second = np.concatenate([self.second, second])
        self.weight = np.concatenate([self.weight, weight])
        self._keys = np.concatenate([self._keys, keys[allowed]])
        self._order = np.argsort(self._keys, kind="stable")
        self._sorted = self._keys[self._order]
        return len(first)

    def lookup(self, a: IndexArray, b: IndexArray) -> FloatArray:
        """Exact scores of listed pairs (NaN where the pair is not listed)."""
        first, second = np.minimum(a, b), np.maximum(a, b)
        found, index = self._find(first.astype(np.int64) * self.m + second)
        result = np.full(len(first), np.nan)
        result[found] = self.weight[index[found]]
        return result

    def total(self, mate: IndexArray) -> float:
        people = np.flatnonzero(mate > np.arange(len(mate)))
        if len(people) == 0:
            return 0.0
        return float(np.nansum(self.lookup(people, mate[people])))


def sorted_unique(values: NDArray[np.int64] | IndexArray) -> IndexArray:
    """Distinct values in increasing order (sorting; numpy's hashing is slow on large arrays)."""
    ordered = np.sort(values)
    if len(ordered) == 0:
        return ordered
    result: IndexArray = ordered[np.concatenate(([True], ordered[1:] != ordered[:-1]))]
    return result
