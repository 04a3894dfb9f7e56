"""The circles solver's entry point: pool, oracle, then build, repair, search and report."""

from __future__ import annotations

import dataclasses
import time
from typing import TYPE_CHECKING

import numpy as np

from peermentor.matching.model import InputError, Locks, MatchResult, Policy, ProgressCallback

from .bound import relaxation_bound
from .build import construct
from .exact import solve_small
from .oracle import DenseOracle, ExactOracle, Oracle
from .params import NEIGHBOURS
from .polish import polish
from .repair import repair_unplaced
from .result import build_result
from .search import local_search, perturb
from .state import State, balance_codes

if TYPE_CHECKING:
    from peermentor.matching.scoring import Scorer


# Up to this many people the pair scores live in a dense float32 matrix (576 MB at the limit).
DENSE_LIMIT = 12_000
# Time for polishing with every move and swap (dense pools).
POLISH_SECONDS = 10.0
# Time for the relaxation that bounds every grouping (it keeps the best bound found by then).
RELAXATION_SECONDS = 10.0
# Up to this many people, circles are chosen by exhaustive search (exactly optimal).
EXACT_LIMIT = 12


def solve_circles(
    scorer: Scorer,
    policy: Policy,
    *,
    locks: Locks = Locks(),  # noqa: B008 - frozen dataclass, safe as a default
    seed: int = 0,
    progress: ProgressCallback | None = None,
) -> MatchResult:
    """Form circles that place as many people as possible with a high total score.

    After the call: every circle has between lo and hi members (fixed circles from `locks` stay
    exactly as given), every pair inside a new circle is allowed, nobody is in two circles,
    context people are not placed, and every person left out has a reason. The same inputs and
    seed give the same result. `upper_bound` is a valid bound on the total of any result.
    """
    started = time.perf_counter()
    report = progress or _no_progress
    if policy.group_size is None:
        raise InputError(
            "a circles policy needs group_size = [smallest, largest]", field="group_size"
        )
    lo, hi = policy.group_size
    rng = np.random.default_rng(seed)

    fixed = [[_index(scorer, person_id) for person_id in group] for group in locks.fixed]
    context = ~np.asarray(scorer.active, dtype=bool)
    for person_id in locks.context:
        context[_index(scorer, person_id)] = True
    taken = context.copy()
    for group in fixed:
        if any(context[i] for i in group):
            raise InputError(
                f"fixed circle ({', '.join(scorer.ids[i] for i in group)}) names a context-only "
                "person",
                field="locks",
            )
        taken[group] = True
    pool = np.flatnonzero(~taken).astype(np.intp)

    report("scoring candidate partners", 0.0)
    oracle: Oracle = (
        DenseOracle(scorer, pool, seed)
        if len(pool) <= DENSE_LIMIT
        else ExactOracle(scorer, pool, seed)
    )
    neighbours = oracle.neighbours(NEIGHBOURS, lo - 1, report)
    state = State(len(pool), lo, hi, oracle, balance_codes(scorer, policy, pool))

    report("building circles", 0.3)
    sweeps = perturbations = 0
    left = float("nan")
    if lo <= len(pool) <= EXACT_LIMIT:
        solve_small(state, quality=policy.objective != "participation")
    elif len(pool) > EXACT_LIMIT:
        construct(state, neighbours, rng)
        repair_unplaced(state, neighbours, rng)
        report("improving circles", 0.5)
        sweeps = local_search(state, neighbours, rng, report)
        if repair_unplaced(state, neighbours, rng):
            sweeps += local_search(state, neighbours, rng, report)
        perturbations = perturb(state, neighbours, rng, report)
        report("polishing circles", 0.85)
        left = polish(state, time.perf_counter() + POLISH_SECONDS)

    report("bounding", 0.9)
    relaxed, relaxation_stats = relaxation_bound(oracle, neighbours, lo, seconds=RELAXATION_SECONDS)
    report("writing circles", 0.95)
    result = build_result(scorer, policy, pool, fixed, state, neighbours, started, sweeps, relaxed)
    stats = {
        **result.stats,
        **relaxation_stats,
        "perturbations_kept": float(perturbations),
        "best_move_or_swap_left": left,
    }
    result = dataclasses.replace(result, stats=stats)
    report("done", 1.0)
    return result


def _no_progress(stage: str, fraction: float) -> None:
    del stage, fraction


def _index(scorer: Scorer, person_id: str) -> int:
    try:
        return scorer.index(person_id)
    except KeyError:
        raise InputError(f"a lock names unknown id {person_id!r}", field="locks") from None
