"""Groups (a side-a person with their side-b people), reasons, and who is left out and why."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from peermentor.matching import explain
from peermentor.matching.model import Group, Placement, Unmatched

from .params import BLOCK_PAIRS
from .problem import Problem, Weights

if TYPE_CHECKING:
    from peermentor.matching.scoring import Scorer

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]


def build_groups(
    scorer: Scorer,
    problem: Problem,
    assignment: IntArray,
    weights: FloatArray,
    side_a: str,
    side_b: str,
) -> tuple[list[Group], float]:
    """One group per host with at least one person: fixed people first, then new ones."""
    members: dict[int, list[tuple[int, float]]] = {}
    fixed_total = 0.0
    for fixed_head, fixed_tail in problem.fixed.items():
        for person in fixed_tail:
            fixed_score = scorer.pair_score(fixed_head, person, directed=True)
            fixed_total += fixed_score
            members.setdefault(fixed_head, []).append((person, fixed_score))
    for local_b in np.flatnonzero(assignment >= 0):
        host = int(problem.hosts[assignment[local_b]])
        members.setdefault(host, []).append(
            (int(problem.shadows[local_b]), float(weights[local_b]))
        )
    heads = sorted(members, key=lambda i: scorer.ids[i])
    pair_heads = [head for head in heads for _ in members[head]]
    pair_tails = [person for head in heads for person, _ in members[head]]
    texts = iter(
        explain.reasons_for_pairs(
            scorer,
            np.asarray(pair_heads, dtype=np.intp),
            np.asarray(pair_tails, dtype=np.intp),
            directed=True,
        )
    )
    groups: list[Group] = []
    for number, head in enumerate(heads, start=1):
        tail = [(person, score, next(texts)) for person, score in members[head]]
        tail.sort(key=lambda item: scorer.ids[item[0]])
        placements = [
            Placement(
                person_id=scorer.ids[head],
                role=side_a,
                score=None,
                reasons=_host_reason(len(tail), int(problem.capacity[head]), side_b),
            )
        ]
        placements.extend(
            Placement(person_id=scorer.ids[person], role=side_b, score=score, reasons=text)
            for person, score, text in tail
        )
        groups.append(
            Group(
                id=f"group-{number}",
                members=tuple(placements),
                score=math.fsum(score for _, score, _ in tail),
            )
        )
    return groups, fixed_total


def _host_reason(taken: int, capacity: int, side_b: str) -> str:
    return f"takes {taken} {side_b}{'' if taken == 1 else 's'} (capacity {capacity})"


def _any_rules_hold(
    scorer: Scorer, rows: IntArray, cols: IntArray, *, axis: int
) -> NDArray[np.bool_]:
    """Whether some pair of rows x cols passes every rule but min_score, along `axis`."""
    found = np.zeros(len(cols) if axis == 0 else len(rows), dtype=bool)
    if len(rows) == 0 or len(cols) == 0:
        return found
    step = max(1, BLOCK_PAIRS // len(cols))
    for start in range(0, len(rows), step):
        holds = scorer.constraints_hold(rows[start : start + step], cols)
        if axis == 0:
            found |= holds.any(axis=0)
        else:
            found[start : start + step] = holds.any(axis=1)
    return found


def unmatched_people(
    scorer: Scorer,
    problem: Problem,
    assignment: IntArray,
    weights: Weights,
    side_a: str,
    side_b: str,
) -> list[Unmatched]:
    """Why each person not in a group was left out, in words a participant understands."""
    reasons: dict[int, str] = dict(problem.role_problems)
    # Context people are matched elsewhere: not left out, so not listed (as in pairs).
    below = f"{explain.BELOW_MIN_SCORE} ({scorer.policy.min_score:g})"
    n_a, n_b = len(problem.hosts), len(problem.shadows)
    placed_b = assignment >= 0
    load = np.bincount(assignment[placed_b], minlength=n_a)

    lonely_b = np.flatnonzero(~placed_b & (weights.allowed_b == 0))
    near_b = dict(
        zip(
            lonely_b.tolist(),
            _any_rules_hold(scorer, problem.side_a_all, problem.shadows[lonely_b], axis=0).tolist(),
            strict=True,
        )
    )
    for b in np.flatnonzero(~placed_b).tolist():
        person = int(problem.shadows[b])
        if len(problem.side_a_all) == 0:
            reasons[person] = f"nobody is on side a ({side_a})"
        elif n_a == 0:
            reasons[person] = f"capacity of side a exhausted: every {side_a} is full"
        elif weights.allowed_b[b] == 0:
            reasons[person] = below if near_b[b] else explain.NO_PARTNER
        else:
            reasons[person] = f"capacity of side a exhausted: every allowed {side_a} is full"

    idle = [a for a in range(n_a) if load[a] == 0 and int(problem.hosts[a]) not in problem.fixed]
    lonely_a = [a for a in idle if weights.allowed_a[a] == 0]
    near_a = dict(
        zip(
            lonely_a,
            _any_rules_hold(
                scorer, problem.hosts[np.asarray(lonely_a, dtype=np.intp)], problem.shadows, axis=1
            ).tolist(),
            strict=True,
        )
    )
    for a in idle:
        person = int(problem.hosts[a])
        if n_b == 0:
            reasons[person] = f"nobody is left to place on side b ({side_b})"
        elif weights.allowed_a[a] == 0:
            reasons[person] = below if near_a[a] else explain.NO_PARTNER
        else:
            reasons[person] = f"every allowed {side_b} went to a {side_a} who fits them better"
    free_hosts = set(problem.hosts.tolist())
    for a in problem.side_a_all.tolist():
        if a not in free_hosts and a not in problem.fixed:
            reasons[a] = "capacity is 0"
    return [
        Unmatched(id=scorer.ids[i], reason=reason)
        for i, reason in sorted(reasons.items(), key=lambda item: scorer.ids[item[0]])
    ]
