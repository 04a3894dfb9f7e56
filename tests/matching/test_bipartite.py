"""Bipartite matching with capacities: valid, exact (brute force and an independent dense
assignment), certified, explained, and honouring locks."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.optimize import linear_sum_assignment

from peermentor.matching.bipartite import solve_bipartite
from peermentor.matching.model import (
    Constraint,
    Criterion,
    InputError,
    Locks,
    MatchResult,
    Person,
    Policy,
    Sides,
)
from peermentor.matching.scoring import Scorer

SIDES = Sides(field="role", a="host", b="shadow")
CRITERIA = (
    Criterion(kind="complement", weight=3, offer="offer", want="want"),
    Criterion(kind="near", weight=1, field="years", scale=10),
    Criterion(kind="different", weight=1, field="team"),
)


# --- a scalar reference, written from MATCHING.md only --------------------------------------


def _cell(person: Person, column: str) -> str:
    return person.attributes.get(column, "").strip()


def _set(person: Person, column: str) -> set[str]:
    return {v.strip().lower() for v in _cell(person, column).split(";") if v.strip()}


def _number(person: Person, column: str) -> float | None:
    text = _cell(person, column)
    return float(text) if text else None


def reference_score(policy: Policy, a: Person, b: Person) -> float:
    """score(a, b) with a on side a (complement is f(a -> b))."""
    total = 0.0
    for c in policy.criteria:
        if c.kind == "complement":
            want = _set(b, str(c.want))
            value = len(_set(a, str(c.offer)) & want) / len(want) if want else 0.0
        elif c.kind == "near":
            x, y = _number(a, str(c.field)), _number(b, str(c.field))
            value = (
                0.0 if x is None or y is None else max(0.0, 1 - abs(x - y) / float(c.scale or 1))
            )
        elif c.kind == "different":
            sa, sb = _set(a, str(c.field)), _set(b, str(c.field))
            value = 1.0 if sa and sb and not sa & sb else 0.0
        elif c.kind == "same":
            value = 1.0 if _set(a, str(c.field)) & _set(b, str(c.field)) else 0.0
        else:  # overlap
            sa, sb = _set(a, str(c.field)), _set(b, str(c.field))
            value = len(sa & sb) / len(sa | sb) if sa | sb else 0.0
        total += c.weight * value
    return total / sum(c.weight for c in policy.criteria)


def reference_allowed(
    policy: Policy, a: Person, b: Person, forbidden: Sequence[tuple[str, str]] = ()
) -> bool:
    if reference_score(policy, a, b) < policy.min_score - 1e-9:
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


def brute_force(policy: Policy, people: Sequence[Person]) -> tuple[int, float]:
    """(most side-b people placed, best total) for the policy's objective, by enumeration."""
    hosts = [p for p in people if _cell(p, "role") == "host"]
    shadows = [p for p in people if _cell(p, "role") == "shadow"]
    capacity = {h.id: int(_cell(h, "capacity") or 1) for h in hosts}
    options = [[None, *[h for h in hosts if reference_allowed(policy, h, s)]] for s in shadows]
    best: tuple[int, float] = (-1, -1.0)
    best_placed = 0
    for choice in itertools.product(*options):
        load: dict[str, int] = {}
        for host in choice:
            if host is not None:
                load[host.id] = load.get(host.id, 0) + 1
        if any(load[h] > capacity[h] for h in load):
            continue
        total = sum(
            reference_score(policy, host, shadow)
            for host, shadow in zip(choice, shadows, strict=True)
            if host is not None
        )
        placed = sum(host is not None for host in choice)
        key = (placed, total) if policy.objective == "participation" else (0, total)
        if key[0] > best[0] or (key[0] == best[0] and key[1] > best[1] + 1e-12):
            best, best_placed = key, placed
    return best_placed, best[1]


NO_LOCKS = Locks()


