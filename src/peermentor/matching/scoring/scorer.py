"""The exact scorer: every criterion and constraint of a policy over the people, encoded once;
blocks and lists of pairs scored in float64, exactly as MATCHING.md defines them."""

from __future__ import annotations

from collections.abc import Hashable, Sequence

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from ..model import Constraint, Criterion, InputError, Locks, Person, Policy
from ..profiles import line_of, normalise_value, parse_number, split_ids, split_values
from .fast import FastScores
from .features import (
    Feature,
    NumberFeature,
    ReportingLineFeature,
    SetFeature,
    Table,
    encode_sets,
    tabulate_holds,
    tabulate_values,
)

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]
IndexArray = NDArray[np.intp]

# A pair whose score is within this of min_score counts as reaching it: scores are sums of
# floating-point fractions and must not flip on the last bit.
SCORE_TOLERANCE = 1e-9
# Reporting lines are turned into an exclusion list when that list stays this small per person.
_MAX_ANCESTOR_PAIRS_PER_PERSON = 64


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
        self._criterion_tables: dict[bool, list[Table | None]] = {}
        self._reporting_as_exclusions = False
        self._constraint_features = [self._constraint_feature(c) for c in policy.constraints]
        self._constraint_tables = [tabulate_holds(f) for f in self._constraint_features]
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

    def _criterion_feature(self, criterion: Criterion) -> Feature:
        if criterion.kind == "near":
            assert criterion.field is not None and criterion.scale is not None
            return NumberFeature(self.numbers(criterion.field), criterion.scale)
        if criterion.kind == "complement":
            assert criterion.offer is not None and criterion.want is not None
            sets = encode_sets([self.column(criterion.offer), self.column(criterion.want)])
            return SetFeature("complement", sets, self._set_keys(criterion.offer, criterion.want))
        assert criterion.field is not None
        sets = encode_sets([self.column(criterion.field)])
        return SetFeature(criterion.kind, sets, self._set_keys(criterion.field))

    def _constraint_feature(self, constraint: Constraint) -> Feature:
        if constraint.kind == "max_gap":
            assert constraint.field is not None and constraint.max is not None
            return NumberFeature(self.numbers(constraint.field), constraint.max)
        if constraint.kind == "not_in_reporting_line":
            return self._reporting_tree()
        assert constraint.field is not None
        sets = encode_sets([self.column(constraint.field)])
        return SetFeature(constraint.kind, sets, self._set_keys(constraint.field))

    def criterion_tables(self, directed: bool) -> list[Table | None]:
        """Per criterion, its lookup table when its column has few distinct values."""
        if directed not in self._criterion_tables:
            self._criterion_tables[directed] = [
                tabulate_values(f, directed) for f in self._criterion_features
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

    def _reporting_tree(self) -> ReportingLineFeature:
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
        return ReportingLineFeature(enter, leave)

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
            elif isinstance(feature, ReportingLineFeature) and self._reporting_as_exclusions:
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
