"""Circles: always valid, nobody placeable left out, better than random and greedy groupings,
balanced on request, honouring locks, deterministic."""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Sequence

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import peermentor.matching.circles.solver as circles_module
from peermentor.matching.circles import solve_circles
from peermentor.matching.model import (
    Constraint,
    Criterion,
    InputError,
    Locks,
    MatchResult,
    Person,
    Policy,
)
from peermentor.matching.scoring import Scorer

CRITERIA = (
    Criterion(kind="overlap", weight=2, field="interests"),
    Criterion(kind="near", weight=1, field="years", scale=10),
    Criterion(kind="different", weight=1, field="team"),
)
NO_LOCKS = Locks()


# --- a scalar reference, written from MATCHING.md only --------------------------------------


def _cell(person: Person, column: str) -> str:
    return person.attributes.get(column, "").strip()


def _set(person: Person, column: str) -> set[str]:
    return {v.strip().lower() for v in _cell(person, column).split(";") if v.strip()}


def _number(person: Person, column: str) -> float | None:
    text = _cell(person, column)
    return float(text) if text else None


def reference_score(policy: Policy, a: Person, b: Person) -> float:
    total = 0.0
    for c in policy.criteria:
        if c.kind == "overlap":
            sa, sb = _set(a, str(c.field)), _set(b, str(c.field))
            value = len(sa & sb) / len(sa | sb) if sa | sb else 0.0
        elif c.kind == "near":
            x, y = _number(a, str(c.field)), _number(b, str(c.field))
            value = (
                0.0 if x is None or y is None else max(0.0, 1 - abs(x - y) / float(c.scale or 1))
            )
        elif c.kind == "different":
            sa, sb = _set(a, str(c.field)), _set(b, str(c.field))
            value = 1.0 if sa and sb and not sa & sb else 0.0
        else:  # same
            value = 1.0 if _set(a, str(c.field)) & _set(b, str(c.field)) else 0.0
        total += c.weight * value
    return total / sum(c.weight for c in policy.criteria)


def reference_allowed(
    policy: Policy, a: Person, b: Person, forbidden: Sequence[tuple[str, str]] = ()
) -> bool:
    if a.id == b.id or reference_score(policy, a, b) < policy.min_score - 1e-9:
        return False
    if b.id in _cell(a, "avoid").split(";") or a.id in _cell(b, "avoid").split(";"):
        return False
    if (a.id, b.id) in forbidden or (b.id, a.id) in forbidden:
        return False
    for c in policy.constraints:
        if c.kind == "max_gap":
            x, y = _number(a, str(c.field)), _number(b, str(c.field))
            if x is None or y is None or abs(x - y) > float(c.max or 0):
                return False
        elif c.kind == "must_differ":
            sa, sb = _set(a, str(c.field)), _set(b, str(c.field))
            if not sa or not sb or sa & sb:
                return False
    return True


def circle_value(policy: Policy, members: Sequence[Person]) -> float:
    """size x mean pair score."""
    size = len(members)
    pairs = [reference_score(policy, a, b) for a, b in itertools.combinations(members, 2)]
    return size * sum(pairs) / len(pairs) if pairs else 0.0


def check_valid(
    result: MatchResult, policy: Policy, people: Sequence[Person], locks: Locks = NO_LOCKS
) -> None:
    assert policy.group_size is not None
    lo, hi = policy.group_size
    by_id = {p.id: p for p in people}
    fixed = {frozenset(group) for group in locks.fixed}
    seen: set[str] = set()
    total = 0.0
    for group in result.groups:
        members = [by_id[m.person_id] for m in group.members]
        ids = frozenset(p.id for p in members)
        if ids not in fixed:
            assert lo <= len(members) <= hi
            for a, b in itertools.combinations(members, 2):
                assert reference_allowed(policy, a, b, locks.forbidden), (a.id, b.id)
        value = circle_value(policy, members)
        assert group.score == pytest.approx(value, abs=1e-6)
        for placement in group.members:
            assert placement.role == "member"
            assert placement.score == pytest.approx(value / len(members), abs=1e-6)
            assert placement.reasons
            assert placement.person_id not in seen
            seen.add(placement.person_id)
        total += value
    assert result.total_score == pytest.approx(total, abs=1e-6)
    assert result.placed == len(seen)
    assert not seen & set(locks.context)
    left_out = {u.id for u in result.unmatched}
    assert not left_out & seen
    assert left_out | seen | set(locks.context) == {p.id for p in people}
    assert all(u.reason for u in result.unmatched)
    assert result.upper_bound is not None and result.upper_bound >= result.total_score - 1e-9


