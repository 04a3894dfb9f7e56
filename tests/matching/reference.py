"""An independent scalar implementation of MATCHING.md's scores, written from the text only.

Tests compare every score the engine reports against this; it deliberately shares no code with
the engine.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from peermentor.matching.model import Person, Policy


def values(person: Person, column: str) -> set[str]:
    cell = {k.strip().lower(): v for k, v in person.attributes.items()}.get(column, "")
    return {item.strip().lower() for item in cell.split(";") if item.strip()}


def number(person: Person, column: str) -> float | None:
    cell = {k.strip().lower(): v for k, v in person.attributes.items()}.get(column, "").strip()
    return float(cell) if cell else None


def criterion_value(
    kind: str, a: Person, b: Person, spec: Mapping[str, object], directed: bool
) -> float:
    if kind == "near":
        x, y = number(a, str(spec["field"])), number(b, str(spec["field"]))
        if x is None or y is None:
            return 0.0
        return max(0.0, 1.0 - abs(x - y) / float(spec["scale"]))  # type: ignore[arg-type]
    if kind == "complement":

        def f(giver: Person, taker: Person) -> float:
            want = values(taker, str(spec["want"]))
            if not want:
                return 0.0
            return len(values(giver, str(spec["offer"])) & want) / len(want)

        if directed:
            return f(a, b)
        return (f(a, b) + f(b, a)) / 2
    sa, sb = values(a, str(spec["field"])), values(b, str(spec["field"]))
    if kind == "same":
        return 1.0 if sa & sb else 0.0
    if kind == "different":
        return 1.0 if sa and sb and not (sa & sb) else 0.0
    if kind == "overlap":
        union = sa | sb
        return len(sa & sb) / len(union) if union else 0.0
    raise AssertionError(kind)


def score(policy: Policy, a: Person, b: Person, *, directed: bool = False) -> float:
    total = 0.0
    weights = 0.0
    for c in policy.criteria:
        spec = {"field": c.field, "offer": c.offer, "want": c.want, "scale": c.scale}
        total += c.weight * criterion_value(c.kind, a, b, spec, directed)
        weights += c.weight
    return total / weights if weights else 0.0


def chain(people: Sequence[Person], person: Person) -> list[str]:
    by_id = {p.id: p for p in people}
    managers: list[str] = []
    current = person
    while True:
        manager = {k.lower(): v for k, v in current.attributes.items()}.get(
            "manager_id", ""
        ).strip()
        if not manager or manager not in by_id or manager in managers:
            return managers
        managers.append(manager)
        current = by_id[manager]


def allowed(
    policy: Policy,
    people: Sequence[Person],
    a: Person,
    b: Person,
    *,
    directed: bool = False,
    forbidden: Sequence[tuple[str, str]] = (),
) -> bool:
    if a.id == b.id:
        return False
    if score(policy, a, b, directed=directed) < policy.min_score - 1e-9:
        return False
    avoid_a = {
        x.strip()
        for x in {k.lower(): v for k, v in a.attributes.items()}.get("avoid", "").split(";")
    }
    avoid_b = {
        x.strip()
        for x in {k.lower(): v for k, v in b.attributes.items()}.get("avoid", "").split(";")
    }
    if b.id in avoid_a or a.id in avoid_b:
        return False
    if (a.id, b.id) in forbidden or (b.id, a.id) in forbidden:
        return False
    for c in policy.constraints:
        if c.kind == "must_match":
            if criterion_value("same", a, b, {"field": c.field}, False) != 1.0:
                return False
        elif c.kind == "must_differ":
            if criterion_value("different", a, b, {"field": c.field}, False) != 1.0:
                return False
        elif c.kind == "max_gap":
            x, y = number(a, str(c.field)), number(b, str(c.field))
            if x is None or y is None or abs(x - y) > float(c.max):  # type: ignore[arg-type]
                return False
        elif c.kind == "not_in_reporting_line" and (
            b.id in chain(people, a) or a.id in chain(people, b)
        ):
            return False
    return True
