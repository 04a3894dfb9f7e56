"""Vectorised pair scores and the allowed-pair rule, exactly as MATCHING.md defines them.

Attributes are encoded once when the scorer is built, so that no Python loop ever runs over
pairs:

* every criterion and constraint reads a column (or two) whose distinct values are usually few
  (departments, sites, years, language sets...). People are given a *code* per feature, and the
  feature's value for every pair of codes is computed once into a small table with the direct
  formula; scoring a block is then a table lookup;
* where a column has too many distinct values for a table, the feature is computed directly with
  numpy (integer codes, bit sets or sparse indicator matrices for sets, floats for numbers);
* for whole-population passes (`FastScores`), each table becomes a pair of per-person vectors
  (one-hot code on one side, the table's column on the other) and `complement` its offer/want
  indicator vectors, so that the weighted score of a block is ONE float32 matrix product. The
  product's rounding error has a rigorous bound (`FastScores.error`), which the certified upper
  bound accounts for.

The exact path (`Scorer.block`, `Scorer.pair_scores`) works in float64 and is what every reported
score comes from.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from .model import Constraint, Criterion, InputError, Locks, Person, Policy
from .profiles import line_of, normalise_value, parse_number, split_ids, split_values

FloatArray = NDArray[np.float64]
Float32Array = NDArray[np.float32]
BoolArray = NDArray[np.bool_]
IndexArray = NDArray[np.intp]

# A pair whose score is within this of min_score counts as reaching it: scores are sums of
# floating-point fractions and must not flip on the last bit.
SCORE_TOLERANCE = 1e-9
# Above this many bit-set words a multi-valued column is handled as a sparse matrix instead.
_MAX_BITSET_WORDS = 4
# A feature with at most this many distinct codes is evaluated through a lookup table.
TABLE_LIMIT = 192
# Reporting lines are turned into an exclusion list when that list stays this small per person.
_MAX_ANCESTOR_PAIRS_PER_PERSON = 64
_UNIT_ROUNDOFF_32 = 2.0**-24


# --- value sets -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _ValueSets:
    """The normalised value sets of one or more columns sharing a vocabulary."""

    vocabulary: dict[str, int]
    sizes: list[NDArray[np.int64]]  # per column: number of values
    codes: list[IndexArray]  # per column: for single-valued columns, the code (-1 unknown)
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
    return _ValueSets(vocabulary, sizes, codes, bitsets, matrices, single)


def _intersection_sizes(
    sets: _ValueSets, left: int, right: int, a: IndexArray, b: IndexArray
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


# --- features ---------------------------------------------------------------------------------


class _Feature:
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


class _SetFeature(_Feature):
    def __init__(self, kind: str, sets: _ValueSets, keys: Sequence[Hashable]) -> None:
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


class _NumberFeature(_Feature):
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


class _ReportingLineFeature(_Feature):
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


class _Table:
    """A feature's values for every pair of codes."""

    def __init__(self, codes: IndexArray, table: FloatArray) -> None:
        self.codes = codes
        self.table = table

    def lookup(self, a: IndexArray, b: IndexArray) -> FloatArray:
        result: FloatArray = self.table[self.codes[a], self.codes[b]]
        return result


def _tabulate_values(feature: _Feature, directed: bool) -> _Table | None:
    if feature.codes is None or feature.representatives is None:
        return None
    reps = feature.representatives
    table = feature.values(reps[:, None], reps[None, :], directed)
    return _Table(feature.codes, np.ascontiguousarray(table, dtype=np.float64))


def _tabulate_holds(feature: _Feature) -> _Table | None:
    if feature.codes is None or feature.representatives is None:
        return None
    reps = feature.representatives
    table = feature.holds(reps[:, None], reps[None, :]).astype(np.float64)
    return _Table(feature.codes, table)


