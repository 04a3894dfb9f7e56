"""A small greedy stand-in for peermentor.matching.api.match, used only while the real engine's
api module has not landed. It honours the same contract (allowed pairs, locks, capacities)."""

from __future__ import annotations

import time

import numpy as np

from peermentor.matching.model import Group, MatchResult, Placement, Unmatched
from peermentor.matching.scoring import Scorer


def fake_match(people, policy, *, locks, seed=0, progress=None):
    started = time.perf_counter()
    scorer = Scorer(people, policy, locks=locks)
    if progress:
        progress("Scoring", 0.5)
    ids = scorer.ids
    placed: set[int] = set()
    groups: list[Group] = []
    directed = policy.format == "bipartite"

    def placement(i, j, role):
        score = scorer.pair_score(j, i, directed=True) if directed else scorer.pair_score(i, j)
        return Placement(person_id=ids[i], role=role, score=score, reasons=f"fake {i}-{j}")

    for fixed in locks.fixed:
        members = [scorer.index(person_id) for person_id in fixed]
        placed.update(members)
        roles = [_role(policy, people[m]) for m in members]
        groups.append(
            Group(
                id=f"fixed-{len(groups)}",
                members=tuple(
                    Placement(ids[m], r, None, "kept") for m, r in zip(members, roles, strict=True)
                ),
                score=sum(scorer.pair_score(members[0], m, directed=directed) for m in members[1:]),
            )
        )
    active = [i for i in range(scorer.n) if scorer.active[i] and i not in placed]
    if policy.format == "pairs":
        candidates = []
        for i in active:
            for j in active:
                if i < j and scorer.allowed(i, j):
                    candidates.append((-scorer.pair_score(i, j), i, j))
        for negative, i, j in sorted(candidates):
            if i in placed or j in placed:
                continue
            placed.update((i, j))
            groups.append(
                Group(
                    id=f"g{len(groups)}",
                    members=(placement(i, j, "peer"), placement(j, i, "peer")),
                    score=-negative,
                )
            )
    elif policy.format == "bipartite":
        side = scorer.side
        # Fixed groups count against a host's capacity; the host may still take others.
        fixed_heads = {
            scorer.index(group[0]): len(group) - 1 for group in locks.fixed if len(group) > 1
        }
        hosts = [i for i in active if side[i] == 0] + [
            i for i in fixed_heads if scorer.capacity[i] > fixed_heads[i]
        ]
        remaining = {i: int(scorer.capacity[i]) - fixed_heads.get(i, 0) for i in hosts}
        taken: dict[int, list[int]] = {i: [] for i in hosts}
        for b in [i for i in active if side[i] == 1]:
            options = [
                (scorer.pair_score(a, b, directed=True), -a, a)
                for a in hosts
                if remaining[a] > 0 and scorer.allowed(a, b, directed=True)
            ]
            if options:
                _, _, a = max(options)
                remaining[a] -= 1
                taken[a].append(b)
        for a, shadows in taken.items():
            if not shadows:
                continue
            placed.add(a)
            placed.update(shadows)
            members = [Placement(ids[a], policy.sides.a, None, "")]
            members += [
                Placement(ids[b], policy.sides.b, scorer.pair_score(a, b, directed=True), "fake")
                for b in shadows
            ]
            groups.append(
                Group(
                    id=f"g{len(groups)}",
                    members=tuple(members),
                    score=sum(m.score for m in members[1:]),
                )
            )
    else:
        size = policy.group_size[0]
        for start in range(0, len(active) - size + 1, size):
            members = active[start : start + size]
            placed.update(members)
            scores = [
                np.mean([scorer.pair_score(m, o) for o in members if o != m]) for m in members
            ]
            groups.append(
                Group(
                    id=f"g{len(groups)}",
                    members=tuple(
                        Placement(ids[m], "member", float(s), "fake circle")
                        for m, s in zip(members, scores, strict=True)
                    ),
                    score=float(sum(scores)),
                )
            )
    if progress:
        progress("Done", 1.0)
    unmatched = tuple(Unmatched(ids[i], "no allowed partner") for i in active if i not in placed)
    total = float(sum(group.score for group in groups))
    return MatchResult(
        groups=tuple(groups),
        unmatched=unmatched,
        total_score=total,
        upper_bound=total if policy.format != "circles" else None,
        seconds=time.perf_counter() - started,
        placed=len(placed - {scorer.index(c) for c in locks.context}),
    )


def _role(policy, person):
    if policy.format == "bipartite":
        return person.attributes.get("role", "")
    return "peer" if policy.format == "pairs" else "member"
