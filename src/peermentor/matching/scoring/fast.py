"""Fast keys for whole-population passes: the weighted score of a block of pairs as ONE float32
matrix product, with a rigorous bound on its rounding error."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from .features import TABLE_LIMIT, Feature, ReportingLineFeature, SetFeature, Table

if TYPE_CHECKING:
    from .scorer import Scorer

FloatArray = NDArray[np.float64]
Float32Array = NDArray[np.float32]
IndexArray = NDArray[np.intp]

_UNIT_ROUNDOFF_32 = 2.0**-24


class FastScores:
    """Whole-population scoring as float32 matrix products.

    `keys(rows, cols)` (positions into `pool`, as slices or arrays) returns for every pair a key.
    For an allowed pair the key differs from the exact score by at most `error`; a pair whose key
    is below `min_score - error` is certainly not allowed (constraint violations push keys below
    -2, excluded pairs to -inf). A tiny symmetric pseudo-random jitter (at most `jitter` in size,
    included in `error`) breaks ties so that candidate lists are diverse even when thousands of
    partners score the same. Confirm a pair with the exact scorer before using it.
    """

    def __init__(
        self,
        scorer: Scorer,
        pool: IndexArray,
        *,
        directed: bool = False,
        seed: int = 0,
        jitter: float = 1e-5,
    ) -> None:
        self.scorer = scorer
        self.pool = pool
        self.directed = directed
        self.min_score = scorer.policy.min_score
        m = len(pool)
        left: list[FloatArray] = []
        right: list[FloatArray] = []
        self._direct_criteria: list[tuple[Feature, float]] = []
        self._overlaps: list[_OverlapTerm] = []
        tables = scorer.criterion_tables(directed)
        for feature, table, weight in zip(
            scorer._criterion_features, tables, scorer.weights, strict=True
        ):
            embedded = _embed_values(feature, table, pool, directed)
            overlap = None if embedded is not None else _OverlapTerm.build(feature, pool, weight)
            if overlap is not None:
                self._overlaps.append(overlap)
            elif embedded is None:
                self._direct_criteria.append((feature, float(weight)))
            else:
                left.append(embedded[0] * weight)
                right.append(embedded[1])
        rng = np.random.default_rng(seed)
        jitter_vectors = rng.uniform(-1.0, 1.0, size=(m, 4))
        # |g_a . g_b| <= 4, so the jitter term stays within +-jitter.
        left.append(jitter_vectors * (jitter / 4.0))
        right.append(jitter_vectors)
        self.dimensions = sum(x.shape[1] for x in left)
        # Two spare dimensions carry a shift (see set_shift): key - s_i - s_j in the same product.
        left.append(np.zeros((m, 2)))
        right.append(np.zeros((m, 2)))
        self._left = np.ascontiguousarray(np.hstack(left), dtype=np.float32)
        self._right_t = np.ascontiguousarray(np.hstack(right).T, dtype=np.float32)
        self._shift_size = 0.0
        # Violated-constraint counts as a second product; counts are whole numbers, so an error
        # far below 0.5 decides them exactly.
        violation_left: list[FloatArray] = []
        violation_right: list[FloatArray] = []
        self._direct_constraints: list[Feature] = []
        tabled = 0
        for feature, table in zip(
            scorer._constraint_features, scorer._constraint_tables, strict=True
        ):
            if table is not None:
                one_hot, column = _one_hot_and_columns(table, pool)
                violation_left.append(one_hot)
                violation_right.append(-column)
                tabled += 1
            elif isinstance(feature, ReportingLineFeature) and scorer._reporting_as_exclusions:
                continue
            else:
                self._direct_constraints.append(feature)
        self._violation_left: Float32Array | None = None
        self._violation_right_t: Float32Array | None = None
        if tabled:
            violation_left.append(np.ones((m, 1)))
            violation_right.append(np.full((m, 1), float(tabled)))
            self._violation_left = np.ascontiguousarray(np.hstack(violation_left), dtype=np.float32)
            self._violation_right_t = np.ascontiguousarray(
                np.hstack(violation_right).T, dtype=np.float32
            )
        self._excluded = scorer.excluded[pool][:, pool].tocsr()
        # Rounding of a float32 dot product of D terms whose absolute products sum to at most
        # 1 + jitter, plus the direct terms added in float32, plus the jitter itself.
        self._jitter = jitter
        self.error = self._error(0.0)

    def _error(self, shift_size: float) -> float:
        terms = self.dimensions + 2 + 2 * len(self._direct_criteria) + 3 * len(self._overlaps) + 4
        roundoff = terms * _UNIT_ROUNDOFF_32 / (1.0 - terms * _UNIT_ROUNDOFF_32) * 1.05
        return float(roundoff * (1.0 + self._jitter + 2.0 * shift_size) + self._jitter)

    def set_shift(self, shift: Float32Array) -> float:
        """Make `shifted_keys` return key_ij - shift_i - shift_j; returns its error bound."""
        dimensions = self.dimensions
        self._left[:, dimensions] = -shift
        self._left[:, dimensions + 1] = 1.0
        self._right_t[dimensions, :] = 1.0
        self._right_t[dimensions + 1, :] = -shift
        self._shift_size = float(np.abs(shift).max()) if len(shift) else 0.0
        return self._error(self._shift_size)

    def keys(self, rows: slice | IndexArray, cols: slice | IndexArray) -> Float32Array:
        """Keys for pool positions rows x cols (see the class docstring)."""
        dimensions = self.dimensions
        keys: Float32Array = self._left[rows, :dimensions] @ self._right_t[:dimensions, cols]
        return self._finish(keys, rows, cols)

    def shifted_keys(self, rows: slice | IndexArray, cols: slice | IndexArray) -> Float32Array:
        """key_ij - shift_i - shift_j (set_shift), within set_shift's error of the exact value
        for allowed pairs; certainly-not-allowed pairs are still pushed far below."""
        keys: Float32Array = self._left[rows] @ self._right_t[:, cols]
        return self._finish(keys, rows, cols)

    def _finish(
        self, keys: Float32Array, rows: slice | IndexArray, cols: slice | IndexArray
    ) -> Float32Array:
        row_people = self.pool[rows]
        col_people = self.pool[cols]
        a, b = row_people[:, None], col_people[None, :]
        for overlap in self._overlaps:
            overlap.add_to(keys, rows, cols)
        for feature, weight in self._direct_criteria:
            keys += (weight * feature.values(a, b, self.directed)).astype(np.float32)
        if self._violation_left is not None and self._violation_right_t is not None:
            # Counts of violated constraints are exact small integers in float32; each one
            # pushes the key far below any min_score.
            violations = self._violation_left[rows] @ self._violation_right_t[:, cols]
            violations *= np.float32(-4.0)
            keys += violations
        if self._direct_constraints:
            holds = np.ones(keys.shape, dtype=np.bool_)
            for feature in self._direct_constraints:
                holds &= feature.holds(a, b)
            keys[~holds] = -np.inf
        row_positions = np.arange(len(self.pool))[rows]
        col_positions = np.arange(len(self.pool))[cols]
        self._block_listed(keys, row_positions, col_positions)
        return keys

    def _block_listed(
        self, keys: Float32Array, row_positions: IndexArray, col_positions: IndexArray
    ) -> None:
        """Mark the same person and excluded pairs (avoid, locks, reporting lines)."""
        position = np.full(len(self.pool), -1, dtype=np.intp)
        position[col_positions] = np.arange(len(col_positions))
        same = position[row_positions]
        hit = same >= 0
        keys[np.flatnonzero(hit), same[hit]] = -np.inf
        sub = self._excluded[row_positions]
        if sub.nnz:
            local_rows = np.repeat(np.arange(len(row_positions)), np.diff(sub.indptr))
            local_cols = position[sub.indices]
            hit = local_cols >= 0
            keys[local_rows[hit], local_cols[hit]] = -np.inf


class _OverlapTerm:
    """weight x |A and B| / |A or B| (Jaccard) of a multi-valued `overlap` criterion, in float32.

    Not a product of two vectors (the division), so it cannot join the main product; but the
    intersection sizes are one small product of 0/1 matrices, exact in float32, which leaves a
    division, a product and a sum: three roundings, each at most one unit of the float32
    roundoff of a term no larger than the weight (FastScores._error counts them).
    """

    _MAX_VOCABULARY = 512

    def __init__(self, membership: Float32Array, sizes: Float32Array, weight: float) -> None:
        self.membership = np.ascontiguousarray(membership)
        self.membership_t = np.ascontiguousarray(membership.T)
        self.sizes = sizes
        self.weight = np.float32(weight)

    @classmethod
    def build(cls, feature: Feature, pool: IndexArray, weight: float) -> _OverlapTerm | None:
        if not (isinstance(feature, SetFeature) and feature.kind == "overlap"):
            return None
        sets = feature.sets
        if sets.single[0] or len(sets.vocabulary) > cls._MAX_VOCABULARY:
            return None
        membership = np.asarray(sets.matrices[0][pool].toarray() > 0, dtype=np.float32)
        return cls(membership, sets.sizes[0][pool].astype(np.float32), weight)

    def add_to(
        self, keys: Float32Array, rows: slice | IndexArray, cols: slice | IndexArray
    ) -> None:
        share: Float32Array = self.membership[rows] @ self.membership_t[:, cols]
        union = self.sizes[rows][:, None] + self.sizes[cols][None, :]
        union -= share
        # Both sets empty: union 0 and share 0, a score of 0 as the formula says.
        np.maximum(union, np.float32(1.0), out=union)
        share /= union
        share *= self.weight
        keys += share


def _one_hot_and_columns(table: Table, pool: IndexArray) -> tuple[FloatArray, FloatArray]:
    codes = table.codes[pool]
    size = table.table.shape[0]
    one_hot = np.zeros((len(pool), size), dtype=np.float64)
    one_hot[np.arange(len(pool)), codes] = 1.0
    columns = table.table[:, codes].T
    return one_hot, columns


def _embed_values(
    feature: Feature, table: Table | None, pool: IndexArray, directed: bool
) -> tuple[FloatArray, FloatArray] | None:
    """Vectors L, R with value(a, b) = L[a] . R[b], or None when none are small enough."""
    if table is not None:
        return _one_hot_and_columns(table, pool)
    if isinstance(feature, SetFeature) and feature.kind == "complement":
        sets = feature.sets
        vocabulary = len(sets.vocabulary)
        if vocabulary == 0 or 2 * vocabulary > 2 * TABLE_LIMIT:
            return None
        offer = np.asarray(sets.matrices[0][pool].toarray(), dtype=np.float64)
        want = np.asarray(sets.matrices[1][pool].toarray(), dtype=np.float64)
        size = want.sum(axis=1, keepdims=True)
        want_share = np.divide(want, size, out=np.zeros_like(want), where=size > 0)
        if directed:
            return offer, want_share
        return np.hstack([offer, want_share]), 0.5 * np.hstack([want_share, offer])
    return None
