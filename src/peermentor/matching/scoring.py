"""Vectorised pair scores and the allowed-pair rule, exactly as MATCHING.md defines them.

Attributes are encoded once when the scorer is built (integer codes for single-valued columns,
bit sets or sparse indicator matrices for multi-valued ones, floats for numbers, Euler-tour
intervals for the reporting tree), so that `Scorer.block` scores a block of rows against a block
of columns with a handful of numpy passes and no Python loop over pairs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from .model import Constraint, Criterion, InputError, Locks, Person, Policy
from .profiles import line_of, normalise_value, parse_number, split_ids, split_values

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]
IndexArray = NDArray[np.intp]

# A pair whose score is within this of min_score counts as reaching it: scores are sums of
# floating-point fractions and must not flip on the last bit.
SCORE_TOLERANCE = 1e-9
# Above this many bit-set words a multi-valued column is handled as a sparse matrix instead.
_MAX_BITSET_WORDS = 4


@dataclass(frozen=True)
class _ValueSets:
    """The normalised value sets of one or more columns sharing a vocabulary."""

    vocabulary: dict[str, int]
    codes: list[IndexArray]  # per column: for single-valued columns, one code (-1 unknown)
    sizes: list[NDArray[np.int64]]  # per column: number of values
    bitsets: list[NDArray[np.uint64] | None]  # per column: (n, words) when small enough
    matrices: list[sp.csr_matrix]  # per column: (n, vocabulary) indicator matrix
    single: list[bool]  # per column: every person has at most one value


def _encode_sets(columns: Sequence[Sequence[list[str]]]) -> _ValueSets:
    vocabulary: dict[str, int] = {}
    for values_of in columns:
        for values in values_of:
            for value in values:
                vocabulary.setdefault(value, len(vocabulary))
    words = max(1, (len(vocabulary) + 63) // 64)
    use_bits = words <= _MAX_BITSET_WORDS
    codes: list[IndexArray] = []
    sizes: list[NDArray[np.int64]] = []
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
            (np.ones(len(flat), dtype=np.float32), flat, indptr), shape=(n, max(1, len(vocabulary)))
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
        codes.append(code)
        sizes.append(size)
        bitsets.append(bits)
        matrices.append(matrix)
        single.append(bool(np.all(size <= 1)))
    return _ValueSets(vocabulary, codes, sizes, bitsets, matrices, single)


def _intersection_sizes(
    sets: _ValueSets, left: int, right: int, rows: IndexArray, cols: IndexArray
) -> NDArray[np.float64] | NDArray[np.uint8]:
    """|A_r ∩ B_c| for column `left` of the rows and column `right` of the columns."""
    left_bits, right_bits = sets.bitsets[left], sets.bitsets[right]
    if left_bits is not None and right_bits is not None:
        a = left_bits[rows]
        b = right_bits[cols]
        count = np.bitwise_count(np.bitwise_and(a[:, None, 0], b[None, :, 0]))
        for word in range(1, a.shape[1]):
            count += np.bitwise_count(np.bitwise_and(a[:, None, word], b[None, :, word]))
        return count
    product = sets.matrices[left][rows] @ sets.matrices[right][cols].T
    return np.asarray(product.toarray(), dtype=np.float64)


def _share_value(sets: _ValueSets, column: int, rows: IndexArray, cols: IndexArray) -> BoolArray:
    """True where both are known and share a value (`same`)."""
    if sets.single[column]:
        code = sets.codes[column]
        left = code[rows]
        equal: BoolArray = np.equal(left[:, None], code[cols][None, :])
        equal &= (left >= 0)[:, None]
        return equal
    return np.asarray(_intersection_sizes(sets, column, column, rows, cols) > 0, dtype=np.bool_)


def _differ(sets: _ValueSets, column: int, rows: IndexArray, cols: IndexArray) -> BoolArray:
    """True where both are known and their value sets are disjoint (`different`)."""
    known = sets.sizes[column] > 0
    if sets.single[column]:
        code = sets.codes[column]
        result: BoolArray = np.not_equal(code[rows][:, None], code[cols][None, :])
    else:
        result = np.asarray(
            _intersection_sizes(sets, column, column, rows, cols) == 0, dtype=np.bool_
        )
    result &= known[rows][:, None]
    result &= known[cols][None, :]
    return result


class _Feature:
    """One criterion or constraint, ready to be evaluated on blocks."""

    def values(self, rows: IndexArray, cols: IndexArray, directed: bool) -> FloatArray:
        raise NotImplementedError

    def holds(self, rows: IndexArray, cols: IndexArray) -> BoolArray:
        raise NotImplementedError


class _SetFeature(_Feature):
    def __init__(self, kind: str, sets: _ValueSets) -> None:
        self.kind = kind
        self.sets = sets

    def values(self, rows: IndexArray, cols: IndexArray, directed: bool) -> FloatArray:
        sets = self.sets
        if self.kind == "same":
            return _share_value(sets, 0, rows, cols).astype(np.float64)
        if self.kind == "different":
            return _differ(sets, 0, rows, cols).astype(np.float64)
        if self.kind == "overlap":
            if sets.single[0]:
                return _share_value(sets, 0, rows, cols).astype(np.float64)
            inter = _intersection_sizes(sets, 0, 0, rows, cols).astype(np.float64)
            union = sets.sizes[0][rows][:, None] + sets.sizes[0][cols][None, :] - inter
            return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)
        # complement: column 0 is offer, column 1 is want
        want = sets.sizes[1].astype(np.float64)
        inverse_want = np.divide(1.0, want, out=np.zeros_like(want), where=want > 0)
        forward = _intersection_sizes(sets, 0, 1, rows, cols) * inverse_want[cols][None, :]
        if directed:
            return np.asarray(forward, dtype=np.float64)
        backward = _intersection_sizes(sets, 1, 0, rows, cols) * inverse_want[rows][:, None]
        return np.asarray((forward + backward) * 0.5, dtype=np.float64)

    def holds(self, rows: IndexArray, cols: IndexArray) -> BoolArray:
        if self.kind == "must_match":
            return _share_value(self.sets, 0, rows, cols)
        return _differ(self.sets, 0, rows, cols)


class _NumberFeature(_Feature):
    def __init__(self, numbers: FloatArray, limit: float) -> None:
        self.numbers = numbers
        self.limit = limit  # the scale of `near`, or the max of `max_gap`

    def _gap(self, rows: IndexArray, cols: IndexArray) -> FloatArray:
        return np.abs(self.numbers[rows][:, None] - self.numbers[cols][None, :])

    def values(self, rows: IndexArray, cols: IndexArray, directed: bool) -> FloatArray:
        gap = self._gap(rows, cols)
        # fmax treats NaN (unknown) as missing, giving 0 as the formula requires.
        return np.fmax(1.0 - gap / self.limit, 0.0)

    def holds(self, rows: IndexArray, cols: IndexArray) -> BoolArray:
        return self._gap(rows, cols) <= self.limit  # NaN compares False: does not hold


class _ReportingLineFeature(_Feature):
    """Neither is the other's manager, directly or higher up (Euler-tour intervals)."""

    def __init__(self, enter: NDArray[np.int64], leave: NDArray[np.int64]) -> None:
        self.enter = enter
        self.leave = leave

    def holds(self, rows: IndexArray, cols: IndexArray) -> BoolArray:
        enter_r, leave_r = self.enter[rows][:, None], self.leave[rows][:, None]
        enter_c, leave_c = self.enter[cols][None, :], self.leave[cols][None, :]
        row_above = (enter_r <= enter_c) & (enter_c < leave_r)
        col_above = (enter_c <= enter_r) & (enter_r < leave_c)
        return ~(row_above | col_above)


