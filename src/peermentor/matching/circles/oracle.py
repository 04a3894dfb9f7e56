"""Pair oracles: scores and allowed flags for pairs of pool positions, and each person's
best allowed partners (the candidate neighbourhoods every later step searches).

Up to DENSE_LIMIT people the oracle is a dense float32 matrix of the scorer's fast keys (exact
within ~2e-5; whether a pair is allowed is decided exactly: keys near min_score are confirmed with
the exact scorer). Beyond, it calls the exact scorer for each batch of pairs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from peermentor.matching.model import ProgressCallback

if TYPE_CHECKING:
    from peermentor.matching.scoring import Scorer

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]
BoolArray = NDArray[np.bool_]

# About two million pairs per block in whole-population passes.
BLOCK_PAIRS = 1 << 21


@dataclass
class Neighbourhoods:
    """Each person's best allowed partners (pool positions, -1 padded) and bound material."""

    partners: IntArray  # (N, K)
    degree: NDArray[np.int64]  # possibly-allowed partners (a superset count; exact when dense)
    top_mean: FloatArray  # mean of the best lo - 1 possibly-allowed keys, plus the key error
    # A bound on the score of every allowed partner NOT listed (-inf when all are listed).
    rest: FloatArray


class Oracle:
    """Scores and allowed flags for pairs of pool positions."""

    scorer: Scorer
    pool: IntArray

    def pairs(self, first: IntArray, second: IntArray) -> tuple[FloatArray, BoolArray]:
        raise NotImplementedError

    def exact(self, first: IntArray, second: IntArray) -> tuple[FloatArray, BoolArray]:
        """Exact scores (the dense oracle's are within the fast keys' error)."""
        scores, allowed = self.scorer.pair_scores(self.pool[first], self.pool[second])
        return np.asarray(scores, dtype=np.float64), np.asarray(allowed, dtype=bool)

    def neighbours(self, k: int, bound_size: int, progress: ProgressCallback) -> Neighbourhoods:
        raise NotImplementedError

    def allowed_counts(self, people: IntArray) -> NDArray[np.int64]:
        raise NotImplementedError


