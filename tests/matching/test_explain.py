"""Explanations a participant would understand."""

from __future__ import annotations

from peermentor.matching.explain import reasons
from peermentor.matching.model import Criterion, Person, Policy
from peermentor.matching.scoring import Scorer

POLICY = Policy(
    criteria=(
        Criterion(kind="complement", offer="offers", want="wants", weight=3),
        Criterion(kind="overlap", field="wants", weight=1),
        Criterion(kind="different", field="department", weight=1),
        Criterion(kind="near", field="years", scale=10, weight=1),
        Criterion(kind="same", field="site", weight=1),
    )
)


def test_reasons_name_people_and_values_as_written() -> None:
    people = [
        Person(
            id="a1",
            attributes={
                "name": "Ana",
                "offers": "Python; Data Viz",
                "wants": "SQL",
                "department": "Data",
                "years": "6",
                "site": "Lisbon",
            },
        ),
        Person(
            id="b2",
            attributes={
                "name": "Ben",
                "offers": "sql",
                "wants": "python; SQL; go",
                "department": "Design",
                "years": "4",
                "site": "Porto",
            },
        ),
    ]
    text = reasons(Scorer(people, POLICY), 0, 1)
    parts = text.split("; ")
    # Strongest first: the complement criterion carries most weight.
    assert parts[:2] == [
        "Ana can help with the python that Ben wants",
        "Ben can help with the SQL that Ana wants",
    ]
    # Then by weight x value: different departments (1), years (0.8); the wants overlap (1/3)
    # is a fifth reason and is left out; the sites differ, so "same site" never appears.
    assert parts[2:] == ["different departments", "similar years (6 and 4)"]


def test_reasons_fall_back_to_ids_and_say_when_nothing_matched() -> None:
    people = [Person(id="x", attributes={}), Person(id="y", attributes={})]
    text = reasons(Scorer(people, POLICY), 0, 1)
    assert text.startswith("a possible pairing")
    people = [
        Person(id="x", attributes={"years": "3", "site": "Oslo"}),
        Person(id="y", attributes={"years": "3", "site": "oslo"}),
    ]
    assert reasons(Scorer(people, POLICY), 0, 1) == "the same years (3); same site (Oslo)"