class Scorer:
    """Scores and allowed-pair rules for one population under one policy.

    Person indices follow the order of `people`. Context people (locks.context) are kept so that
    reporting lines and explanations see them, but `active` is False for them.
    """

    def __init__(
        self,
        people: Sequence[Person],
        policy: Policy,
        *,
        locks: Locks | None = None,
        file: str | None = None,
        lines: Sequence[int] | None = None,
    ) -> None:
        self.people = tuple(people)
        self.policy = policy
        self.locks = locks if locks is not None else Locks()
        self.file = file
        self.lines = lines
        self.n = len(self.people)
        self.ids = [person.id for person in self.people]
        self._index = {person_id: i for i, person_id in enumerate(self.ids)}
        if len(self._index) != self.n:
            seen: set[str] = set()
            for i, person_id in enumerate(self.ids):
                if person_id in seen:
                    raise InputError(
                        f"duplicate id {person_id!r}", file=file, line=line_of(lines, i), field="id"
                    )
                seen.add(person_id)
        self._attributes = [
            {name.strip().casefold(): cell for name, cell in person.attributes.items()}
            for person in self.people
        ]
        self._value_cache: dict[str, list[list[str]]] = {}
        self._number_cache: dict[str, FloatArray] = {}
        total_weight = sum(criterion.weight for criterion in policy.criteria)
        self.total_weight = float(total_weight)
        self.criteria = policy.criteria
        self._criterion_features = [self._criterion_feature(c) for c in policy.criteria]
        self._constraint_features = [self._constraint_feature(c) for c in policy.constraints]
        self._excluded = self._excluded_pairs()
        self.active = np.ones(self.n, dtype=np.bool_)
        for person_id in self.locks.context:
            if person_id in self._index:
                self.active[self._index[person_id]] = False
        self._check_fixed_groups()
        self.capacity = self._capacities()
        self.side = self._sides()
        names = self._raw("name") if self._has_column("name") else None
        self.names = [
            (names[i] if names is not None and names[i] else self.ids[i]) for i in range(self.n)
        ]

    # -- lookup

    def index(self, person_id: str) -> int:
        """The index of a person by id (trimmed, case-sensitive); KeyError if unknown."""
        return self._index[person_id.strip()]

    def _has_column(self, name: str) -> bool:
        return any(name in attributes for attributes in self._attributes)

    def _raw(self, name: str) -> list[str]:
        return [attributes.get(name, "").strip() for attributes in self._attributes]

    def column(self, name: str) -> list[list[str]]:
        """The normalised value set of a column for every person (empty list = unknown)."""
        name = name.strip().casefold()
        if name not in self._value_cache:
            self._value_cache[name] = [split_values(cell) for cell in self._raw(name)]
        return self._value_cache[name]

    def raw_column(self, name: str) -> list[str]:
        """The trimmed cell text of a column for every person ("" = unknown)."""
        return self._raw(name.strip().casefold())

    def numbers(self, name: str) -> FloatArray:
        """A numeric column (NaN = unknown); InputError naming the line for a bad value."""
        name = name.strip().casefold()
        if name not in self._number_cache:
            result = np.full(self.n, np.nan)
            for i, cell in enumerate(self._raw(name)):
                try:
                    value = parse_number(cell)
                except ValueError:
                    raise self._error(i, name, f"{cell!r} is not a number") from None
                if value is not None:
                    result[i] = value
            self._number_cache[name] = result
        return self._number_cache[name]

    def _error(self, i: int, field: str, message: str) -> InputError:
        line = line_of(self.lines, i)
        if line is None:
            message = f"person {self.ids[i]!r}: {message}"
        return InputError(message, file=self.file, line=line, field=field)

    # -- encodings

    def _criterion_feature(self, criterion: Criterion) -> _Feature:
        if criterion.kind == "near":
            assert criterion.field is not None and criterion.scale is not None
            return _NumberFeature(self.numbers(criterion.field), criterion.scale)
        if criterion.kind == "complement":
            assert criterion.offer is not None and criterion.want is not None
            return _SetFeature(
                "complement",
                _encode_sets([self.column(criterion.offer), self.column(criterion.want)]),
            )
        assert criterion.field is not None
        return _SetFeature(criterion.kind, _encode_sets([self.column(criterion.field)]))

    def _constraint_feature(self, constraint: Constraint) -> _Feature:
        if constraint.kind == "max_gap":
            assert constraint.field is not None and constraint.max is not None
            return _NumberFeature(self.numbers(constraint.field), constraint.max)
        if constraint.kind == "not_in_reporting_line":
            return self._reporting_tree()
        assert constraint.field is not None
        return _SetFeature(constraint.kind, _encode_sets([self.column(constraint.field)]))

    def manager_indices(self) -> IndexArray:
        """Each person's manager index, -1 when absent or outside the file."""
        managers = np.full(self.n, -1, dtype=np.intp)
        for i, cell in enumerate(self._raw("manager_id")):
            manager = cell.strip()
            if manager and manager in self._index:
                managers[i] = self._index[manager]
        return managers

    def _reporting_tree(self) -> _ReportingLineFeature:
        managers = self.manager_indices()
        children: list[list[int]] = [[] for _ in range(self.n)]
        roots: list[int] = []
        for i, manager in enumerate(managers.tolist()):
            if manager < 0:
                roots.append(i)
            else:
                children[manager].append(i)
        enter = np.full(self.n, -1, dtype=np.int64)
        leave = np.full(self.n, -1, dtype=np.int64)
        clock = 0
        for root in roots:
            stack: list[tuple[int, int]] = [(root, 0)]
            enter[root] = clock
            clock += 1
            while stack:
                node, position = stack[-1]
                if position < len(children[node]):
                    stack[-1] = (node, position + 1)
                    child = children[node][position]
                    enter[child] = clock
                    clock += 1
                    stack.append((child, 0))
                else:
                    leave[node] = clock
                    stack.pop()
        unvisited = np.flatnonzero(enter < 0)
        if len(unvisited):
            i = int(unvisited[0])
            raise self._error(
                i, "manager_id", f"the reporting line of {self.ids[i]!r} loops back on itself"
            )
        return _ReportingLineFeature(enter, leave)

    def _excluded_pairs(self) -> sp.csr_matrix:
        """Pairs that may never be grouped: `avoid` (symmetric) and forbidden locks."""
        left: list[int] = []
        right: list[int] = []
        if self._has_column("avoid"):
            for i, cell in enumerate(self._raw("avoid")):
                for other in split_ids(cell):
                    j = self._index.get(other)
                    if j is not None and j != i:
                        left.append(i)
                        right.append(j)
        for first, second in self.locks.forbidden:
            a, b = self._index.get(first.strip()), self._index.get(second.strip())
            if a is not None and b is not None and a != b:
                left.append(a)
                right.append(b)
        rows = np.array(left + right, dtype=np.intp)
        cols = np.array(right + left, dtype=np.intp)
        matrix = sp.csr_matrix(
            (np.ones(len(rows), dtype=np.int8), (rows, cols)), shape=(self.n, self.n)
        )
        matrix.sum_duplicates()
        return matrix

    def _check_fixed_groups(self) -> None:
        seen: set[str] = set()
        for group in self.locks.fixed:
            for person_id in group:
                if person_id.strip() not in self._index:
                    raise InputError(
                        f"fixed group member {person_id!r} is not among the people", field="locks"
                    )
                if person_id.strip() in seen:
                    raise InputError(f"{person_id!r} is in two fixed groups", field="locks")
                seen.add(person_id.strip())

    def _capacities(self) -> NDArray[np.int64]:
        capacity = np.ones(self.n, dtype=np.int64)
        if not self._has_column("capacity"):
            return capacity
        for i, cell in enumerate(self._raw("capacity")):
            text = cell.strip()
            if not text:
                continue
            try:
                value = int(text)
            except ValueError:
                raise self._error(i, "capacity", f"{text!r} is not a whole number") from None
            if value < 0:
                raise self._error(i, "capacity", "must be >= 0")
            capacity[i] = value
        return capacity

    def _sides(self) -> NDArray[np.int8]:
        """0 for side a, 1 for side b, -1 for neither (bipartite policies only)."""
        side = np.full(self.n, -1, dtype=np.int8)
        sides = self.policy.sides
        if sides is None or self.policy.format != "bipartite":
            return side
        for i, cell in enumerate(self._raw(sides.field)):
            value = normalise_value(cell)
            if value == sides.a:
                side[i] = 0
            elif value == sides.b:
                side[i] = 1
            elif value:
                raise self._error(
                    i, sides.field, f"{cell!r} is neither {sides.a!r} nor {sides.b!r}"
                )
        return side

    # -- scoring

    def block(
        self, rows: IndexArray, cols: IndexArray, *, directed: bool = False
    ) -> tuple[FloatArray, BoolArray]:
        """Scores of every row against every column, and which of those pairs are allowed.

        With directed=True, complement is f(row -> col) (rows are side a), else the mean of both
        directions. A pair is allowed when i != j, its score reaches min_score, neither avoids the
        other, it is not a forbidden lock, and every constraint holds.
        """
        rows = np.asarray(rows, dtype=np.intp)
        cols = np.asarray(cols, dtype=np.intp)
        scores = self.scores(rows, cols, directed=directed)
        allowed = scores >= self.policy.min_score - SCORE_TOLERANCE
        allowed &= self.constraints_hold(rows, cols)
        return scores, allowed

    def scores(self, rows: IndexArray, cols: IndexArray, *, directed: bool = False) -> FloatArray:
        """Only the scores of `block`."""
        rows = np.asarray(rows, dtype=np.intp)
        cols = np.asarray(cols, dtype=np.intp)
        total = np.zeros((len(rows), len(cols)), dtype=np.float64)
        if self.total_weight <= 0:
            return total
        for criterion, feature in zip(self.criteria, self._criterion_features, strict=True):
            value = feature.values(rows, cols, directed)
            if criterion.weight == 1.0:
                total += value
            else:
                total += criterion.weight * value
        total /= self.total_weight
        return total

    def constraints_hold(self, rows: IndexArray, cols: IndexArray) -> BoolArray:
        """Everything but min_score: not the same person, no avoid/forbidden, constraints hold."""
        rows = np.asarray(rows, dtype=np.intp)
        cols = np.asarray(cols, dtype=np.intp)
        allowed: BoolArray = np.asarray(rows[:, None] != cols[None, :], dtype=np.bool_)
        for feature in self._constraint_features:
            allowed &= feature.holds(rows, cols)
        if self._excluded.nnz:
            sub = self._excluded[rows]
            if sub.nnz:
                position = np.full(self.n, -1, dtype=np.intp)
                position[cols] = np.arange(len(cols))
                local_rows = np.repeat(np.arange(len(rows)), np.diff(sub.indptr))
                local_cols = position[sub.indices]
                hit = local_cols >= 0
                allowed[local_rows[hit], local_cols[hit]] = False
        return allowed

    def criterion_values(
        self, rows: IndexArray, cols: IndexArray, *, directed: bool = False
    ) -> list[FloatArray]:
        """Each criterion's value in [0, 1] for the block (same order as policy.criteria)."""
        rows = np.asarray(rows, dtype=np.intp)
        cols = np.asarray(cols, dtype=np.intp)
        return [feature.values(rows, cols, directed) for feature in self._criterion_features]

    def pair_score(self, i: int, j: int, *, directed: bool = False) -> float:
        """score(i, j) per MATCHING.md."""
        return float(self.scores(np.array([i]), np.array([j]), directed=directed)[0, 0])

    def allowed(self, i: int, j: int, *, directed: bool = False) -> bool:
        """Whether i and j may be grouped together."""
        _, allowed = self.block(np.array([i]), np.array([j]), directed=directed)
        return bool(allowed[0, 0])

    def contributions(
        self, i: int, j: int, *, directed: bool = False
    ) -> list[tuple[Criterion, float]]:
        """Each criterion with its value in [0, 1] for the pair (not weighted)."""
        values = self.criterion_values(np.array([i]), np.array([j]), directed=directed)
        return [
            (criterion, float(value[0, 0]))
            for criterion, value in zip(self.criteria, values, strict=True)
        ]

    def failed_constraints(self, i: int, j: int) -> list[Constraint]:
        """The policy constraints the pair breaks (avoid, locks and min_score not included)."""
        rows, cols = np.array([i]), np.array([j])
        return [
            constraint
            for constraint, feature in zip(
                self.policy.constraints, self._constraint_features, strict=True
            )
            if not bool(feature.holds(rows, cols)[0, 0])
        ]

    def is_excluded(self, i: int, j: int) -> bool:
        """Whether the pair is blocked by `avoid` or a forbidden lock."""
        return bool(self._excluded[i, j])