# --- data --------------------------------------------------------------------------------------

INTERESTS = ("chess", "running", "music", "cooking", "film", "hiking", "reading", "games")


def person(pid: str, **attributes: object) -> Person:
    return Person(id=pid, attributes={k: str(v) for k, v in attributes.items()})


def policy(**changes: object) -> Policy:
    base: dict[str, object] = {"format": "circles", "criteria": CRITERIA, "group_size": (3, 4)}
    base.update(changes)
    return Policy(**base)  # type: ignore[arg-type]


def organisation(n: int, *, seed: int) -> list[Person]:
    rng = np.random.default_rng(seed)
    people = []
    for k in range(n):
        interests = rng.choice(INTERESTS, size=int(rng.integers(1, 4)), replace=False)
        people.append(
            person(
                f"e{k:04d}",
                team=f"t{min(int(rng.exponential(1.5)), 5)}",
                years=int(rng.integers(0, 30)),
                interests=";".join(interests),
                zone=int(rng.integers(-2, 3)) * 3,
                level=int(rng.choice([1, 1, 1, 2, 2, 3])),
            )
        )
    return people


def max_placeable(policy: Policy, people: Sequence[Person]) -> int:
    """The most people any valid set of circles places, by exhaustive search."""
    assert policy.group_size is not None
    lo, hi = policy.group_size
    n = len(people)
    ok = [[reference_allowed(policy, a, b) for b in people] for a in people]
    valid: list[int] = []  # bit masks of valid circles
    for size in range(lo, hi + 1):
        for combo in itertools.combinations(range(n), size):
            if all(ok[a][b] for a, b in itertools.combinations(combo, 2)):
                valid.append(sum(1 << k for k in combo))
    best = 0
    memo: dict[int, int] = {}

    def search(free: int) -> int:
        # The most placed using only people in `free`; the lowest free person is either
        # left out or in a circle.
        if free == 0:
            return 0
        if free in memo:
            return memo[free]
        low = free & -free
        result = search(free & ~low)
        for mask in valid:
            if mask & low and mask & free == mask:
                result = max(result, bin(mask).count("1") + search(free & ~mask))
        memo[free] = result
        return result

    best = search((1 << n) - 1)
    return best


def best_total(policy: Policy, people: Sequence[Person]) -> float:
    """The greatest total of any valid set of circles (anyone may be left out), exhaustively."""
    assert policy.group_size is not None
    lo, hi = policy.group_size
    n = len(people)
    ok = [[reference_allowed(policy, a, b) for b in people] for a in people]
    valid: list[tuple[int, float]] = []
    for size in range(lo, hi + 1):
        for combo in itertools.combinations(range(n), size):
            if all(ok[a][b] for a, b in itertools.combinations(combo, 2)):
                value = circle_value(policy, [people[k] for k in combo])
                valid.append((sum(1 << k for k in combo), value))
    memo: dict[int, float] = {}

    def search(free: int) -> float:
        if free == 0:
            return 0.0
        if free in memo:
            return memo[free]
        low = free & -free
        result = search(free & ~low)
        for mask, value in valid:
            if mask & low and mask & free == mask:
                result = max(result, value + search(free & ~mask))
        memo[free] = result
        return result

    return search((1 << n) - 1)


def check_placement(result: MatchResult, policy: Policy, people: Sequence[Person]) -> None:
    """participation: as many people placed as any valid set of circles places. quality: nobody
    left out could still be placed, in a circle with room or in a new circle of people left out."""
    if policy.objective == "participation":
        assert result.placed == max_placeable(policy, people)
        return
    assert policy.group_size is not None
    lo, hi = policy.group_size
    by_id = {p.id: p for p in people}
    left = [by_id[u.id] for u in result.unmatched]
    for group in result.groups:
        members = [by_id[m.person_id] for m in group.members]
        if len(members) < hi:
            for p in left:
                assert not all(reference_allowed(policy, p, q) for q in members), p.id
    for size in range(lo, min(hi, len(left)) + 1):
        for combo in itertools.combinations(left, size):
            assert not all(
                reference_allowed(policy, a, b) for a, b in itertools.combinations(combo, 2)
            )


