"""One measured task, run in its own process by bench/measure.py; prints its figures as JSON.

    python -m bench.worker engine PEOPLE.csv POLICY.toml OUT_DIR [--seed N]
    python -m bench.worker blossom PEOPLE.csv POLICY.toml --library rustworkx|networkx
    python -m bench.worker assignment PEOPLE.csv POLICY.toml
    python -m bench.worker mentor-match PEOPLE.csv POLICY.toml
    python -m bench.worker circle-baselines PEOPLE.csv POLICY.toml [--seed N]
    python -m bench.worker recommend PEOPLE.csv POLICY.toml [--queries 200] [--top 10]

`engine` is the product end to end: read the CSV and the policy, match, write MATCHES.csv and
REPORT.json. The others are the comparisons; each reads the same files and scores with the same
exact scorer, so every total in the report is comparable.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from peermentor.matching.model import MatchResult, Policy
from peermentor.matching.profiles import read_people_csv, read_policy_toml
from peermentor.matching.scoring import Scorer

BLOCK_PAIRS = 1 << 21


def _load(people_path: str, policy_path: str) -> tuple[Scorer, Policy]:
    table = read_people_csv(people_path)
    policy = read_policy_toml(policy_path, columns=table.columns)
    return Scorer(table.people, policy, file=table.file, lines=table.lines), policy


# --- the engine, end to end ---------------------------------------------------------------------


def engine(people_path: str, policy_path: str, out_dir: str, seed: int) -> dict[str, Any]:
    started = time.perf_counter()
    result = _match(people_path, policy_path, Path(out_dir), seed)
    seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        # Circles only (after the clock stopped): how evenly levels spread over the circles.
        "level_imbalance": (
            _imbalance(people_path, result, "level")
            if result.groups and result.groups[0].members[0].role == "member"
            else None
        ),
        "engine_seconds": result.seconds,
        "total": result.total_score,
        "upper_bound": result.upper_bound,
        "placed": result.placed,
        "unmatched": len(result.unmatched),
        "groups": len(result.groups),
        "stats": dict(result.stats),
    }


def _imbalance(people_path: str, result: MatchResult, column: str) -> float:
    """Sum over groups and values of (count - size x population share)^2 (after timing)."""
    with open(people_path, encoding="utf-8", newline="") as handle:
        value_of = {row["id"]: row.get(column, "") for row in csv.DictReader(handle)}
    values = sorted(set(value_of.values()))
    share = {v: sum(1 for x in value_of.values() if x == v) / len(value_of) for v in values}
    total = 0.0
    for group in result.groups:
        size = len(group.members)
        counts = dict.fromkeys(values, 0)
        for member in group.members:
            counts[value_of[member.person_id]] += 1
        total += sum((counts[v] - size * share[v]) ** 2 for v in values)
    return total


def _match(people_path: str, policy_path: str, out: Path, seed: int) -> MatchResult:
    """Exactly what `peermentor match` does: the public API from file to files."""
    from peermentor.matching import api

    table = api.load_people_csv(people_path)
    policy = api.load_policy_toml(policy_path, people=table)
    result = api.match(table, policy, seed=seed)
    api.write_matches_csv(result, out / "MATCHES.csv")
    api.write_report_json(result, out / "REPORT.json", policy=policy)
    return result


# --- exact pairs: Edmonds' blossom ---------------------------------------------------------------


def _allowed_edges(scorer: Scorer) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n = scorer.n
    everyone = np.arange(n)
    left: list[np.ndarray] = []
    right: list[np.ndarray] = []
    weight: list[np.ndarray] = []
    step = max(1, BLOCK_PAIRS // max(n, 1))
    for start in range(0, n, step):
        rows = everyone[start : start + step]
        scores, allowed = scorer.block(rows, everyone)
        allowed &= everyone[None, :] > rows[:, None]
        r, c = np.nonzero(allowed)
        left.append(rows[r])
        right.append(c)
        weight.append(scores[r, c])
    return np.concatenate(left), np.concatenate(right), np.concatenate(weight)


def blossom(people_path: str, policy_path: str, library: str) -> dict[str, Any]:
    started = time.perf_counter()
    scorer, policy = _load(people_path, policy_path)
    left, right, weight = _allowed_edges(scorer)
    cardinality = policy.objective == "participation"
    if library == "rustworkx":
        import rustworkx

        graph = rustworkx.PyGraph()
        graph.add_nodes_from(range(scorer.n))
        # rustworkx wants integer weights: scores in units of 1e-9 (rounding costs < n * 1e-9).
        units = np.round(weight * 1e9).astype(np.int64)
        graph.add_edges_from(list(zip(left.tolist(), right.tolist(), units.tolist(), strict=True)))
        matching = rustworkx.max_weight_matching(
            graph, max_cardinality=cardinality, weight_fn=lambda w: int(w)
        )
    else:
        import networkx

        graph = networkx.Graph()
        graph.add_nodes_from(range(scorer.n))
        graph.add_weighted_edges_from(
            zip(left.tolist(), right.tolist(), weight.tolist(), strict=True)
        )
        matching = networkx.max_weight_matching(graph, maxcardinality=cardinality)
    pairs = np.array(sorted(tuple(sorted(p)) for p in matching), dtype=np.intp).reshape(-1, 2)
    scores, _ = scorer.pair_scores(pairs[:, 0], pairs[:, 1])
    return {
        "seconds": time.perf_counter() - started,
        "total": float(scores.sum()),
        "placed": 2 * len(pairs),
        "edges": len(weight),
    }


# --- exact bipartite: a dense assignment over capacity slots -----------------------------------


def assignment(people_path: str, policy_path: str) -> dict[str, Any]:
    from scipy.optimize import linear_sum_assignment

    started = time.perf_counter()
    scorer, _ = _load(people_path, policy_path)
    hosts = np.flatnonzero(scorer.side == 0)
    shadows = np.flatnonzero(scorer.side == 1)
    scores, allowed = scorer.block(hosts, shadows, directed=True)
    # Scores are >= 0, so a disallowed pair (worth 0) is the same as leaving the shadow out.
    weights = np.where(allowed, scores, 0.0)
    slots = np.repeat(np.arange(len(hosts)), scorer.capacity[hosts])
    rows, cols = linear_sum_assignment(weights[slots], maximize=True)
    chosen = weights[slots][rows, cols]
    real = allowed[slots[rows], cols]
    # People placed: side-b people with an allowed host, and the hosts they went to.
    placed = int(real.sum()) + len(np.unique(slots[rows][real]))
    return {
        "seconds": time.perf_counter() - started,
        "total": float(chosen.sum()),
        "placed": placed,
    }


# --- mentor-match (the open-source package), on the same scores --------------------------------


def mentor_match(people_path: str, policy_path: str) -> dict[str, Any]:
    from matching import process
    from matching.mentee import Mentee
    from matching.mentor import Mentor
    from matching.rules.rule import Disqualify

    started = time.perf_counter()
    scorer, _ = _load(people_path, policy_path)
    hosts = np.flatnonzero(scorer.side == 0)
    shadows = np.flatnonzero(scorer.side == 1)
    scores, allowed = scorer.block(hosts, shadows, directed=True)
    host_at = {scorer.ids[h]: k for k, h in enumerate(hosts.tolist())}
    shadow_at = {scorer.ids[s]: k for k, s in enumerate(shadows.tolist())}
    levels = scorer.raw_column("level")

    class OurScore:
        """mentor-match rules return whole numbers: our score in millionths."""

        def evaluate(self, match: Any) -> bool:
            return True

        def apply(self, match: Any) -> int:
            a, b = host_at[match.mentor.email], shadow_at[match.mentee.email]
            return round(float(scores[a, b]) * 1e6)

    def forbidden(match: Any) -> bool:
        return not bool(allowed[host_at[match.mentor.email], shadow_at[match.mentee.email]])

    mentors = [Mentor(email=scorer.ids[h], grade=int(levels[h] or 0)) for h in hosts.tolist()]
    mentees = [Mentee(email=scorer.ids[s], grade=int(levels[s] or 0)) for s in shadows.tolist()]
    process.process_data(mentors, mentees, [[OurScore(), Disqualify(forbidden)]])
    total = 0.0
    placed = 0
    for mentor in mentors:
        taken = 0
        for mentee in mentor.mentees:
            a, b = host_at[mentor.email], shadow_at[mentee.email]
            if allowed[a, b]:
                total += float(scores[a, b])
                taken += 1
        placed += taken + (1 if taken else 0)
    return {"seconds": time.perf_counter() - started, "total": total, "placed": placed}


# --- circles: random and greedy groupings --------------------------------------------------------


def circle_baselines(people_path: str, policy_path: str, seed: int) -> dict[str, Any]:
    started = time.perf_counter()
    scorer, policy = _load(people_path, policy_path)
    assert policy.group_size is not None
    lo, hi = policy.group_size
    everyone = np.arange(scorer.n)
    scores, allowed = scorer.block(everyone, everyone)

    def value(members: list[int]) -> float:
        index = np.asarray(members)
        block = scores[np.ix_(index, index)]
        return float(block.sum() - np.trace(block)) / (len(members) - 1)

    # Random: people in random order, each into the first recent circle it may join.
    rng = np.random.default_rng(seed)
    circles: list[list[int]] = []
    for person in rng.permutation(scorer.n).tolist():
        for circle in circles[-50:]:
            if len(circle) < hi and allowed[person, circle].all():
                circle.append(person)
                break
        else:
            circles.append([person])
    kept = [c for c in circles if len(c) >= lo]
    random_total = sum(value(c) for c in kept)
    random_placed = sum(len(c) for c in kept)

    # Greedy: in file order, seed a circle and add the free person with the highest score sum
    # with the members until the circle has the smallest size.
    free = np.ones(scorer.n, dtype=bool)
    greedy_total, greedy_placed = 0.0, 0
    for person in range(scorer.n):
        if not free[person]:
            continue
        free[person] = False
        members = [person]
        affinity = scores[person].copy()
        fits = allowed[person] & free
        while len(members) < lo and fits.any():
            pick = int(np.flatnonzero(fits)[np.argmax(affinity[fits])])
            members.append(pick)
            free[pick] = False
            affinity += scores[pick]
            fits &= allowed[pick] & free
        if len(members) >= lo:
            greedy_total += value(members)
            greedy_placed += len(members)
        else:
            free[members[1:]] = True
    return {
        "seconds": time.perf_counter() - started,
        "random_total": random_total,
        "random_placed": random_placed,
        "greedy_total": greedy_total,
        "greedy_placed": greedy_placed,
    }


# --- recommendations -----------------------------------------------------------------------------


def recommend(people_path: str, policy_path: str, queries: int, top: int) -> dict[str, Any]:
    from peermentor.matching import api

    started = time.perf_counter()
    table = api.load_people_csv(people_path)
    policy = api.load_policy_toml(policy_path, people=table)
    engine = api.recommender(table, policy)
    loaded = time.perf_counter() - started
    scorer = engine.scorer
    rng = np.random.default_rng(0)
    people = rng.choice(scorer.n, size=min(queries, scorer.n), replace=False)
    latencies: list[float] = []
    exact = 0
    checked = 0
    for k, person in enumerate(people.tolist()):
        tick = time.perf_counter()
        found = engine.recommend(scorer.ids[person], top)
        latencies.append((time.perf_counter() - tick) * 1000.0)
        if k < 20:
            checked += 1
            ids = [item.person_id for item in found.items]
            exact += int(ids == _exact_top(scorer, person, top))
    return {
        "load_seconds": loaded,
        "median_ms": float(np.median(latencies)),
        "p95_ms": float(np.percentile(latencies, 95)),
        "queries": len(latencies),
        "exact_checked": checked,
        "exact": exact,
    }


def _exact_top(scorer: Scorer, person: int, top: int) -> list[str]:
    """The top-k allowed partners by exact score, ties by id, by exhaustive ranking."""
    everyone = np.arange(scorer.n)
    scores, allowed = scorer.block(np.array([person]), everyone)
    allowed[0] &= scorer.active
    ranked = sorted(
        (-float(scores[0, j]), scorer.ids[j]) for j in np.flatnonzero(allowed[0]).tolist()
    )
    return [pid for _, pid in ranked[:top]]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "task",
        choices=[
            "engine",
            "blossom",
            "assignment",
            "mentor-match",
            "circle-baselines",
            "recommend",
        ],
    )
    parser.add_argument("people")
    parser.add_argument("policy")
    parser.add_argument("out", nargs="?", default=".")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--library", default="rustworkx")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--top", type=int, default=10)
    args = parser.parse_args(argv)
    if args.task == "engine":
        figures = engine(args.people, args.policy, args.out, args.seed)
    elif args.task == "blossom":
        figures = blossom(args.people, args.policy, args.library)
    elif args.task == "assignment":
        figures = assignment(args.people, args.policy)
    elif args.task == "mentor-match":
        figures = mentor_match(args.people, args.policy)
    elif args.task == "circle-baselines":
        figures = circle_baselines(args.people, args.policy, args.seed)
    else:
        figures = recommend(args.people, args.policy, args.queries, args.top)
    sys.stdout.write(json.dumps(figures) + "\n")


if __name__ == "__main__":
    main()
