"""Each criterion and constraint against MATCHING.md's formulas."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from peermentor.matching.model import Constraint, Criterion, InputError, Locks, Person, Policy
from peermentor.matching.scoring import Scorer

from . import reference


def person(person_id: str, **attributes: str) -> Person:
    return Person(id=person_id, attributes=attributes)


def one(kind: str, **spec: object) -> Policy:
    return Policy(criteria=(Criterion(kind=kind, weight=1.0, **spec),))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("Sales", " sales ", 1.0),
        ("Sales", "IT", 0.0),
        ("", "", 0.0),
        ("a;b", "c;B", 1.0),
        ("a", "", 0.0),
    ],
)
def test_same(a: str, b: str, expected: float) -> None:
    scorer = Scorer([person("1", dept=a), person("2", dept=b)], one("same", field="dept"))
    assert scorer.pair_score(0, 1) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("Sales", "IT", 1.0),
        ("Sales", "SALES", 0.0),
        ("", "IT", 0.0),
        ("a;b", "c;d", 1.0),
        ("a;b", "b", 0.0),
    ],
)
def test_different(a: str, b: str, expected: float) -> None:
    scorer = Scorer([person("1", dept=a), person("2", dept=b)], one("different", field="dept"))
    assert scorer.pair_score(0, 1) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("x;y;z", "y;z;w", 2 / 4),
        ("", "", 0.0),
        ("x", "x", 1.0),
        ("x;;y", "X", 1 / 2),
        ("x", "", 0.0),
    ],
)
def test_overlap(a: str, b: str, expected: float) -> None:
    scorer = Scorer([person("1", langs=a), person("2", langs=b)], one("overlap", field="langs"))
    assert scorer.pair_score(0, 1) == pytest.approx(expected)


def test_complement_symmetric_and_directed() -> None:
    people = [
        person("ana", offer="python;sql", want="design"),
        person("ben", offer="design", want="python;go;sql;rust"),
    ]
    scorer = Scorer(people, one("complement", offer="offer", want="want"))
    forward = 2 / 4  # ana offers 2 of ben's 4 wants
    backward = 1 / 1
    assert scorer.pair_score(0, 1) == pytest.approx((forward + backward) / 2)
    assert scorer.pair_score(0, 1, directed=True) == pytest.approx(forward)
    assert scorer.pair_score(1, 0, directed=True) == pytest.approx(backward)


def test_complement_empty_want_scores_zero() -> None:
    people = [person("a", offer="x", want=""), person("b", offer="", want="")]
    scorer = Scorer(people, one("complement", offer="offer", want="want"))
    assert scorer.pair_score(0, 1) == 0.0


@pytest.mark.parametrize(
    ("a", "b", "expected"), [("3", "8", 0.5), ("0", "20", 0.0), ("", "2", 0.0), ("2.5", "2.5", 1.0)]
)
def test_near(a: str, b: str, expected: float) -> None:
    scorer = Scorer(
        [person("1", years=a), person("2", years=b)], one("near", field="years", scale=10)
    )
    assert scorer.pair_score(0, 1) == pytest.approx(expected)


def test_weighted_mean() -> None:
    policy = Policy(
        criteria=(
            Criterion(kind="same", field="dept", weight=3),
            Criterion(kind="near", field="years", scale=10, weight=1),
        )
    )
    scorer = Scorer([person("1", dept="x", years="0"), person("2", dept="x", years="5")], policy)
    assert scorer.pair_score(0, 1) == pytest.approx((3 * 1 + 1 * 0.5) / 4)


def test_no_criteria_scores_zero() -> None:
    scorer = Scorer([person("1"), person("2")], Policy())
    assert scorer.pair_score(0, 1) == 0.0
    assert scorer.allowed(0, 1)


def constrained(*constraints: Constraint, min_score: float = 0.0) -> Policy:
    return Policy(
        min_score=min_score,
        criteria=(Criterion(kind="same", field="dept", weight=1),),
        constraints=constraints,
    )


def test_must_differ_and_must_match_and_unknown() -> None:
    people = [
        person("1", dept="a", site="x"),
        person("2", dept="b", site="x"),
        person("3", dept="", site="x"),
    ]
    differ = Scorer(people, constrained(Constraint(kind="must_differ", field="dept")))
    assert differ.allowed(0, 1)
    assert not differ.allowed(0, 2)  # unknown: the constraint does not hold
    match = Scorer(people, constrained(Constraint(kind="must_match", field="site")))
    assert match.allowed(0, 1) and match.allowed(1, 2)
    match_dept = Scorer(people, constrained(Constraint(kind="must_match", field="dept")))
    assert not match_dept.allowed(0, 1)
    assert not match_dept.allowed(2, 2)


def test_max_gap() -> None:
    people = [
        person("1", utc="0"),
        person("2", utc="3"),
        person("3", utc="-4"),
        person("4", utc=""),
    ]
    scorer = Scorer(
        people,
        Policy(constraints=(Constraint(kind="max_gap", field="utc", max=3),)),
    )
    assert scorer.allowed(0, 1)
    assert not scorer.allowed(1, 2)
    assert not scorer.allowed(0, 3)


def test_not_in_reporting_line() -> None:
    people = [
        person("ceo", manager_id=""),
        person("vp", manager_id="ceo"),
        person("dev", manager_id="vp"),
        person("dev2", manager_id="vp"),
        person("ext", manager_id="outsider"),
    ]
    scorer = Scorer(people, Policy(constraints=(Constraint(kind="not_in_reporting_line"),)))
    assert not scorer.allowed(0, 2)  # skip level
    assert not scorer.allowed(2, 1)
    assert scorer.allowed(2, 3)  # same manager is fine unless must_differ on manager_id
    assert scorer.allowed(4, 0)


def test_reporting_loop_is_an_input_error() -> None:
    people = [person("a", manager_id="b"), person("b", manager_id="a")]
    with pytest.raises(InputError, match="manager_id"):
        Scorer(people, Policy(constraints=(Constraint(kind="not_in_reporting_line"),)))


def test_avoid_is_symmetric_and_forbidden_locks() -> None:
    people = [person("a", avoid="b; z"), person("b", avoid=""), person("c", avoid="")]
    scorer = Scorer(people, Policy(), locks=Locks(forbidden=(("c", "b"),)))
    assert not scorer.allowed(0, 1) and not scorer.allowed(1, 0)
    assert not scorer.allowed(1, 2) and not scorer.allowed(2, 1)
    assert scorer.allowed(0, 2)


def test_min_score_boundary_is_allowed() -> None:
    people = [person("1", dept="a", x="1"), person("2", dept="a", x="2")]
    policy = Policy(
        min_score=0.5,
        criteria=(
            Criterion(kind="same", field="dept", weight=1),
            Criterion(kind="same", field="x", weight=1),
        ),
    )
    assert Scorer(people, policy).allowed(0, 1)


def test_bad_number_names_line_and_field() -> None:
    with pytest.raises(InputError) as caught:
        Scorer(
            [person("1", years="3"), person("2", years="three")],
            one("near", field="years", scale=5),
            file="people.csv",
            lines=[2, 3],
        )
    assert str(caught.value) == "people.csv, line 3, field 'years': 'three' is not a number"


def test_block_matches_scalar_calls_and_large_vocabulary() -> None:
    rng = np.random.default_rng(1)
    skills = [f"s{i}" for i in range(300)]  # forces the sparse path
    people = [
        person(
            str(i),
            offer=";".join(rng.choice(skills, 3)),
            want=";".join(rng.choice(skills, 2)),
            tags=";".join(rng.choice(skills, 4)),
        )
        for i in range(30)
    ]
    policy = Policy(
        criteria=(
            Criterion(kind="complement", offer="offer", want="want", weight=2),
            Criterion(kind="overlap", field="tags", weight=1),
            Criterion(kind="same", field="tags", weight=1),
        )
    )
    scorer = Scorer(people, policy)
    idx = np.arange(30)
    scores, _ = scorer.block(idx, idx)
    for i in range(30):
        for j in range(30):
            assert scores[i, j] == pytest.approx(
                reference.score(policy, people[i], people[j]), abs=1e-9
            )


VALUES = st.sampled_from(["", "a", "b", "c", "a;b", "b;c", "A; c", "a;b;c"])
NUMBERS = st.sampled_from(["", "0", "1", "2.5", "7", "-3"])


@st.composite
def populations(draw: st.DrawFn) -> list[Person]:
    n = draw(st.integers(min_value=2, max_value=8))
    ids = [f"p{i}" for i in range(n)]
    return [
        Person(
            id=ids[i],
            attributes={
                "dept": draw(VALUES),
                "tags": draw(VALUES),
                "offer": draw(VALUES),
                "want": draw(VALUES),
                "years": draw(NUMBERS),
                "manager_id": draw(st.sampled_from(["", *ids[:i]])),
                "avoid": draw(st.sampled_from(["", *ids])),
            },
        )
        for i in range(n)
    ]


FULL_POLICY = Policy(
    min_score=0.2,
    criteria=(
        Criterion(kind="same", field="dept", weight=1),
        Criterion(kind="different", field="tags", weight=0.5),
        Criterion(kind="overlap", field="tags", weight=2),
        Criterion(kind="complement", offer="offer", want="want", weight=3),
        Criterion(kind="near", field="years", scale=4, weight=1),
    ),
    constraints=(
        Constraint(kind="must_differ", field="offer"),
        Constraint(kind="max_gap", field="years", max=5),
        Constraint(kind="not_in_reporting_line"),
    ),
)


@settings(max_examples=60, deadline=None)
@given(populations(), st.booleans())
def test_block_equals_scalar_reference(people: list[Person], directed: bool) -> None:
    scorer = Scorer(people, FULL_POLICY)
    idx = np.arange(len(people))
    scores, allowed = scorer.block(idx, idx, directed=directed)
    for i, a in enumerate(people):
        for j, b in enumerate(people):
            assert scores[i, j] == pytest.approx(
                reference.score(FULL_POLICY, a, b, directed=directed), abs=1e-9
            )
            assert allowed[i, j] == reference.allowed(FULL_POLICY, people, a, b, directed=directed)


def _many_sets(n: int, seed: int) -> list[Person]:
    """Enough distinct value sets that no criterion fits a lookup table (the direct paths)."""
    rng = np.random.default_rng(seed)
    words = [f"w{k}" for k in range(14)]

    def some() -> str:
        return ";".join(rng.choice(words, size=int(rng.integers(0, 6)), replace=False))

    return [
        Person(
            id=f"p{i}",
            attributes={
                "dept": str(rng.choice(["Sales", "IT", "HR", ""])),
                "tags": some(),
                "offer": some(),
                "want": some(),
                "years": f"{rng.uniform(0, 30):.2f}",
                "manager_id": f"p{int(rng.integers(0, i))}" if i and rng.random() < 0.8 else "",
                "avoid": f"p{int(rng.integers(0, n))}" if rng.random() < 0.1 else "",
            },
        )
        for i in range(n)
    ]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_fast_keys_stay_within_their_error_of_the_exact_scores(seed: int) -> None:
    # The large-pool solvers trust FastScores for ranking and for the certified bound: a key
    # may differ from the exact score by at most `error`, and a pair that is not allowed must
    # key below min_score - error (else the bound could miss it).
    people = _many_sets(400, seed)
    scorer = Scorer(people, FULL_POLICY)
    pool = np.arange(len(people))
    fast = scorer.fast(pool, seed=seed)
    shift = np.random.default_rng(seed).uniform(-1, 1, len(people)).astype(np.float32)
    error = fast.set_shift(shift)
    keys = fast.shifted_keys(slice(None), slice(None)).astype(np.float64)
    keys += shift[:, None].astype(np.float64) + shift[None, :].astype(np.float64)
    scores, allowed = scorer.block(pool, pool)
    assert allowed.sum() > 1000
    assert np.all(np.abs(keys - scores)[allowed] <= error)
    blocked = ~allowed & (scores >= FULL_POLICY.min_score)
    assert blocked.sum() > 100
    assert np.all(keys[blocked] < FULL_POLICY.min_score - error)