@st.composite
def small_programs(draw: st.DrawFn) -> tuple[Policy, list[Person]]:
    n = draw(st.integers(0, 10))
    people = []
    for k in range(n):
        people.append(
            person(
                f"p{k}",
                team=draw(st.sampled_from(["a", "b", "c"])),
                years=draw(st.sampled_from(["", "2", "6", "12", "25"])),
                interests=";".join(draw(st.lists(st.sampled_from(INTERESTS[:4]), max_size=2))),
                avoid=draw(st.sampled_from(["", "", "", f"p{draw(st.integers(0, 9))}"])),
            )
        )
    constraints = draw(
        st.sampled_from(
            [
                (),
                (Constraint(kind="max_gap", field="years", max=10),),
                (Constraint(kind="must_differ", field="team"),),
            ]
        )
    )
    chosen = policy(
        group_size=draw(st.sampled_from([(2, 3), (3, 4), (3, 3), (4, 5)])),
        min_score=draw(st.sampled_from([0.0, 0.2, 0.35])),
        constraints=constraints,
        objective=draw(st.sampled_from(["quality", "participation"])),
    )
    return chosen, people


# --- validity and placement ----------------------------------------------------------------------


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_programs())
def test_small_programs_are_valid_and_leave_nobody_placeable_out(
    program: tuple[Policy, list[Person]],
) -> None:
    chosen, people = program
    result = solve_circles(Scorer(people, chosen), chosen, seed=0)
    check_valid(result, chosen, people)
    check_placement(result, chosen, people)
    assert result.upper_bound is not None
    assert result.upper_bound >= best_total(chosen, people) - 1e-9


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_programs())
def test_the_heuristic_alone_also_places_everyone_placeable(
    program: tuple[Policy, list[Person]],
) -> None:
    """Small pools are solved exhaustively; here the heuristic used for large ones must still
    place as many people as possible."""
    chosen, people = program
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(circles_module, "EXACT_LIMIT", 0)
        result = solve_circles(Scorer(people, chosen), chosen, seed=1)
    check_valid(result, chosen, people)
    check_placement(result, chosen, people)


def test_everyone_is_placed_when_everyone_may_meet() -> None:
    for n in (3, 4, 7, 11, 12, 13, 14, 17, 22):
        people = organisation(n, seed=n)
        chosen = policy(group_size=(3, 4))
        result = solve_circles(Scorer(people, chosen), chosen)
        check_valid(result, chosen, people)
        assert result.placed == n, n


