"""Repair: free people get their best free partners, unsettled people extra candidates, and the
candidate graph around them is re-solved exactly (blossom) window by window."""

from __future__ import annotations

from collections import deque

import numpy as np
import rustworkx as rx
from numpy.typing import NDArray

from ..scoring import FastScores, Scorer
from .edges import EdgeSet, sorted_unique
from .params import COLUMN_BLOCK, INTEGER_SCALE, ROW_BLOCK
from .relaxation import score_dual
from .workers import block_workers

FloatArray = NDArray[np.float64]
IndexArray = NDArray[np.intp]

BLOCK_CELLS = ROW_BLOCK * COLUMN_BLOCK  # pairs held at once by one worker
# Exact re-optimisation windows around people the rounding could not settle.
WINDOW = 300
WHOLE_BELOW = 2500
WINDOW_SLACK = 0.05
WINDOW_DEGREE = 10
# People the rounding could not settle get this many extra candidates (within a budget).
ENLARGE_PER_PERSON = 16
ENLARGE_BUDGET = 3000
WINDOW_BUDGET = 3000  # people re-solved exactly, plus one in twenty of the pool


def repair_free(
    scorer: Scorer,
    pool: IndexArray,
    fast: FastScores,
    mate: IndexArray,
    edges: EdgeSet,
    bonus: float,
    *,
    add_candidates: bool = True,
) -> tuple[IndexArray, int]:
    """Give people left out their best allowed free partners; pair free people greedily.

    Returns the new matching and how many candidate edges were added.
    """
    free = np.flatnonzero(mate < 0)
    if len(free) < 2:
        return mate, 0
    per_person = 8
    owners: list[IndexArray] = []
    partners: list[IndexArray] = []
    for start in range(0, len(free), ROW_BLOCK):
        rows = free[start : start + ROW_BLOCK]
        keys = fast.keys(rows, free)
        keys[keys < np.float32(fast.min_score - fast.error)] = -np.inf
        take = min(per_person, len(free))
        best = np.argpartition(-keys, take - 1, axis=1)[:, :take]
        best_keys = np.take_along_axis(keys, best, axis=1)
        ok = np.isfinite(best_keys)
        owners.append(np.repeat(rows, take)[ok.ravel()])
        partners.append(free[best.ravel()][ok.ravel()])
    owner = np.concatenate(owners)
    partner = np.concatenate(partners)
    added = edges.add(scorer, pool, owner, partner) if add_candidates else 0
    if len(owner) == 0:
        return mate, added
    weight = edges.lookup(owner, partner)
    usable = np.isfinite(weight)
    owner, partner, weight = owner[usable], partner[usable], weight[usable]
    mate = mate.copy()
    for index in np.lexsort((partner, owner, -weight)).tolist():
        a, b = int(owner[index]), int(partner[index])
        if mate[a] < 0 and mate[b] < 0 and a != b:
            mate[a] = b
            mate[b] = a
    return mate, added