def check_valid(
    result: MatchResult, policy: Policy, people: Sequence[Person], locks: Locks = NO_LOCKS
) -> None:
    """Capacities, one host per shadow, every new pair allowed, scores as the reference says."""
    by_id = {p.id: p for p in people}
    fixed_pairs = {(group[0], other) for group in locks.fixed for other in group[1:]} | {
        (other, group[0]) for group in locks.fixed for other in group[1:]
    }
    seen: set[str] = set()
    total = 0.0
    for group in result.groups:
        head, *tail = group.members
        assert head.role == "host" and head.score is None
        assert all(member.role == "shadow" for member in tail)
        assert 1 <= len(tail) <= int(_cell(by_id[head.person_id], "capacity") or 1)
        group_sum = 0.0
        for member in tail:
            host, shadow = by_id[head.person_id], by_id[member.person_id]
            if (host.id, shadow.id) not in fixed_pairs:
                assert reference_allowed(policy, host, shadow, locks.forbidden)
            assert member.score == pytest.approx(reference_score(policy, host, shadow), abs=1e-6)
            assert member.reasons
            group_sum += member.score
        assert group.score == pytest.approx(group_sum, abs=1e-6)
        total += group.score
        for member in group.members:
            assert member.person_id not in seen
            seen.add(member.person_id)
    assert result.total_score == pytest.approx(total, abs=1e-6)
    assert result.placed == len(seen)
    assert not seen & set(locks.context)
    left_out = {u.id for u in result.unmatched}
    assert not left_out & seen
    assert left_out | seen | set(locks.context) == {p.id for p in people}
    assert result.upper_bound is not None and result.upper_bound >= result.total_score - 1e-9


# --- data --------------------------------------------------------------------------------------


def person(pid: str, role: str, **attributes: object) -> Person:
    cells = {"role": role, **{k: str(v) for k, v in attributes.items()}}
    return Person(id=pid, attributes=cells)


def policy(**changes: object) -> Policy:
    base: dict[str, object] = {
        "format": "bipartite",
        "criteria": CRITERIA,
        "sides": SIDES,
    }
    base.update(changes)
    return Policy(**base)  # type: ignore[arg-type]


SKILLS = ("python", "sql", "sales", "design", "finance")


@st.composite
def small_programs(draw: st.DrawFn) -> tuple[Policy, list[Person]]:
    hosts = draw(st.integers(1, 4))
    shadows = draw(st.integers(1, 10 - hosts if hosts > 2 else 6))
    people: list[Person] = []
    for k in range(hosts + shadows):
        role = "host" if k < hosts else "shadow"
        skills = draw(st.lists(st.sampled_from(SKILLS), max_size=3, unique=True))
        attributes: dict[str, object] = {
            "team": draw(st.sampled_from(["a", "b", "c", ""])),
            "years": draw(st.sampled_from(["", "1", "4", "9", "15"])),
            "offer" if role == "host" else "want": ";".join(skills),
        }
        if role == "host":
            attributes["capacity"] = draw(st.integers(0, 3))
        people.append(person(f"p{k}", role, **attributes))
    if draw(st.booleans()) and len(people) > 2:
        a, b = draw(st.sampled_from(people[:hosts])), draw(st.sampled_from(people[hosts:]))
        people[people.index(a)] = Person(a.id, {**a.attributes, "avoid": b.id})
    constraints: tuple[Constraint, ...] = draw(
        st.sampled_from(
            [
                (),
                (Constraint(kind="max_gap", field="years", max=6),),
                (Constraint(kind="must_differ", field="team"),),
            ]
        )
    )
    chosen = policy(
        objective=draw(st.sampled_from(["quality", "participation"])),
        min_score=draw(st.sampled_from([0.0, 0.15, 0.3, 0.5])),
        constraints=constraints,
    )
    return chosen, people


# --- exactness ---------------------------------------------------------------------------------


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_programs())
def test_equals_brute_force_on_small_programs(program: tuple[Policy, list[Person]]) -> None:
    chosen, people = program
    result = solve_bipartite(Scorer(people, chosen), chosen)
    check_valid(result, chosen, people)
    placed, best = brute_force(chosen, people)
    new_pairs = sum(len(g.members) - 1 for g in result.groups)
    assert result.total_score == pytest.approx(best, abs=1e-6)
    if chosen.objective == "participation":
        assert new_pairs == placed
    assert result.stats["certified"] == 1.0
    assert result.upper_bound == pytest.approx(best, abs=1e-6)


def dense_optimum(scorer: Scorer, chosen: Policy) -> float:
    """The optimum by an independent method: a dense assignment over capacity slots."""
    hosts = np.flatnonzero(scorer.side == 0)
    shadows = np.flatnonzero(scorer.side == 1)
    scores, allowed = scorer.block(hosts, shadows, directed=True)
    # A disallowed pair is worth nothing, the same as leaving the shadow out (scores >= 0).
    weights = np.where(allowed, scores, 0.0)
    slots = np.repeat(np.arange(len(hosts)), scorer.capacity[hosts])
    rows, cols = linear_sum_assignment(weights[slots], maximize=True)
    return float(weights[slots][rows, cols].sum())