# --- the scorer -------------------------------------------------------------------------------


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
        self._raw_cache: dict[str, list[str]] = {}
        self._value_cache: dict[str, list[list[str]]] = {}
        self._number_cache: dict[str, FloatArray] = {}
        self.criteria = policy.criteria
        self.total_weight = float(sum(criterion.weight for criterion in policy.criteria))
        self.weights = np.array(
            [c.weight / self.total_weight for c in policy.criteria], dtype=np.float64
        )
        self._criterion_features = [self._criterion_feature(c) for c in policy.criteria]
        self._criterion_tables: dict[bool, list[_Table | None]] = {}
        self._reporting_as_exclusions = False
        self._constraint_features = [self._constraint_feature(c) for c in policy.constraints]
        self._constraint_tables = [_tabulate_holds(f) for f in self._constraint_features]
        self._blocked = self._blocked_pairs()
        self.excluded = self._excluded_pairs()
        self.active = np.ones(self.n, dtype=np.bool_)
        for person_id in self.locks.context:
            if person_id.strip() in self._index:
                self.active[self._index[person_id.strip()]] = False
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
        if name not in self._raw_cache:
            self._raw_cache[name] = [
                attributes.get(name, "").strip() for attributes in self._attributes
            ]
        return self._raw_cache[name]

    def column(self, name: str) -> list[list[str]]:
        """The normalised value set of a column for every person (empty list = unknown); do not
        modify."""
        name = name.strip().casefold()
        if name not in self._value_cache:
            self._value_cache[name] = [split_values(cell) for cell in self._raw(name)]
        return self._value_cache[name]

    def raw_column(self, name: str) -> list[str]:
        """The trimmed cell text of a column for every person ("" = unknown); do not modify."""
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

    def _set_keys(self, *names: str) -> list[Hashable]:
        columns = [self.column(name) for name in names]
        return [tuple(tuple(sorted(c[i])) for c in columns) for i in range(self.n)]

    def _criterion_feature(self, criterion: Criterion) -> _Feature:
        if criterion.kind == "near":
            assert criterion.field is not None and criterion.scale is not None
            return _NumberFeature(self.numbers(criterion.field), criterion.scale)
        if criterion.kind == "complement":
            assert criterion.offer is not None and criterion.want is not None
            sets = _encode_sets([self.column(criterion.offer), self.column(criterion.want)])
            return _SetFeature("complement", sets, self._set_keys(criterion.offer, criterion.want))
        assert criterion.field is not None
        sets = _encode_sets([self.column(criterion.field)])
        return _SetFeature(criterion.kind, sets, self._set_keys(criterion.field))

    def _constraint_feature(self, constraint: Constraint) -> _Feature:
        if constraint.kind == "max_gap":
            assert constraint.field is not None and constraint.max is not None
            return _NumberFeature(self.numbers(constraint.field), constraint.max)
        if constraint.kind == "not_in_reporting_line":
            return self._reporting_tree()
        assert constraint.field is not None
        sets = _encode_sets([self.column(constraint.field)])
        return _SetFeature(constraint.kind, sets, self._set_keys(constraint.field))

    def criterion_tables(self, directed: bool) -> list[_Table | None]:
        """Per criterion, its lookup table when its column has few distinct values."""
        if directed not in self._criterion_tables:
            self._criterion_tables[directed] = [
                _tabulate_values(f, directed) for f in self._criterion_features
            ]
        return self._criterion_tables[directed]

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
        depth = np.zeros(self.n, dtype=np.int64)
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
                    depth[child] = depth[node] + 1
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
        self._managers = managers
        self._depth = depth
        self._reporting_as_exclusions = int(depth.sum()) <= _MAX_ANCESTOR_PAIRS_PER_PERSON * max(
            1, self.n
        )
        return _ReportingLineFeature(enter, leave)

    def _ancestor_pairs(self) -> tuple[IndexArray, IndexArray]:
        """(descendant, ancestor) for every pair in the same reporting line."""
        descendants: list[IndexArray] = []
        ancestors: list[IndexArray] = []
        current = np.arange(self.n, dtype=np.intp)
        above = self._managers.copy()
        while True:
            has = above >= 0
            if not has.any():
                break
            current, above = current[has], above[has]
            descendants.append(current)
            ancestors.append(above)
            above = self._managers[above]
        if not descendants:
            return np.zeros(0, dtype=np.intp), np.zeros(0, dtype=np.intp)
        return np.concatenate(descendants), np.concatenate(ancestors)

    def _blocked_pairs(self) -> sp.csr_matrix:
        """Pairs blocked by `avoid` (symmetric) or a forbidden lock."""
        pairs_left: list[int] = []
        pairs_right: list[int] = []
        if self._has_column("avoid"):
            for i, cell in enumerate(self._raw("avoid")):
                for other in split_ids(cell):
                    j = self._index.get(other)
                    if j is not None and j != i:
                        pairs_left.append(i)
                        pairs_right.append(j)
        for first, second in self.locks.forbidden:
            a, b = self._index.get(first.strip()), self._index.get(second.strip())
            if a is not None and b is not None and a != b:
                pairs_left.append(a)
                pairs_right.append(b)
        return _symmetric_pairs(
            self.n, np.array(pairs_left, dtype=np.intp), np.array(pairs_right, dtype=np.intp)
        )

    def _excluded_pairs(self) -> sp.csr_matrix:
        """Blocked pairs, plus reporting lines when they are cheap to list (else the
        reporting-line constraint is evaluated directly)."""
        if not self._reporting_as_exclusions:
            return self._blocked
        descendants, ancestors = self._ancestor_pairs()
        return (self._blocked + _symmetric_pairs(self.n, descendants, ancestors)).tocsr()

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

    # -- exact scoring (float64)

    def block(
        self, rows: IndexArray, cols: IndexArray, *, directed: bool = False
    ) -> tuple[FloatArray, BoolArray]:
        """Scores of every row against every column, and which of those pairs are allowed.

        With directed=True, complement is f(row -> col) (rows are side a), else the mean of both
        directions. A pair is allowed when i != j, its score reaches min_score, neither avoids the
        other, it is not a forbidden lock, and every constraint holds.
        """
        a, b = _outer(rows, cols)
        return self._evaluate(a, b, directed)

    def pair_scores(
        self, first: IndexArray, second: IndexArray, *, directed: bool = False
    ) -> tuple[FloatArray, BoolArray]:
        """Like `block`, but for the pairs (first[k], second[k]) only."""
        a = np.asarray(first, dtype=np.intp)
        b = np.asarray(second, dtype=np.intp)
        return self._evaluate(a, b, directed)

    def _evaluate(
        self, a: IndexArray, b: IndexArray, directed: bool
    ) -> tuple[FloatArray, BoolArray]:
        scores = self._scores(a, b, directed)
        allowed = scores >= self.policy.min_score - SCORE_TOLERANCE
        allowed &= self._constraints_hold(a, b)
        return scores, allowed

    def scores(self, rows: IndexArray, cols: IndexArray, *, directed: bool = False) -> FloatArray:
        """Only the scores of `block`."""
        a, b = _outer(rows, cols)
        return self._scores(a, b, directed)

    def _scores(self, a: IndexArray, b: IndexArray, directed: bool) -> FloatArray:
        shape = np.broadcast_shapes(a.shape, b.shape)
        total = np.zeros(shape, dtype=np.float64)
        for value, weight in zip(self._criterion_values(a, b, directed), self.weights, strict=True):
            total += weight * value
        return total

    def _criterion_values(self, a: IndexArray, b: IndexArray, directed: bool) -> list[FloatArray]:
        tables = self.criterion_tables(directed)
        return [
            table.lookup(a, b) if table is not None else feature.values(a, b, directed)
            for feature, table in zip(self._criterion_features, tables, strict=True)
        ]

    def constraints_hold(self, rows: IndexArray, cols: IndexArray) -> BoolArray:
        """Everything but min_score: not the same person, no avoid/forbidden, constraints hold."""
        a, b = _outer(rows, cols)
        return self._constraints_hold(a, b)

    def _constraints_hold(self, a: IndexArray, b: IndexArray) -> BoolArray:
        allowed: BoolArray = np.not_equal(a, b)
        allowed = np.broadcast_to(allowed, np.broadcast_shapes(a.shape, b.shape)).copy()
        for feature, table in zip(self._constraint_features, self._constraint_tables, strict=True):
            if table is not None:
                allowed &= table.lookup(a, b) > 0.5
            elif isinstance(feature, _ReportingLineFeature) and self._reporting_as_exclusions:
                continue
            else:
                allowed &= feature.holds(a, b)
        if self.excluded.nnz:
            allowed &= ~self._excluded_mask(a, b)
        return allowed

    def _excluded_mask(self, a: IndexArray, b: IndexArray) -> BoolArray:
        if a.ndim == 2 and a.shape[1] == 1 and b.ndim == 2 and b.shape[0] == 1:
            rows, cols = a[:, 0], b[0]
            mask = np.zeros((len(rows), len(cols)), dtype=np.bool_)
            sub = self.excluded[rows]
            if sub.nnz:
                position = np.full(self.n, -1, dtype=np.intp)
                position[cols] = np.arange(len(cols))
                local_rows = np.repeat(np.arange(len(rows)), np.diff(sub.indptr))
                local_cols = position[sub.indices]
                hit = local_cols >= 0
                mask[local_rows[hit], local_cols[hit]] = True
            return mask
        a_flat, b_flat = np.broadcast_arrays(a, b)
        values = np.asarray(self.excluded[a_flat.ravel(), b_flat.ravel()]).ravel()
        return np.asarray(values > 0, dtype=np.bool_).reshape(a_flat.shape)

    def criterion_values(
        self, rows: IndexArray, cols: IndexArray, *, directed: bool = False
    ) -> list[FloatArray]:
        """Each criterion's value in [0, 1] for the block (same order as policy.criteria)."""
        a, b = _outer(rows, cols)
        return self._criterion_values(a, b, directed)

    def pair_criterion_values(
        self, first: IndexArray, second: IndexArray, *, directed: bool = False
    ) -> list[FloatArray]:
        """Each criterion's value for the pairs (first[k], second[k])."""
        a = np.asarray(first, dtype=np.intp)
        b = np.asarray(second, dtype=np.intp)
        return self._criterion_values(a, b, directed)

    def pair_score(self, i: int, j: int, *, directed: bool = False) -> float:
        """score(i, j) per MATCHING.md."""
        return float(self._scores(np.array([i]), np.array([j]), directed)[0])

    def allowed(self, i: int, j: int, *, directed: bool = False) -> bool:
        """Whether i and j may be grouped together."""
        _, allowed = self._evaluate(np.array([i]), np.array([j]), directed)
        return bool(allowed[0])

    def contributions(
        self, i: int, j: int, *, directed: bool = False
    ) -> list[tuple[Criterion, float]]:
        """Each criterion with its value in [0, 1] for the pair (not weighted)."""
        values = self._criterion_values(np.array([i]), np.array([j]), directed)
        return [
            (criterion, float(value[0]))
            for criterion, value in zip(self.criteria, values, strict=True)
        ]

    def failed_constraints(self, i: int, j: int) -> list[Constraint]:
        """The policy constraints the pair breaks (avoid, locks and min_score not included)."""
        a, b = np.array([i]), np.array([j])
        return [
            constraint
            for constraint, feature in zip(
                self.policy.constraints, self._constraint_features, strict=True
            )
            if not bool(feature.holds(a, b)[0])
        ]

    def is_excluded(self, i: int, j: int) -> bool:
        """Whether the pair is blocked by `avoid` or a forbidden lock."""
        return bool(self._blocked[i, j])

    # -- fast whole-population passes

    def fast(
        self, pool: IndexArray, *, directed: bool = False, seed: int = 0, jitter: float = 1e-5
    ) -> FastScores:
        """A float32 scorer for large passes over `pool` x `pool` (see FastScores)."""
        return FastScores(
            self, np.asarray(pool, dtype=np.intp), directed=directed, seed=seed, jitter=jitter
        )