class _KeyPass:
    """A pass over all pool pairs with the scorer's fast keys, block by block."""

    def __init__(self, scorer: Scorer, pool: IntArray, seed: int) -> None:
        self.scorer = scorer
        self.pool = pool
        self.fast = scorer.fast(pool, seed=seed)
        self.min_score = scorer.policy.min_score
        self.rows_per_block = max(1, BLOCK_PAIRS // max(len(pool), 1))

    def allowed_keys(
        self, start: int, stop: int, first_column: int = 0
    ) -> tuple[NDArray[np.float32], BoolArray]:
        """Keys of rows start:stop against columns first_column:, and exactly which of those
        pairs are allowed.

        A key at least the error above min_score is surely allowed, one the error below surely not
        (constraint violations and exclusions push keys far below); keys in between are settled
        with the exact scorer.
        """
        n = len(self.pool)
        keys = self.fast.keys(slice(start, stop), slice(first_column, n))
        error = self.fast.error
        maybe = keys >= self.min_score - error
        band = maybe & (keys < self.min_score + error)
        if band.any():
            rows, cols = np.nonzero(band)
            _, allowed = self.scorer.pair_scores(
                self.pool[rows + start], self.pool[cols + first_column]
            )
            maybe[rows[~allowed], cols[~allowed]] = False
        return keys, maybe


def _top_partners(
    keys: NDArray[np.float32], allowed: BoolArray, k: int, bound_size: int, error: float
) -> tuple[IntArray, NDArray[np.int64], FloatArray, FloatArray]:
    masked = np.where(allowed, keys, -np.inf)
    n = masked.shape[1]
    k_eff = min(k, n)
    part = np.argpartition(-masked, k_eff - 1, axis=1)[:, :k_eff]
    values = np.take_along_axis(masked, part, axis=1)
    order = np.argsort(-values, axis=1, kind="stable")
    part = np.take_along_axis(part, order, axis=1).astype(np.intp)
    values = np.take_along_axis(values, order, axis=1)
    part[~np.isfinite(values)] = -1
    degree = allowed.sum(axis=1).astype(np.int64)
    m = max(1, bound_size)
    top = values[:, :m] if m <= k_eff else -np.sort(-masked, axis=1)[:, :m]
    top = np.where(np.isfinite(top), top, 0.0).astype(np.float64)
    top_mean = np.where(degree >= m, top.mean(axis=1) + error, 0.0)
    # Every unlisted allowed partner's key is at most the last listed one.
    rest = np.where(degree > k_eff, values[:, k_eff - 1].astype(np.float64) + error, -np.inf)
    return part, degree, top_mean, rest


class DenseOracle(Oracle):
    """All pool pairs in memory: float32 keys, NaN where a pair is not allowed."""

    def __init__(self, scorer: Scorer, pool: IntArray, seed: int) -> None:
        self.scorer = scorer
        self.pool = pool
        n = len(pool)
        self.matrix = np.full((n, n), np.nan, dtype=np.float32)
        self._pass = _KeyPass(scorer, pool, seed) if n else None

    def neighbours(self, k: int, bound_size: int, progress: ProgressCallback) -> Neighbourhoods:
        n = len(self.pool)
        partners = np.full((n, min(k, max(n, 1))), -1, dtype=np.intp)
        degree = np.zeros(n, dtype=np.int64)
        top_mean = np.zeros(n)
        rest = np.full(n, -np.inf)
        if self._pass is None:
            return Neighbourhoods(partners, degree, top_mean, rest)
        # Scores are symmetric: compute the upper triangle by blocks and mirror it.
        step = max(1, 2 * self._pass.rows_per_block)
        for start in range(0, n, step):
            progress("scoring candidate partners", 0.2 * (1 - (1 - start / n) ** 2))
            stop = min(n, start + step)
            keys, allowed = self._pass.allowed_keys(start, stop, first_column=start)
            block = np.where(allowed, keys, np.float32(np.nan))
            self.matrix[start:stop, start:] = block
            self.matrix[start:, start:stop] = block.T
        step = self._pass.rows_per_block
        for start in range(0, n, step):
            stop = min(n, start + step)
            keys = self.matrix[start:stop]
            allowed = ~np.isnan(keys)
            part, deg, mean, unlisted = _top_partners(
                keys, allowed, k, bound_size, self._pass.fast.error
            )
            partners[start:stop, : part.shape[1]] = part
            degree[start:stop] = deg
            top_mean[start:stop] = mean
            rest[start:stop] = unlisted
        return Neighbourhoods(partners, degree, top_mean, rest)

    def pairs(self, first: IntArray, second: IntArray) -> tuple[FloatArray, BoolArray]:
        values = self.matrix[first, second].astype(np.float64)
        allowed = ~np.isnan(values)
        return np.where(allowed, values, 0.0), allowed

    def allowed_counts(self, people: IntArray) -> NDArray[np.int64]:
        counts: NDArray[np.int64] = (~np.isnan(self.matrix[people])).sum(axis=1)
        return counts


class ExactOracle(Oracle):
    """Large pools: neighbourhoods from one fast pass, every lookup from the exact scorer."""

    def __init__(self, scorer: Scorer, pool: IntArray, seed: int) -> None:
        self.scorer = scorer
        self.pool = pool
        self._pass = _KeyPass(scorer, pool, seed)

    def neighbours(self, k: int, bound_size: int, progress: ProgressCallback) -> Neighbourhoods:
        n = len(self.pool)
        partners = np.full((n, min(k, n)), -1, dtype=np.intp)
        degree = np.zeros(n, dtype=np.int64)
        top_mean = np.zeros(n)
        rest = np.full(n, -np.inf)
        step = self._pass.rows_per_block
        for start in range(0, n, step):
            progress("scoring candidate partners", 0.3 * start / n)
            stop = min(n, start + step)
            keys, allowed = self._pass.allowed_keys(start, stop)
            part, deg, mean, unlisted = _top_partners(
                keys, allowed, k, bound_size, self._pass.fast.error
            )
            partners[start:stop, : part.shape[1]] = part
            degree[start:stop] = deg
            top_mean[start:stop] = mean
            rest[start:stop] = unlisted
        return Neighbourhoods(partners, degree, top_mean, rest)

    def pairs(self, first: IntArray, second: IntArray) -> tuple[FloatArray, BoolArray]:
        first, second = np.broadcast_arrays(first, second)
        shape = first.shape
        if first.size == 0:
            return np.zeros(shape), np.zeros(shape, dtype=bool)
        scores, allowed = self.scorer.pair_scores(
            self.pool[first.ravel()], self.pool[second.ravel()]
        )
        return scores.reshape(shape), allowed.reshape(shape)

    def allowed_counts(self, people: IntArray) -> NDArray[np.int64]:
        counts = np.zeros(len(people), dtype=np.int64)
        step = max(1, BLOCK_PAIRS // max(len(self.pool), 1))
        for start in range(0, len(people), step):
            _, allowed = self.scorer.block(self.pool[people[start : start + step]], self.pool)
            counts[start : start + step] = allowed.sum(axis=1)
        return counts
