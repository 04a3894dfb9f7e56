"""Pairs: results are valid, scores match the formulas, small cases equal brute force, the bound
is never below the optimum, and the organisations that break naive solvers are handled."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from functools import cache

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from peermentor.matching import api
from peermentor.matching.model import (
    Constraint,
    Criterion,
    InputError,
    Locks,
    MatchResult,
    Person,
    Policy,
)
from peermentor.matching.pairs import solve_pairs
from peermentor.matching.scoring import Scorer

from . import reference

POLICY = Policy(
    min_score=0.1,
    criteria=(
        Criterion(kind="complement", offer="offer", want="want", weight=3),
        Criterion(kind="same", field="site", weight=1),
        Criterion(kind="near", field="years", scale=6, weight=1),
        Criterion(kind="different", field="dept", weight=1),
    ),
    constraints=(
        Constraint(kind="must_differ", field="dept"),
        Constraint(kind="not_in_reporting_line"),
    ),
)


def run(
    people: Sequence[Person],
    policy: Policy = POLICY,
    *,
    locks: Locks | None = None,
    large: bool = False,
    seed: int = 0,
) -> MatchResult:
    scorer = Scorer(people, policy, locks=locks)
    return solve_pairs(scorer, policy, locks=locks, seed=seed, exact_below=-1 if large else 300)


def pairs_of(result: MatchResult) -> list[tuple[str, str]]:
    return [(g.members[0].person_id, g.members[1].person_id) for g in result.groups]


def assert_valid(
    people: Sequence[Person], policy: Policy, result: MatchResult, locks: Locks | None = None
) -> None:
    locks = locks or Locks()
    by_id = {p.id: p for p in people}
    seen: set[str] = set()
    fixed = {frozenset(group) for group in locks.fixed}
    for group in result.groups:
        assert len(group.members) == 2
        a, b = (by_id[m.person_id] for m in group.members)
        assert {m.role for m in group.members} == {"peer"}
        assert not ({a.id, b.id} & seen), "nobody appears twice"
        seen |= {a.id, b.id}
        expected = reference.score(policy, a, b)
        assert group.score == pytest.approx(expected, abs=1e-9)
        assert all(m.score == pytest.approx(expected, abs=1e-9) for m in group.members)
        if frozenset((a.id, b.id)) not in fixed:
            assert reference.allowed(policy, people, a, b, forbidden=locks.forbidden)
        assert group.members[0].reasons
    assert not seen & set(locks.context)
    assert result.placed == len(seen)
    assert result.total_score == pytest.approx(sum(g.score for g in result.groups), abs=1e-9)
    unmatched = {u.id for u in result.unmatched}
    assert unmatched == {p.id for p in people} - seen - set(locks.context)
    assert all(u.reason for u in result.unmatched)
    assert result.upper_bound is not None
    assert result.upper_bound >= result.total_score - 1e-9


def brute_force(
    people: Sequence[Person], policy: Policy, *, forbidden: Sequence[tuple[str, str]] = ()
) -> tuple[float, tuple[int, float]]:
    """(best total, (most pairs, best total among those)) over every valid set of pairs."""
    n = len(people)
    weight: dict[tuple[int, int], float] = {}
    for i in range(n):
        for j in range(i + 1, n):
            if reference.allowed(policy, people, people[i], people[j], forbidden=forbidden):
                weight[(i, j)] = reference.score(policy, people[i], people[j])

    @cache
    def best(remaining: frozenset[int]) -> tuple[float, tuple[int, float]]:
        if len(remaining) < 2:
            return 0.0, (0, 0.0)
        first = min(remaining)
        rest = remaining - {first}
        quality, participation = best(rest)  # first stays unmatched
        for other in rest:
            w = weight.get((first, other))
            if w is None:
                continue
            q, (count, total) = best(rest - {other})
            quality = max(quality, q + w)
            participation = max(participation, (count + 1, total + w))
        return quality, participation

    return best(frozenset(range(n)))


VALUES = st.sampled_from(["", "a", "b", "c", "a;b"])


@st.composite
def organisations(draw: st.DrawFn, max_size: int = 10) -> list[Person]:
    n = draw(st.integers(min_value=0, max_value=max_size))
    ids = [f"p{i:02d}" for i in range(n)]
    return [
        Person(
            id=ids[i],
            attributes={
                "offer": draw(VALUES),
                "want": draw(VALUES),
                "site": draw(st.sampled_from(["x", "y", ""])),
                "years": draw(st.sampled_from(["", "1", "3", "8"])),
                "dept": draw(st.sampled_from(["d1", "d2", "d3", ""])),
                "manager_id": draw(st.sampled_from(["", *ids[:i]])),
                "avoid": draw(st.sampled_from(["", "", *ids])),
            },
        )
        for i in range(n)
    ]


@settings(max_examples=40, deadline=None)
@given(organisations(), st.booleans(), st.sampled_from(["quality", "participation"]))
def test_small_results_equal_brute_force(people: list[Person], large: bool, objective: str) -> None:
    policy = dataclasses.replace(POLICY, objective=objective)  # type: ignore[arg-type]
    result = run(people, policy, large=large)
    assert_valid(people, policy, result)
    quality, (most_pairs, best_total_with_most) = brute_force(people, policy)
    assert result.upper_bound is not None
    assert result.upper_bound >= quality - 1e-9, "the bound is never below the optimum"
    if objective == "quality":
        assert result.total_score == pytest.approx(quality, abs=1e-6)
    else:
        assert result.placed == 2 * most_pairs
        assert result.total_score == pytest.approx(best_total_with_most, abs=1e-6)


@settings(max_examples=15, deadline=None)
@given(organisations(max_size=40), st.integers(min_value=0, max_value=3))
def test_large_pipeline_is_valid_and_certified(people: list[Person], seed: int) -> None:
    result = run(people, large=True, seed=seed)
    assert_valid(people, POLICY, result)
    if len(people) <= 12:
        quality, _ = brute_force(people, POLICY)
        assert result.upper_bound is not None and result.upper_bound >= quality - 1e-9


def skills_org(n: int, seed: int, *, hubs: int = 0, departments: int = 8) -> list[Person]:
    rng = np.random.default_rng(seed)
    skills = [f"s{i}" for i in range(12)]
    # Skewed department sizes: the first is about a third of everyone.
    weights = 1.0 / np.arange(1, departments + 1)
    weights /= weights.sum()
    people = []
    for i in range(n):
        offer = skills if i < hubs else list(rng.choice(skills, rng.integers(1, 3), replace=False))
        people.append(
            Person(
                id=f"e{i:04d}",
                attributes={
                    "offer": ";".join(offer),
                    "want": ";".join(rng.choice(skills, rng.integers(1, 3), replace=False)),
                    "site": str(rng.choice(["x", "y", "z"])),
                    "years": str(int(rng.integers(0, 15))),
                    "dept": f"d{rng.choice(departments, p=weights)}",
                    "manager_id": f"e{rng.integers(0, i):04d}" if i > 5 else "",
                    "avoid": "",
                },
            )
        )
    return people


@pytest.mark.parametrize("hubs", [0, 5])
def test_large_pipeline_close_to_exact_on_skewed_and_hub_organisations(hubs: int) -> None:
    people = skills_org(260, seed=hubs, hubs=hubs)
    exact = run(people)
    heuristic = run(people, large=True)
    assert_valid(people, POLICY, heuristic)
    assert_valid(people, POLICY, exact)
    assert exact.upper_bound is not None and heuristic.upper_bound is not None
    assert heuristic.upper_bound >= exact.total_score - 1e-9
    assert heuristic.total_score >= 0.995 * exact.total_score
    assert heuristic.total_score >= 0.99 * heuristic.upper_bound


def test_heavy_ties_with_coarse_criteria() -> None:
    rng = np.random.default_rng(3)
    people = [
        Person(
            id=f"t{i:03d}",
            attributes={"site": str(rng.choice(["a", "b"])), "dept": f"d{rng.integers(0, 3)}"},
        )
        for i in range(401)
    ]
    policy = Policy(
        criteria=(
            Criterion(kind="same", field="site", weight=1),
            Criterion(kind="different", field="dept", weight=1),
        ),
        constraints=(Constraint(kind="must_differ", field="dept"),),
    )
    exact = run(people, policy)
    heuristic = run(people, policy, large=True)
    assert_valid(people, policy, heuristic)
    assert heuristic.total_score >= 0.995 * exact.total_score
    assert heuristic.upper_bound is not None
    assert heuristic.upper_bound >= exact.total_score - 1e-9


def test_everybodys_favourite_does_not_leave_others_without_partners() -> None:
    # One person offers everything everyone wants; everybody else is only a weak match.
    people = [Person(id="hub", attributes={"offer": "x;y;z", "want": "", "dept": "h"})]
    people += [
        Person(id=f"f{i:02d}", attributes={"offer": "", "want": "x", "dept": f"d{i}"})
        for i in range(31)
    ]
    policy = Policy(
        criteria=(
            Criterion(kind="complement", offer="offer", want="want", weight=1),
            Criterion(kind="different", field="dept", weight=1),
        )
    )
    for large in (False, True):
        result = run(people, policy, large=large)
        assert_valid(people, policy, result)
        assert result.placed == 32


def test_unmatched_reasons() -> None:
    policy = Policy(
        min_score=0.5,
        criteria=(Criterion(kind="same", field="site", weight=1),),
        constraints=(Constraint(kind="must_differ", field="dept"),),
    )
    people = [
        Person(id="a", attributes={"site": "x", "dept": "1"}),
        Person(id="b", attributes={"site": "x", "dept": "2"}),
        Person(id="c", attributes={"site": "x", "dept": "3"}),  # everyone suitable is taken
        Person(id="d", attributes={"site": "y", "dept": ""}),  # unknown dept: no partner
        Person(id="e", attributes={"site": "z", "dept": "4"}),  # nobody at site z
    ]
    result = run(people, policy)
    reasons = {u.id: u.reason for u in result.unmatched}
    assert len(result.groups) == 1
    left_over = next(i for i in "abc" if i in reasons)
    assert reasons[left_over] == "every allowed partner is taken"
    assert reasons["d"] == "no allowed partner"
    assert reasons["e"] == "no allowed partner scores at least min_score (0.5)"


def test_locks_fixed_forbidden_and_context() -> None:
    people = skills_org(30, seed=7)
    ids = [p.id for p in people]
    free = Scorer(people, POLICY)
    # Fix a pair the rules now forbid (same department): it stays anyway.
    same_dept = next(
        (a.id, b.id)
        for a in people
        for b in people
        if a.id < b.id and a.attributes["dept"] == b.attributes["dept"]
    )
    best = run(people)
    forbidden = tuple(pairs_of(best)[:3])
    locks = Locks(fixed=(same_dept,), forbidden=forbidden, context=(ids[-1], ids[-2]))
    result = run(people, locks=locks)
    assert_valid(people, POLICY, result, locks)
    pairs = {frozenset(p) for p in pairs_of(result)}
    assert frozenset(same_dept) in pairs
    assert not pairs & {frozenset(p) for p in forbidden}
    assert free.n == len(people)
    with pytest.raises(InputError, match="two people"):
        run(people, locks=Locks(fixed=((ids[0], ids[1], ids[2]),)))


def test_same_inputs_and_seed_give_the_same_result() -> None:
    people = skills_org(120, seed=11)
    first = run(people, large=True, seed=5)
    second = run(people, large=True, seed=5)
    assert pairs_of(first) == pairs_of(second)
    assert first.upper_bound == second.upper_bound


def test_api_match_dispatches_pairs() -> None:
    people = skills_org(20, seed=2)
    result = api.match(people, POLICY, seed=1)
    assert_valid(people, POLICY, result)
    assert [g.id for g in result.groups] == [f"pair-{i}" for i in range(1, len(result.groups) + 1)]