def organisation(
    hosts: int, shadows: int, *, seed: int, hubs: int = 0, coarse: bool = False
) -> list[Person]:
    rng = np.random.default_rng(seed)
    skills = [f"skill{k}" for k in range(25)]
    people = []
    for k in range(hosts + shadows):
        role = "host" if k < hosts else "shadow"
        if coarse:
            offered = rng.choice(skills[:3], size=1)
        elif k < hubs:
            offered = np.array(skills)
        else:
            offered = rng.choice(skills, size=int(rng.integers(1, 5)), replace=False)
        wanted = rng.choice(
            skills[:3] if coarse else skills, size=1 if coarse else 2, replace=False
        )
        people.append(
            person(
                f"e{k:04d}",
                role,
                team=f"t{min(int(rng.exponential(2.0)), 6)}",
                years=int(rng.integers(0, 4 if coarse else 30)) * (10 if coarse else 1),
                offer=";".join(offered) if role == "host" else "",
                want=";".join(wanted) if role == "shadow" else "",
                capacity=int(rng.integers(1, 4)) if role == "host" else "",
            )
        )
    return people


@pytest.mark.parametrize(
    ("label", "hubs", "coarse"), [("uniform", 0, False), ("hubs", 4, False), ("ties", 0, True)]
)
def test_equals_an_independent_dense_assignment(label: str, hubs: int, coarse: bool) -> None:
    people = organisation(70, 160, seed=3, hubs=hubs, coarse=coarse)
    chosen = policy(constraints=(Constraint(kind="max_gap", field="years", max=15),))
    scorer = Scorer(people, chosen)
    result = solve_bipartite(scorer, chosen)
    check_valid(result, chosen, people)
    assert result.total_score == pytest.approx(dense_optimum(scorer, chosen), abs=1e-6), label
    assert result.stats["certified"] == 1.0
    assert result.upper_bound == pytest.approx(result.total_score, abs=1e-6)


