"""The bipartite solver's entry point: column generation until no pair prices out, then the
result."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from peermentor.matching.model import InputError, Locks, MatchResult, Policy, ProgressCallback

from .assignment import assigned_scores, assignment_duals, complete_with_spare, solve_assignment
from .pricing import Edges, Pricing, price_pairs
from .problem import Problem, Weights
from .result import build_groups, unmatched_people

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]

if TYPE_CHECKING:
    from peermentor.matching.scoring import Scorer


# The first rounds rebuild the candidates around the latest duals (keeping the assignment), so
# the assignment problem stays small; later rounds only add pairs, which guarantees termination.
REBUILD_ROUNDS = 4
MAX_ROUNDS = 30
# A pair prices out when its reduced cost exceeds this: far above rounding noise, far below
# any difference between two scores that matters.
PRICE_TOLERANCE = 1e-9
# The result counts as certified optimal when the bound exceeds its total by no more than this
# (MATCHING.md's tolerance for scores).
CERTIFY_TOLERANCE = 1e-6


def solve_bipartite(
    scorer: Scorer,
    policy: Policy,
    *,
    locks: Locks = Locks(),  # noqa: B008 - frozen dataclass, safe as a default
    seed: int = 0,
    progress: ProgressCallback | None = None,
) -> MatchResult:
    """Assign side-b people to side-a people optimally.

    After the call: every group is one side-a person with the side-b people assigned to them,
    at most `capacity` of them (fixed groups from `locks` count against it), every new pair is
    allowed, nobody in `locks.context` is placed, and the total is the exact optimum for the
    objective, certified by `upper_bound` (equal to the total within 1e-6 when `stats["certified"]`
    is 1). `seed` is accepted for a uniform solver signature; the result does not depend on it.
    """
    del seed  # every step is deterministic
    started = time.perf_counter()
    report = progress or _no_progress
    if policy.sides is None:
        raise InputError("a bipartite policy needs sides = { field, a, b }", field="sides")
    side_a_name, side_b_name = policy.sides.a, policy.sides.b
    problem = Problem.build(scorer, policy, locks)
    n_a, n_b = len(problem.hosts), len(problem.shadows)
    participation = policy.objective == "participation"
    # One more placement must outweigh any change of score: an augmenting path displaces at
    # most min(slots, side-b people) pairs, each worth at most 1.
    big_m = float(min(int(problem.free_capacity.sum()), n_b) + 1) if participation else 0.0
    weights = Weights(scorer, problem, big_m)

    solved = _column_generation(weights, problem, big_m, report)
    report("writing groups", 0.95)
    assignment, pair_weight = _final_assignment(weights, problem, solved, big_m, participation)
    placed_b = int(np.count_nonzero(assignment >= 0))
    new_total = math.fsum(pair_weight[assignment >= 0].tolist())
    new_bound = new_total
    if solved.pricing is not None:
        dual_bound = float(problem.free_capacity @ solved.u + solved.pricing.best_response_v.sum())
        new_bound = max(new_total, dual_bound - big_m * placed_b)
    certified = new_bound - new_total <= CERTIFY_TOLERANCE

    groups, fixed_total = build_groups(
        scorer, problem, assignment, pair_weight, side_a_name, side_b_name
    )
    unmatched = unmatched_people(scorer, problem, assignment, weights, side_a_name, side_b_name)
    report("done", 1.0)
    return MatchResult(
        groups=tuple(groups),
        unmatched=tuple(unmatched),
        total_score=fixed_total + new_total,
        upper_bound=fixed_total + new_bound,
        seconds=time.perf_counter() - started,
        placed=sum(len(group.members) for group in groups),
        stats={
            "certified": 1.0 if certified else 0.0,
            "gap": new_bound - new_total,
            "rounds": float(solved.rounds),
            "candidate_pairs": float(len(solved.candidates.w)),
            "side_a": float(n_a),
            "side_b": float(n_b),
        },
    )


def _no_progress(stage: str, fraction: float) -> None:
    del stage, fraction


@dataclass
class _Solved:
    """The last round of column generation."""

    u: FloatArray  # host duals
    candidates: Edges
    assignment: IntArray  # side-b local index -> host local index (-1: none)
    pricing: Pricing | None  # the last pass over all pairs (None: a side is empty)
    rounds: int


def _column_generation(
    weights: Weights, problem: Problem, big_m: float, report: ProgressCallback
) -> _Solved:
    """Solve the assignment on the candidates, recover duals, price every pair, add the pairs
    that price out; until none does (or MAX_ROUNDS)."""
    n_a, n_b = len(problem.hosts), len(problem.shadows)
    u = np.zeros(n_a)
    candidates = Edges.empty()
    assignment = np.full(n_b, -1, dtype=np.intp)
    pricing: Pricing | None = None
    rounds = 0
    if n_a and n_b:
        report("scoring every pair", 0.0)
        pricing = price_pairs(weights, u, np.zeros(n_b), None, first=True, progress=report)
        candidates = pricing.edges.merged(Edges.empty(), n_b)
        for rounds in range(1, MAX_ROUNDS + 1):
            report(f"solving the assignment (round {rounds})", 0.5)
            assignment = solve_assignment(candidates, problem.free_capacity, n_b, big_m)
            u, v = assignment_duals(candidates, assignment, problem.free_capacity)
            pricing = price_pairs(weights, u, v, assignment, first=False, progress=report)
            if pricing.max_reduced <= PRICE_TOLERANCE:
                break
            if rounds < REBUILD_ROUNDS:
                candidates = candidates.assigned(assignment).merged(pricing.edges, n_b)
            else:
                candidates = candidates.merged(pricing.edges, n_b)
    return _Solved(u, candidates, assignment, pricing, rounds)


def _final_assignment(
    weights: Weights, problem: Problem, solved: _Solved, big_m: float, participation: bool
) -> tuple[IntArray, FloatArray]:
    """The assignment with exact scores per side-b person, completed with zero-score pairs."""
    assignment = solved.assignment
    pair_weight = assigned_scores(solved.candidates, assignment, big_m)
    if big_m:
        # w' - M loses the last bits of the score; score the assigned pairs again exactly.
        placed_now = np.flatnonzero(assignment >= 0)
        pair_weight[placed_now] = weights.exact(assignment[placed_now], placed_now)
    if solved.pricing is not None and not participation:
        # Zero-score pairs cost nothing: place whoever still has an allowed host with room.
        assignment, pair_weight = complete_with_spare(
            weights, problem, assignment, pair_weight, solved.pricing
        )
    return assignment, pair_weight