@pytest.mark.parametrize("exact_limit", [0, 12])
def test_a_partition_only_careful_search_finds_is_found(
    exact_limit: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nine people, circles of exactly three. Through `avoid`, the only way to place everyone
    is {0,1,2} {3,4,5} {6,7,8}; person 0 also fits 3 and 4, whose triangle tempts a greedy
    start ({0,3,4}) that strands 5."""
    monkeypatch.setattr(circles_module, "EXACT_LIMIT", exact_limit)
    triangles = [(0, 1, 2), (3, 4, 5), (6, 7, 8)]
    allowed = {frozenset(pair) for t in triangles for pair in itertools.combinations(t, 2)}
    allowed |= {frozenset((0, 3)), frozenset((0, 4))}
    people = []
    for k in range(9):
        avoid = [f"p{j}" for j in range(9) if j != k and frozenset((k, j)) not in allowed]
        interests = "chess" if k in (0, 3, 4) else "film"
        people.append(person(f"p{k}", interests=interests, years=5, avoid=";".join(avoid)))
    chosen = policy(group_size=(3, 3))
    result = solve_circles(Scorer(people, chosen), chosen)
    check_valid(result, chosen, people)
    assert result.placed == 9
    assert {frozenset(m.person_id for m in g.members) for g in result.groups} == {
        frozenset(f"p{k}" for k in t) for t in triangles
    }


# --- quality ---------------------------------------------------------------------------------


def random_grouping(policy: Policy, people: Sequence[Person], seed: int) -> float:
    """People in random order, each into the first circle it may join (valid circles only)."""
    assert policy.group_size is not None
    lo, hi = policy.group_size
    order = np.random.default_rng(seed).permutation(len(people))
    circles: list[list[Person]] = []
    for k in order.tolist():
        p = people[k]
        for circle in circles:
            if len(circle) < hi and all(reference_allowed(policy, p, q) for q in circle):
                circle.append(p)
                break
        else:
            circles.append([p])
    return sum(circle_value(policy, c) for c in circles if len(c) >= lo)


def greedy_grouping(policy: Policy, people: Sequence[Person]) -> tuple[float, int]:
    """In file order, each free person seeds a circle and adds the best-fitting free person
    (highest score sum with the members) until the circle has the smallest size."""
    assert policy.group_size is not None
    lo, _ = policy.group_size
    free = list(people)
    total, placed = 0.0, 0
    while free:
        circle = [free.pop(0)]
        while len(circle) < lo:
            options = [p for p in free if all(reference_allowed(policy, p, q) for q in circle)]
            if not options:
                break
            best = max(options, key=lambda p: sum(reference_score(policy, p, q) for q in circle))
            circle.append(best)
            free.remove(best)
        if len(circle) >= lo:
            total += circle_value(policy, circle)
            placed += len(circle)
    return total, placed


def test_beats_random_and_greedy_groupings() -> None:
    people = organisation(240, seed=7)
    chosen = policy(
        group_size=(4, 6), constraints=(Constraint(kind="max_gap", field="zone", max=3),)
    )
    result = solve_circles(Scorer(people, chosen), chosen, seed=1)
    check_valid(result, chosen, people)
    greedy_total, greedy_placed = greedy_grouping(chosen, people)
    random_total = max(random_grouping(chosen, people, seed) for seed in range(3))
    assert result.placed >= greedy_placed
    assert result.total_score > 1.05 * greedy_total
    assert result.total_score > 1.3 * random_total
    assert result.upper_bound is not None and result.total_score <= result.upper_bound


def test_the_exact_scorer_path_for_large_pools_gives_valid_circles(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(circles_module, "DENSE_LIMIT", 10)
    people = organisation(120, seed=8)
    chosen = policy(group_size=(3, 5), min_score=0.25)
    result = solve_circles(Scorer(people, chosen), chosen, seed=3)
    check_valid(result, chosen, people)
    assert result.stats["dense"] == 0.0
    assert result.placed >= greedy_grouping(chosen, people)[1]


def test_balance_spreads_an_attribute_across_circles() -> None:
    people = organisation(150, seed=9)
    plain = policy(group_size=(5, 6))
    balanced = dataclasses.replace(plain, balance=("level",))

    def imbalance(result: MatchResult) -> float:
        levels = {p.id: _cell(p, "level") for p in people}
        values = sorted(set(levels.values()))
        share = np.array([sum(v == x for v in levels.values()) for x in values]) / len(people)
        total = 0.0
        for group in result.groups:
            counts = np.array(
                [sum(levels[m.person_id] == x for m in group.members) for x in values]
            )
            total += float(((counts - len(group.members) * share) ** 2).sum())
        return total

    first = solve_circles(Scorer(people, plain), plain)
    second = solve_circles(Scorer(people, balanced), balanced)
    check_valid(second, balanced, people)
    assert second.placed == first.placed
    assert imbalance(second) < 0.5 * imbalance(first)
    # Balance is a soft goal: it costs little of the score.
    assert second.total_score > 0.9 * first.total_score


# --- locks, reasons, determinism, errors ------------------------------------------------------


def test_locks_are_honoured() -> None:
    people = organisation(40, seed=12)
    ids = [p.id for p in people]
    locks = Locks(
        fixed=((ids[0], ids[1], ids[2], ids[3], ids[4], ids[5], ids[6]),),
        forbidden=tuple((ids[10], other) for other in ids[11:20]),
        context=(ids[30], ids[31]),
    )
    chosen = policy(group_size=(3, 4))
    result = solve_circles(Scorer(people, chosen, locks=locks), chosen, locks=locks)
    check_valid(result, chosen, people, locks)
    circles = [frozenset(m.person_id for m in g.members) for g in result.groups]
    assert frozenset(ids[:7]) in circles
    for circle in circles:
        assert not (ids[10] in circle and circle & set(ids[11:20]))


def test_left_out_people_are_told_why() -> None:
    people = [
        person("a", years=1),
        person("b", years=1),
        person("c", years=1),
        person("d", years=2),
        person("far", years=90),
        person("lonely", years=30),
        person("pal", years=35),
    ]
    chosen = policy(
        group_size=(3, 4),
        constraints=(Constraint(kind="max_gap", field="years", max=5),),
    )
    result = solve_circles(Scorer(people, chosen), chosen)
    check_valid(result, chosen, people)
    reasons = {u.id: u.reason for u in result.unmatched}
    assert reasons["far"] == "no allowed partner"
    assert reasons["lonely"].startswith("only 1 allowed partner")
    assert set(reasons) == {"far", "lonely", "pal"}


def test_too_few_people_for_a_circle() -> None:
    people = organisation(3, seed=1)
    chosen = policy(group_size=(4, 5))
    result = solve_circles(Scorer(people, chosen), chosen)
    assert result.groups == ()
    assert {u.reason for u in result.unmatched} == {"too few people for a circle of at least 4"}


def test_same_seed_same_circles() -> None:
    people = organisation(90, seed=4)
    chosen = policy(group_size=(4, 5))
    first = solve_circles(Scorer(people, chosen), chosen, seed=5)
    second = solve_circles(Scorer(people, chosen), chosen, seed=5)
    assert first.groups == second.groups and first.unmatched == second.unmatched


def test_policy_without_group_size_is_refused() -> None:
    people = organisation(4, seed=1)
    chosen = policy(group_size=None)
    with pytest.raises(InputError, match="group_size"):
        solve_circles(Scorer(people, chosen), chosen)


def test_quality_prefers_the_greatest_total_to_placing_one_more() -> None:
    """Twelve people, circles of four to six: two circles of four total 3.628 and leave four
    out; nine people fit only in circles that total less. With `quality` the total wins (and
    nobody left out fits a circle); with `participation` the ninth person is placed."""
    people = organisation(12, seed=31)
    zone = (Constraint(kind="max_gap", field="zone", max=3),)
    chosen = policy(group_size=(4, 6), min_score=0.25, constraints=zone)
    result = solve_circles(Scorer(people, chosen), chosen)
    check_valid(result, chosen, people)
    check_placement(result, chosen, people)
    assert result.total_score == pytest.approx(best_total(chosen, people), abs=1e-9)
    assert result.total_score == pytest.approx(3.628, abs=1e-3)
    assert result.placed == 8
    most = policy(group_size=(4, 6), min_score=0.25, constraints=zone, objective="participation")
    placed = solve_circles(Scorer(people, most), most)
    assert placed.placed == max_placeable(most, people) == 9
    assert placed.total_score < result.total_score


@pytest.mark.parametrize("seed", range(12))
def test_the_bound_is_never_below_the_exact_optimum(seed: int) -> None:
    """Organisations of 11 to 14 people (beyond the exhaustive path, so the heuristic and the
    relaxation both run): the bound is at least the best total by enumeration, and the
    relaxation is far tighter than each person's best partners."""
    n = 11 + seed % 4
    sizes = [(3, 4), (4, 6), (2, 3), (3, 3)][seed % 4]
    zone = (Constraint(kind="max_gap", field="zone", max=3),) if seed % 2 else ()
    chosen = policy(group_size=sizes, min_score=0.25 * (seed % 2), constraints=zone)
    people = organisation(n, seed=100 + seed)
    result = solve_circles(Scorer(people, chosen), chosen)
    check_valid(result, chosen, people)
    optimum = best_total(chosen, people)
    assert result.upper_bound is not None
    assert result.upper_bound >= optimum - 1e-9
    assert result.total_score <= optimum + 1e-9
    assert result.upper_bound <= result.stats["bound_by_best_partners"] + 1e-9


def test_no_single_move_or_swap_between_circles_improves_the_result() -> None:
    """Every move of one person to another circle (sizes kept within bounds, every pair
    allowed) and every swap of two people between circles, checked exhaustively with the exact
    scores: none improves the total by more than 0.1%."""
    people = organisation(150, seed=11)
    chosen = policy(group_size=(4, 6), min_score=0.1)
    scorer = Scorer(people, chosen)
    result = solve_circles(scorer, chosen, seed=2)
    check_valid(result, chosen, people)
    index = np.arange(len(people), dtype=np.intp)
    scores, allowed = scorer.block(index, index)
    np.fill_diagonal(scores, 0.0)
    circles = [[scorer.index(m.person_id) for m in g.members] for g in result.groups]

    def value(members: list[int]) -> float:
        if len(members) < 2:
            return 0.0
        chosen_scores = scores[np.ix_(members, members)]
        return float(chosen_scores.sum() / (len(members) - 1))

    def valid(members: list[int]) -> bool:
        inside = allowed[np.ix_(members, members)] | np.eye(len(members), dtype=bool)
        return 4 <= len(members) <= 6 and bool(inside.all())

    best = 0.0
    for a, first in enumerate(circles):
        for b, second in enumerate(circles):
            if a == b:
                continue
            before = value(first) + value(second)
            for p in first:
                moved = [x for x in first if x != p]
                if valid(moved) and valid([*second, p]):
                    best = max(best, value(moved) + value([*second, p]) - before)
                if a < b:
                    for q in second:
                        one = [*moved, q]
                        two = [*(x for x in second if x != q), p]
                        if valid(one) and valid(two):
                            best = max(best, value(one) + value(two) - before)
    assert best <= 1e-3 * result.total_score
    assert result.stats["best_move_or_swap_left"] <= 1e-3 * result.total_score