def _symmetric_pairs(n: int, left: IndexArray, right: IndexArray) -> sp.csr_matrix:
    """A symmetric 0/1 matrix with the given pairs."""
    rows = np.concatenate([left, right])
    cols = np.concatenate([right, left])
    matrix = sp.csr_matrix((np.ones(len(rows), dtype=np.int8), (rows, cols)), shape=(n, n))
    matrix.sum_duplicates()
    matrix.data[:] = 1
    return matrix


def _outer(rows: IndexArray, cols: IndexArray) -> tuple[IndexArray, IndexArray]:
    r = np.asarray(rows, dtype=np.intp).reshape(-1, 1)
    c = np.asarray(cols, dtype=np.intp).reshape(1, -1)
    return r, c


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
        self._direct_criteria: list[tuple[_Feature, float]] = []
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
        self._direct_constraints: list[_Feature] = []
        tabled = 0
        for feature, table in zip(
            scorer._constraint_features, scorer._constraint_tables, strict=True
        ):
            if table is not None:
                one_hot, column = _one_hot_and_columns(table, pool)
                violation_left.append(one_hot)
                violation_right.append(-column)
                tabled += 1
            elif isinstance(feature, _ReportingLineFeature) and scorer._reporting_as_exclusions:
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
    def build(cls, feature: _Feature, pool: IndexArray, weight: float) -> _OverlapTerm | None:
        if not (isinstance(feature, _SetFeature) and feature.kind == "overlap"):
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


def _one_hot_and_columns(table: _Table, pool: IndexArray) -> tuple[FloatArray, FloatArray]:
    codes = table.codes[pool]
    size = table.table.shape[0]
    one_hot = np.zeros((len(pool), size), dtype=np.float64)
    one_hot[np.arange(len(pool)), codes] = 1.0
    columns = table.table[:, codes].T
    return one_hot, columns


def _embed_values(
    feature: _Feature, table: _Table | None, pool: IndexArray, directed: bool
) -> tuple[FloatArray, FloatArray] | None:
    """Vectors L, R with value(a, b) = L[a] . R[b], or None when none are small enough."""
    if table is not None:
        return _one_hot_and_columns(table, pool)
    if isinstance(feature, _SetFeature) and feature.kind == "complement":
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