def test_column_generation_certifies_when_candidates_are_too_few(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With one candidate per person the first assignment is poor; pricing must repair it."""
    import peermentor.matching.bipartite.pricing as bipartite

    monkeypatch.setattr(bipartite, "CANDIDATES_PER_B", 1)
    monkeypatch.setattr(bipartite, "CANDIDATES_PER_A_BASE", 0)
    monkeypatch.setattr(bipartite, "CANDIDATES_PER_A_PER_SLOT", 1)
    people = organisation(40, 120, seed=5, hubs=3)
    chosen = policy()
    scorer = Scorer(people, chosen)
    result = solve_bipartite(scorer, chosen)
    assert result.stats["rounds"] > 1
    assert result.stats["certified"] == 1.0
    assert result.total_score == pytest.approx(dense_optimum(scorer, chosen), abs=1e-6)


def test_participation_places_the_most_shadows_quality_the_best_total() -> None:
    # s1 fits h1 best; s2 may only go to h1 (avoids h2). Quality keeps h1-s1 (0.8 > 0.5 + 0.2);
    # participation places both shadows, at the best total among results placing two.
    people = [
        person("h1", "host", capacity=1, offer="python;sql", years=5),
        person("h2", "host", capacity=1, offer="finance", years=5),
        person("s1", "shadow", want="python;sql", years=5),
        person("s2", "shadow", want="python;finance", years=5, avoid="h2"),
    ]
    expected = {
        "quality": ({("h1", "s1")}, 0.8),
        "participation": ({("h1", "s2"), ("h2", "s1")}, 0.7),
    }
    for objective, (pairs, total) in expected.items():
        chosen = policy(objective=objective)
        result = solve_bipartite(Scorer(people, chosen), chosen)
        check_valid(result, chosen, people)
        found = {
            (g.members[0].person_id, m.person_id) for g in result.groups for m in g.members[1:]
        }
        assert found == pairs, objective
        assert result.total_score == pytest.approx(total)
        assert result.upper_bound == pytest.approx(total)


def test_quality_places_zero_score_pairs_when_that_costs_nothing() -> None:
    people = [
        person("h1", "host", capacity=2, offer="python"),
        person("s1", "shadow", want="python"),
        person("s2", "shadow", want="finance"),
    ]
    chosen = policy(criteria=(Criterion(kind="complement", weight=1, offer="offer", want="want"),))
    result = solve_bipartite(Scorer(people, chosen), chosen)
    check_valid(result, chosen, people)
    assert result.placed == 3
    assert result.total_score == pytest.approx(1.0)


# --- locks, reasons, errors ----------------------------------------------------------------------


def test_locks_are_honoured() -> None:
    people = organisation(6, 14, seed=11)
    chosen = policy()
    hosts = [p.id for p in people[:6]]
    shadows = [p.id for p in people[6:]]
    locks = Locks(
        fixed=((hosts[0], shadows[0]),),
        forbidden=tuple((h, s) for h in hosts for s in shadows[1:3]),
        context=(hosts[1], shadows[3]),
    )
    result = solve_bipartite(Scorer(people, chosen, locks=locks), chosen, locks=locks)
    check_valid(result, chosen, people, locks)
    group = next(g for g in result.groups if g.members[0].person_id == hosts[0])
    assert shadows[0] in {m.person_id for m in group.members}
    capacity = int(_cell(people[0], "capacity"))
    assert len(group.members) - 1 <= capacity
    placed = {m.person_id for g in result.groups for m in g.members}
    assert not placed & {shadows[1], shadows[2], hosts[1], shadows[3]}
    reasons = {u.id: u.reason for u in result.unmatched}
    assert reasons[shadows[1]] == "no allowed partner"
    assert hosts[1] not in reasons and shadows[3] not in reasons


def test_fixed_pair_counts_against_capacity() -> None:
    people = [
        person("h1", "host", capacity=1, offer="python"),
        person("s1", "shadow", want="sales"),
        person("s2", "shadow", want="python"),
    ]
    chosen = policy()
    locks = Locks(fixed=(("h1", "s1"),))
    result = solve_bipartite(Scorer(people, chosen, locks=locks), chosen, locks=locks)
    check_valid(result, chosen, people, locks)
    assert [[m.person_id for m in g.members] for g in result.groups] == [["h1", "s1"]]
    assert {u.id: u.reason for u in result.unmatched}["s2"].startswith(
        "capacity of side a exhausted"
    )


def test_every_left_out_person_has_the_right_reason() -> None:
    people = [
        person("h1", "host", capacity=1, offer="python", years=1),
        person("h2", "host", capacity=0, offer="python", years=1),
        person("h3", "host", capacity=1, offer="design", years=30),
        person("s1", "shadow", want="python", years=1),
        person("s2", "shadow", want="python", years=1),
        person("s3", "shadow", want="finance", years=1),
        person("s4", "shadow", want="python", years=80),
        person("x1", "", want="python"),
    ]
    chosen = policy(min_score=0.5, constraints=(Constraint(kind="max_gap", field="years", max=20),))
    result = solve_bipartite(Scorer(people, chosen), chosen)
    check_valid(result, chosen, people)
    reasons = {u.id: u.reason for u in result.unmatched}
    left_shadow = "s1" if "s1" in reasons else "s2"
    assert reasons[left_shadow].startswith("capacity of side a exhausted")
    assert reasons["s3"].startswith("no allowed partner scores at least min_score")
    assert reasons["s4"] == "no allowed partner"
    assert reasons["h2"] == "capacity is 0"
    assert reasons["h3"] == "no allowed partner"
    assert reasons["x1"].startswith("no role given")


def test_placements_explain_themselves_in_plain_language() -> None:
    people = [
        person("h1", "host", capacity=1, offer="Python", team="data"),
        person("s1", "shadow", want="Python", team="sales"),
    ]
    chosen = policy()
    result = solve_bipartite(Scorer(people, chosen), chosen)
    host, shadow = result.groups[0].members
    assert host.reasons == "takes 1 shadow (capacity 1)"
    assert "Python" in shadow.reasons


def test_same_input_gives_the_same_result() -> None:
    people = organisation(30, 70, seed=2, hubs=2)
    chosen = policy()
    first = solve_bipartite(Scorer(people, chosen), chosen, seed=1)
    second = solve_bipartite(Scorer(people, chosen), chosen, seed=2)
    assert first.groups == second.groups and first.unmatched == second.unmatched


def test_policy_without_sides_is_refused() -> None:
    people = [person("h1", "host")]
    chosen = policy(sides=None, format="pairs")
    with pytest.raises(InputError, match="sides"):
        solve_bipartite(Scorer(people, chosen), chosen)


def test_fixed_group_must_have_one_host() -> None:
    people = [person("h1", "host"), person("h2", "host"), person("s1", "shadow")]
    chosen = policy()
    locks = Locks(fixed=(("h1", "h2", "s1"),))
    with pytest.raises(InputError, match="exactly one"):
        solve_bipartite(Scorer(people, chosen, locks=locks), chosen, locks=locks)


def test_empty_sides_give_an_empty_result() -> None:
    people = [person("h1", "host", offer="python"), person("h2", "host")]
    chosen = policy()
    result = solve_bipartite(Scorer(people, chosen), chosen)
    assert result.groups == () and result.total_score == 0.0 and result.upper_bound == 0.0
    assert {u.id for u in result.unmatched} == {"h1", "h2"}
