"""Recommendations: exactly the top-k allowed partners by score, ties by id."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from peermentor.matching import api
from peermentor.matching.model import (
    Constraint,
    Criterion,
    InputError,
    Locks,
    Person,
    Policy,
    Sides,
)

from . import reference

POLICY = Policy(
    min_score=0.2,
    criteria=(
        Criterion(kind="overlap", field="topics", weight=2),
        Criterion(kind="complement", offer="offer", want="want", weight=1),
    ),
    constraints=(Constraint(kind="must_differ", field="dept"),),
)


@st.composite
def populations(draw: st.DrawFn) -> list[Person]:
    n = draw(st.integers(min_value=1, max_value=25))
    values = st.sampled_from(["", "a", "b", "a;b", "c"])
    return [
        Person(
            id=f"q{draw(st.integers(0, 9))}{i:02d}",
            attributes={
                "topics": draw(values),
                "offer": draw(values),
                "want": draw(values),
                "dept": draw(st.sampled_from(["x", "y", ""])),
            },
        )
        for i in range(n)
    ]


@settings(max_examples=40, deadline=None)
@given(populations(), st.integers(min_value=0, max_value=8), st.data())
def test_top_k_equals_sorting_every_allowed_partner(
    people: list[Person], top: int, data: st.DataObject
) -> None:
    person = data.draw(st.sampled_from(people))
    expected = sorted(
        (-reference.score(POLICY, person, other), other.id)
        for other in people
        if reference.allowed(POLICY, people, person, other)
    )[:top]
    got = api.recommend(people, POLICY, person.id, top=top)
    assert [(item.person_id) for item in got.items] == [other for _, other in expected]
    for item, (negative, _) in zip(got.items, expected, strict=True):
        assert item.score == pytest.approx(-negative, abs=1e-9)
        assert item.reasons
    if top > 0 and not expected:
        assert got.reason_if_empty


def test_ties_are_broken_by_id_and_context_people_are_not_suggested() -> None:
    people = [
        Person(id=name, attributes={"topics": "a", "dept": d})
        for name, d in [("me", "x"), ("zed", "y"), ("amy", "y"), ("bob", "y"), ("old", "y")]
    ]
    got = api.recommend(people, POLICY, "me", top=2, locks=Locks(context=("amy",)))
    assert [item.person_id for item in got.items] == ["bob", "old"]


def test_bipartite_recommends_the_other_side_scored_with_side_a_as_a() -> None:
    policy = Policy(
        format="bipartite",
        sides=Sides(field="role", a="host", b="shadow"),
        criteria=(Criterion(kind="complement", offer="offer", want="want", weight=1),),
    )
    people = [
        Person(id="h1", attributes={"role": "Host", "offer": "sql;go", "want": ""}),
        Person(id="h2", attributes={"role": "host", "offer": "sql", "want": "design"}),
        Person(id="s1", attributes={"role": "shadow", "offer": "design", "want": "sql;go"}),
        Person(id="s2", attributes={"role": "shadow", "offer": "", "want": "sql"}),
    ]
    for_host = api.recommend(people, policy, "h2", top=5)
    assert [(i.person_id, i.score) for i in for_host.items] == [("s2", 1.0), ("s1", 0.5)]
    for_shadow = api.recommend(people, policy, "s1", top=5)
    assert [(i.person_id, i.score) for i in for_shadow.items] == [("h1", 1.0), ("h2", 0.5)]
    assert "h1 can help with the sql and go that s1 wants" in for_shadow.items[0].reasons


def test_nobody_allowed_gives_the_reason_and_unknown_ids_are_input_errors() -> None:
    people = [
        Person(id="a", attributes={"topics": "a", "dept": "x"}),
        Person(id="b", attributes={"topics": "a", "dept": "x"}),
    ]
    got = api.recommend(people, POLICY, "a")
    assert got.items == ()
    assert got.reason_if_empty == "no allowed partner"
    with pytest.raises(InputError, match="unknown person id 'nobody'"):
        api.recommend(people, POLICY, "nobody")
