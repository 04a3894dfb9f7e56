"""The assignment on the candidate pairs (sparse LAPJV) and the optimal LP duals recovered from
it; completing with zero-score pairs."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray
from scipy.optimize import linprog
from scipy.sparse.csgraph import min_weight_full_bipartite_matching

from .pricing import Edges, Pricing
from .problem import Problem, Weights

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]


def solve_assignment(edges: Edges, capacity: NDArray[np.int64], n_b: int, big_m: float) -> IntArray:
    """The optimal assignment on the candidate pairs (side-b local index -> host, -1 none).

    Hosts become min(capacity, candidates) slots; each side-b person also gets a private column
    meaning "unassigned", so a full matching always exists. Costs are shifted into [1, 2 + M]
    because the sparse solver treats a zero entry as a missing edge.
    """
    assignment = np.full(n_b, -1, dtype=np.intp)
    if len(edges.w) == 0:
        return assignment
    n_a = len(capacity)
    degree = np.bincount(edges.a, minlength=n_a)
    slots = np.minimum(capacity, degree)
    slot_start = np.concatenate([[0], np.cumsum(slots)])
    n_slots = int(slot_start[-1])
    repeats = slots[edges.a]
    rows = np.repeat(edges.b, repeats)
    first_slot = np.repeat(slot_start[edges.a], repeats)
    offset = np.arange(len(rows)) - np.repeat(np.cumsum(repeats) - repeats, repeats)
    cols = first_slot + offset
    ceiling = 2.0 + big_m
    cost = np.concatenate([ceiling - np.repeat(edges.w, repeats), np.full(n_b, ceiling)])
    graph = sp.csr_matrix(
        (
            cost,
            (
                np.concatenate([rows, np.arange(n_b)]),
                np.concatenate([cols, n_slots + np.arange(n_b)]),
            ),
        ),
        shape=(n_b, n_slots + n_b),
    )
    matched_rows, matched_cols = min_weight_full_bipartite_matching(graph)
    slot_host = np.repeat(np.arange(n_a, dtype=np.intp), slots)
    real = matched_cols < n_slots
    assignment[matched_rows[real]] = slot_host[matched_cols[real]]
    return assignment


def assignment_duals(
    edges: Edges, assignment: IntArray, capacity: NDArray[np.int64]
) -> tuple[FloatArray, FloatArray]:
    """Optimal LP duals of the candidate problem, recovered from its optimal assignment.

    Complementary slackness fixes v_b = w_ab - u_a on assigned pairs, v_b = 0 for unassigned
    people and u_a = 0 for hosts with room; dual feasibility then reads u_a <= w_ab for b assigned
    to a, and u_a' <= u_a + w_a'b - w_ab when b is assigned to a' and a is another candidate.
    Of all optimal duals we take the LARGEST host duals (shortest-path potentials of these
    exchanges, by Bellman-Ford): a host that many people want is priced as high as its current
    partners allow, which deters the pairs outside the candidates best and so keeps the bound
    tight and the pricing rounds few. A cycle that keeps lowering the potentials would be an
    improving exchange, impossible at the optimum; should rounding produce one, the LP solver
    supplies the duals instead.
    """
    n_a, n_b = len(capacity), len(assignment)
    owner = assignment[edges.b]
    own = owner == edges.a
    assigned_w = np.zeros(n_b)
    assigned_w[edges.b[own]] = edges.w[own]
    load = np.bincount(edges.a[own], minlength=n_a)
    u = np.full(n_a, np.inf)
    np.minimum.at(u, edges.a[own], edges.w[own])
    u[load < capacity] = 0.0
    exchange = (owner >= 0) & ~own
    source = edges.a[exchange]
    target = owner[exchange]
    length = assigned_w[edges.b[exchange]] - edges.w[exchange]
    active = np.ones(n_a, dtype=bool)
    for _ in range(n_a + 2):
        live = active[source]
        if not live.any():
            break
        proposal = u.copy()
        np.minimum.at(proposal, target[live], u[source[live]] + length[live])
        active = proposal < u - 1e-12
        u = np.where(active, proposal, u)
    else:
        return _lp_duals(edges, capacity, n_b)
    u = np.maximum(u, 0.0)
    v = np.zeros(n_b)
    np.maximum.at(v, edges.b, edges.w - u[edges.a])
    return u, np.maximum(v, 0.0)


def _lp_duals(edges: Edges, capacity: NDArray[np.int64], n_b: int) -> tuple[FloatArray, FloatArray]:
    """Duals of the candidate LP from HiGHS (only when the exchange graph does not settle)."""
    n_a, m = len(capacity), len(edges.w)
    columns = np.arange(m)
    matrix = sp.vstack(
        [
            sp.csr_matrix((np.ones(m), (edges.a, columns)), shape=(n_a, m)),
            sp.csr_matrix((np.ones(m), (edges.b, columns)), shape=(n_b, m)),
        ]
    ).tocsc()
    result = linprog(
        -edges.w,
        A_ub=matrix,
        b_ub=np.concatenate([capacity.astype(np.float64), np.ones(n_b)]),
        bounds=(0, None),
        method="highs",
    )
    if result.status != 0:
        raise RuntimeError(f"the assignment LP failed: {result.message}")
    duals = np.maximum(-np.asarray(result.ineqlin.marginals, dtype=np.float64), 0.0)
    return duals[:n_a], duals[n_a:]


def assigned_scores(edges: Edges, assignment: IntArray, big_m: float) -> FloatArray:
    """Each side-b person's score with their host (0 when unassigned)."""
    scores = np.zeros(len(assignment))
    own = assignment[edges.b] == edges.a
    scores[edges.b[own]] = edges.w[own] - big_m
    return scores


def complete_with_spare(
    weights: Weights,
    problem: Problem,
    assignment: IntArray,
    scores: FloatArray,
    pricing: Pricing,
) -> tuple[IntArray, FloatArray]:
    """Give unplaced side-b people a host with room if an allowed one exists.

    At the optimum such pairs score 0 (a positive one would improve the result), so the total does
    not change, but more people get a partner. Each person has one candidate host (the best with
    room in the last pricing pass); the host's room is re-checked as it fills.
    """
    load = np.bincount(assignment[assignment >= 0], minlength=len(problem.hosts))
    assignment = assignment.copy()
    added: list[int] = []
    for b in np.flatnonzero((assignment < 0) & (pricing.spare_a >= 0)).tolist():
        a = int(pricing.spare_a[b])
        if load[a] < problem.free_capacity[a]:
            assignment[b] = a
            load[a] += 1
            added.append(b)
    if added:
        chosen = np.asarray(added, dtype=np.intp)
        scores = scores.copy()
        scores[chosen] = weights.exact(assignment[chosen], chosen)
    return assignment, scores