def enlarge(
    scorer: Scorer,
    pool: IndexArray,
    fast: FastScores,
    edges: EdgeSet,
    seeds: IndexArray,
    mate: IndexArray,
    dual: FloatArray,
    bonus: float,
) -> int:
    """Give the people the rounding could not settle their best partners by reduced cost.

    Where an odd cycle of the relaxation must be broken, the optimal matching needs pairs
    that are as good as the ones used but were never listed (ties make this common). Returns
    how many candidate edges were added.
    """
    m = len(mate)
    free_first = np.concatenate([seeds[mate[seeds] < 0], seeds[mate[seeds] >= 0]])
    rows_all = free_first[: ENLARGE_BUDGET + m // 50]
    shift = score_dual(dual, bonus).astype(np.float32)
    take = min(ENLARGE_PER_PERSON, m - 1)
    if take <= 0 or len(rows_all) == 0:
        return 0
    error = fast.set_shift(shift)
    floor = np.float32(fast.min_score - error)

    def best_partners(rows: IndexArray) -> tuple[IndexArray, IndexArray]:
        # key_ij - u_i - u_j ranks a row's partners exactly like key_ij - u_j.
        reduced = fast.shifted_keys(rows, slice(0, m))
        raw_floor = floor - shift[rows][:, None] - shift[None, :]
        reduced[reduced < raw_floor] = -np.inf
        best = np.argpartition(-reduced, take - 1, axis=1)[:, :take]
        ok = np.isfinite(np.take_along_axis(reduced, best, axis=1)).ravel()
        return np.repeat(rows, take)[ok], best.ravel()[ok]

    # Whole rows at a time: keep the groups small so that memory stays a few megabytes a row.
    rows_per_group = max(1, BLOCK_CELLS // max(m, 1))
    groups = [rows_all[i : i + rows_per_group] for i in range(0, len(rows_all), rows_per_group)]
    with block_workers() as executor:
        found = list(executor.map(best_partners, groups))
    return edges.add(
        scorer, pool, np.concatenate([f[0] for f in found]), np.concatenate([f[1] for f in found])
    )


def exact_windows(
    mate: IndexArray, edges: EdgeSet, bonus: float, seeds: IndexArray, dual: FloatArray
) -> IndexArray:
    """Re-solve exactly (blossom) the candidate graph around `seeds`, window by window.

    A window holds seeds, their partners, and candidate neighbours with their partners, so
    every pair touching the window lies inside it and can be re-paired freely. Windows are
    grown breadth-first so that people who could exchange partners end up together. Only
    pairs whose reduced cost w_ij - u_i - u_j is near zero (the ones an optimal matching uses,
    by complementary slackness) and current pairs enter the windows, which keeps them sparse
    when thousands of pairs tie.
    """
    m = len(mate)
    if len(seeds) == 0:
        return mate
    mate = mate.copy()
    if m <= WHOLE_BELOW:
        # Small enough to solve the whole candidate graph exactly in one window.
        window = m
        useful = np.ones(len(edges.weight), dtype=np.bool_)
    else:
        # The blossom algorithm's time varies wildly with ties beyond a few hundred people.
        window = WINDOW
        reduced = edges.weight + bonus - dual[edges.first] - dual[edges.second]
        near = reduced >= -WINDOW_SLACK
        useful = (
            near & (_ranked_within(edges.first, -reduced, m) < WINDOW_DEGREE)
            | near & (_ranked_within(edges.second, -reduced, m) < WINDOW_DEGREE)
            | (mate[edges.first] == edges.second)
        )
    first = np.concatenate([edges.first[useful], edges.second[useful]])
    second = np.concatenate([edges.second[useful], edges.first[useful]])
    weight = np.concatenate([edges.weight[useful], edges.weight[useful]])
    order = np.argsort(first, kind="stable")
    first, second, weight = first[order], second[order], weight[order]
    start_of = np.searchsorted(first, np.arange(m + 1))
    in_window = np.zeros(m, dtype=np.bool_)
    # People without a partner first: they have the most to gain.
    seeds = sorted_unique(seeds)
    pending = [*seeds[mate[seeds] < 0].tolist(), *seeds[mate[seeds] >= 0].tolist()]
    cursor = 0
    budget = WINDOW_BUDGET + m // 20
    while cursor < len(pending) and budget > 0:
        members: list[int] = []
        queue: deque[int] = deque()
        while cursor < len(pending) and len(members) < window:
            seed = pending[cursor]
            cursor += 1
            if not in_window[seed]:
                queue.append(seed)
            while queue and len(members) < window:
                person = queue.popleft()
                for unit in (person, int(mate[person])):
                    if unit >= 0 and not in_window[unit]:
                        in_window[unit] = True
                        members.append(unit)
                        neighbours = second[start_of[unit] : start_of[unit + 1]]
                        queue.extend(int(x) for x in neighbours[~in_window[neighbours]][:8])
        budget -= len(members)
        if len(members) >= 2:
            _solve_window(
                mate, np.array(members, dtype=np.intp), first, second, weight, start_of, bonus
            )
    return mate


def _ranked_within(group: IndexArray, key: FloatArray, size: int) -> IndexArray:
    """The rank of each item within its group when ordered by key (0 = smallest)."""
    order = np.lexsort((key, group))
    sorted_group = group[order]
    starts = np.searchsorted(sorted_group, np.arange(size))
    rank = np.empty(len(group), dtype=np.intp)
    rank[order] = np.arange(len(group)) - starts[sorted_group]
    return rank


def _solve_window(
    mate: IndexArray,
    members: IndexArray,
    first: IndexArray,
    second: IndexArray,
    weight: FloatArray,
    start_of: NDArray[np.int64],
    bonus: float,
) -> None:
    """Replace the pairs inside `members` by an optimal matching of their candidate graph."""
    m = len(mate)
    local = np.full(m, -1, dtype=np.intp)
    local[members] = np.arange(len(members))
    lengths = start_of[members + 1] - start_of[members]
    positions = np.repeat(start_of[members], lengths) + (
        np.arange(int(lengths.sum())) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    )
    a, b, w = first[positions], second[positions], weight[positions]
    inside = (local[b] >= 0) & (a < b)
    a, b, w = local[a[inside]], local[b[inside]], w[inside]
    if len(a) == 0:
        return
    # Pairs reaching outside the window stay as they are: drop their members from the graph.
    outside = (mate[members] >= 0) & (local[np.maximum(mate[members], 0)] < 0)
    usable = ~outside[a] & ~outside[b]
    a, b, w = a[usable], b[usable], w[usable]
    graph: rx.PyGraph = rx.PyGraph()
    graph.add_nodes_from(range(len(members)))
    scaled = np.rint((w + bonus) * INTEGER_SCALE).astype(np.int64) + 1
    graph.add_edges_from(list(zip(a.tolist(), b.tolist(), scaled.tolist(), strict=True)))
    matching = rx.max_weight_matching(graph, weight_fn=lambda value: int(value))
    new_value = sum(graph.get_edge_data(x, y) for x, y in matching)
    current_value = 0
    lookup = {(int(x), int(y)): int(v) for x, y, v in zip(a, b, scaled, strict=True)}
    for x in range(len(members)):
        partner = int(mate[members[x]])
        if partner >= 0 and local[partner] > x and not outside[x]:
            current_value += lookup.get((x, int(local[partner])), 0)
    if new_value <= current_value:
        return
    free = members[~outside]
    mate[free] = -1
    for x, y in matching:
        mate[members[x]] = members[y]
        mate[members[y]] = members[x]
