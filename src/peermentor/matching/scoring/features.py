"""Features: what one criterion or constraint computes for pairs of people, from columns
encoded once (codes, bit sets, sparse indicator matrices, numbers, reporting-tree intervals), and
the lookup tables that replace a feature with few distinct codes."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]
IndexArray = NDArray[np.intp]

# Above this many bit-set words a multi-valued column is handled as a sparse matrix instead.
_MAX_BITSET_WORDS = 4
# A feature with at most this many distinct codes is evaluated through a lookup table.
TABLE_LIMIT = 192


@dataclass(frozen=True)
class ValueSets:
    """The normalised value sets of one or more columns sharing a vocabulary."""

    vocabulary: dict[str, int]
    sizes: list[NDArray[np.int64]]  # per column: number of values
    codes: list[IndexArray]  # per column: for single-valued columns, the code (-1 unknown)
    bitsets: list[NDArray[np.uint64] | None]  # per column: (n, words) when small enough
    matrices: list[sp.csr_matrix]  # per column: (n, vocabulary) indicator matrix
    single: list[bool]  # per column: every person has at most one value


def encode_sets(columns: Sequence[Sequence[list[str]]]) -> ValueSets:
    vocabulary: dict[str, int] = {}
    for values_of in columns:
        for values in values_of:
            for value in values:
                vocabulary.setdefault(value, len(vocabulary))
    words = max(1, (len(vocabulary) + 63) // 64)
    use_bits = words <= _MAX_BITSET_WORDS
    sizes: list[NDArray[np.int64]] = []
    codes: list[IndexArray] = []
    bitsets: list[NDArray[np.uint64] | None] = []
    matrices: list[sp.csr_matrix] = []
    single: list[bool] = []
    for values_of in columns:
        n = len(values_of)
        size = np.fromiter((len(v) for v in values_of), dtype=np.int64, count=n)
        indptr = np.concatenate(([0], np.cumsum(size)))
        flat = np.fromiter(
            (vocabulary[value] for values in values_of for value in values),
            dtype=np.int64,
            count=int(indptr[-1]),
        )
        matrix = sp.csr_matrix(
            (np.ones(len(flat), dtype=np.float64), flat, indptr),
            shape=(n, max(1, len(vocabulary))),
        )
        code = np.full(n, -1, dtype=np.intp)
        has_one = size == 1
        code[has_one] = flat[indptr[:-1][has_one]]
        bits: NDArray[np.uint64] | None = None
        if use_bits:
            bits = np.zeros((n, words), dtype=np.uint64)
            owners = np.repeat(np.arange(n), size)
            np.bitwise_or.at(
                bits,
                (owners, flat // 64),
                np.left_shift(np.uint64(1), (flat % 64).astype(np.uint64)),
            )
        sizes.append(size)
        codes.append(code)
        bitsets.append(bits)
        matrices.append(matrix)
        single.append(bool(np.all(size <= 1)))
    return ValueSets(vocabulary, sizes, codes, bitsets, matrices, single)


def _intersection_sizes(
    sets: ValueSets, left: int, right: int, a: IndexArray, b: IndexArray
) -> FloatArray:
    """|A ∩ B| for column `left` of people a and column `right` of people b (broadcast)."""
    left_bits, right_bits = sets.bitsets[left], sets.bitsets[right]
    if left_bits is not None and right_bits is not None:
        count: NDArray[np.uint8] = np.bitwise_count(
            np.bitwise_and(left_bits[a, 0], right_bits[b, 0])
        )
        for word in range(1, left_bits.shape[1]):
            count += np.bitwise_count(np.bitwise_and(left_bits[a, word], right_bits[b, word]))
        return count.astype(np.float64)
    left_matrix, right_matrix = sets.matrices[left], sets.matrices[right]
    if a.ndim == 2 and a.shape[1] == 1 and b.ndim == 2 and b.shape[0] == 1:
        product = left_matrix[a[:, 0]] @ right_matrix[b[0]].T
        return np.asarray(product.toarray(), dtype=np.float64)
    a_flat, b_flat = np.broadcast_arrays(a, b)
    shape = a_flat.shape
    product = left_matrix[a_flat.ravel()].multiply(right_matrix[b_flat.ravel()])
    return np.asarray(product.sum(axis=1), dtype=np.float64).reshape(shape)


class Feature:
    """One criterion or constraint. Index arguments broadcast: (r, 1) x (1, c) or (m,) x (m,)."""

    # One code per person when the feature only depends on the pair of codes (else None), and
    # one person for each code.
    codes: IndexArray | None = None
    representatives: IndexArray | None = None

    def values(self, a: IndexArray, b: IndexArray, directed: bool) -> FloatArray:
        raise NotImplementedError

    def holds(self, a: IndexArray, b: IndexArray) -> BoolArray:
        raise NotImplementedError


def _codes_for(keys: Sequence[Hashable]) -> tuple[IndexArray, IndexArray]:
    """A code per person for equal keys, and one representative person per code."""
    index: dict[Hashable, int] = {}
    codes = np.fromiter(
        (index.setdefault(key, len(index)) for key in keys), dtype=np.intp, count=len(keys)
    )
    _, representatives = np.unique(codes, return_index=True)
    return codes, representatives.astype(np.intp)


class SetFeature(Feature):
    def __init__(self, kind: str, sets: ValueSets, keys: Sequence[Hashable]) -> None:
        self.kind = kind
        self.sets = sets
        codes, representatives = _codes_for(keys)
        if len(representatives) <= TABLE_LIMIT:
            self.codes = codes
            self.representatives = representatives

    def values(self, a: IndexArray, b: IndexArray, directed: bool) -> FloatArray:
        sets = self.sets
        if self.kind == "same":
            return self._share(a, b).astype(np.float64)
        if self.kind == "different":
            return self._differ(a, b).astype(np.float64)
        if self.kind == "overlap":
            if sets.single[0]:
                return self._share(a, b).astype(np.float64)
            inter = _intersection_sizes(sets, 0, 0, a, b)
            union = sets.sizes[0][a] + sets.sizes[0][b] - inter
            return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)
        # complement: column 0 is offer, column 1 is want
        want = sets.sizes[1].astype(np.float64)
        inverse_want = np.divide(1.0, want, out=np.zeros_like(want), where=want > 0)
        forward = _intersection_sizes(sets, 0, 1, a, b) * inverse_want[b]
        if directed:
            return forward
        backward = _intersection_sizes(sets, 1, 0, a, b) * inverse_want[a]
        return (forward + backward) * 0.5

    def holds(self, a: IndexArray, b: IndexArray) -> BoolArray:
        if self.kind == "must_match":
            return self._share(a, b)
        return self._differ(a, b)

    def _share(self, a: IndexArray, b: IndexArray) -> BoolArray:
        """Both known and sharing a value."""
        if self.sets.single[0]:
            code = self.sets.codes[0]
            equal: BoolArray = np.equal(code[a], code[b])
            equal &= code[a] >= 0
            return equal
        return np.asarray(_intersection_sizes(self.sets, 0, 0, a, b) > 0, dtype=np.bool_)

    def _differ(self, a: IndexArray, b: IndexArray) -> BoolArray:
        """Both known and disjoint."""
        known = self.sets.sizes[0] > 0
        if self.sets.single[0]:
            code = self.sets.codes[0]
            result: BoolArray = np.not_equal(code[a], code[b])
        else:
            result = np.asarray(_intersection_sizes(self.sets, 0, 0, a, b) == 0, dtype=np.bool_)
        result &= known[a]
        result &= known[b]
        return result


class NumberFeature(Feature):
    def __init__(self, numbers: FloatArray, limit: float) -> None:
        self.numbers = numbers
        self.limit = limit  # the scale of `near`, or the max of `max_gap`
        keys = [None if np.isnan(x) else float(x) for x in numbers.tolist()]
        codes, representatives = _codes_for(keys)
        if len(representatives) <= TABLE_LIMIT:
            self.codes = codes
            self.representatives = representatives

    def values(self, a: IndexArray, b: IndexArray, directed: bool) -> FloatArray:
        gap = np.abs(self.numbers[a] - self.numbers[b])
        # fmax treats NaN (unknown) as missing, giving 0 as the formula requires.
        return np.fmax(1.0 - gap / self.limit, 0.0)

    def holds(self, a: IndexArray, b: IndexArray) -> BoolArray:
        gap = np.abs(self.numbers[a] - self.numbers[b])
        return np.asarray(gap <= self.limit, dtype=np.bool_)  # NaN: does not hold


class ReportingLineFeature(Feature):
    """Neither is the other's manager, directly or higher up (Euler-tour intervals)."""

    def __init__(self, enter: NDArray[np.int64], leave: NDArray[np.int64]) -> None:
        self.enter = enter
        self.leave = leave

    def holds(self, a: IndexArray, b: IndexArray) -> BoolArray:
        enter_a, leave_a = self.enter[a], self.leave[a]
        enter_b, leave_b = self.enter[b], self.leave[b]
        a_above = (enter_a <= enter_b) & (enter_b < leave_a)
        b_above = (enter_b <= enter_a) & (enter_a < leave_b)
        return np.asarray(~(a_above | b_above), dtype=np.bool_)


class Table:
    """A feature's values for every pair of codes."""

    def __init__(self, codes: IndexArray, table: FloatArray) -> None:
        self.codes = codes
        self.table = table

    def lookup(self, a: IndexArray, b: IndexArray) -> FloatArray:
        result: FloatArray = self.table[self.codes[a], self.codes[b]]
        return result


def tabulate_values(feature: Feature, directed: bool) -> Table | None:
    if feature.codes is None or feature.representatives is None:
        return None
    reps = feature.representatives
    table = feature.values(reps[:, None], reps[None, :], directed)
    return Table(feature.codes, np.ascontiguousarray(table, dtype=np.float64))


def tabulate_holds(feature: Feature) -> Table | None:
    if feature.codes is None or feature.representatives is None:
        return None
    reps = feature.representatives
    table = feature.holds(reps[:, None], reps[None, :]).astype(np.float64)
    return Table(feature.codes, table)
