"""Engine benchmarks: pairs, bipartite, circles and recommendations on synthetic organisations.

Every row is one fresh process (bench/measure.py): `process s` is its wall time from start to
exit (interpreter start-up included), `task s` the time from reading the CSV to having written
the results (for comparisons: to having the answer), `peak MiB` its maximum resident memory.
Totals are computed with the same exact scorer for every solver, so they compare directly.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from bench import orgs
from bench.measure import Measured, run_worker
from bench.registry import Options, section, table

# Targets from MATCHING.md / issue 4.
PAIRS_SECONDS = {10_000: 5.0, 100_000: 90.0}
MEMORY_MIB = 2048.0
QUALITY_SHARE = 0.995
RECOMMEND_MS = 200.0


@dataclass(frozen=True)
class Dataset:
    people: Path
    policy: Path
    size: int
    label: str


_DATASETS: dict[tuple[object, ...], Dataset] = {}


def dataset(
    options: Options,
    format_name: str,
    n: int,
    variant: str = "realistic",
    *,
    hosts: int = 0,
    objective: str = "quality",
    capacity_one: bool = False,
    balance: tuple[str, ...] = (),
    seed: int = 1,
) -> Dataset:
    """PEOPLE.csv and POLICY.toml for one synthetic organisation (generated once per run)."""
    key = (format_name, n, variant, hosts, objective, capacity_one, balance, seed)
    if key in _DATASETS:
        return _DATASETS[key]
    name = "-".join(str(part) for part in key if part not in ((), False, 0))
    folder = options.work_dir / name.replace(" ", "")
    folder.mkdir(parents=True, exist_ok=True)
    organisation = orgs.generate(n, seed=seed, variant=variant, hosts=hosts)
    if capacity_one:
        for row in organisation.rows:
            if row.get("role") == "host":
                row["capacity"] = "1"
    people = folder / "people.csv"
    organisation.write_csv(people)
    policy = folder / "policy.toml"
    text = orgs.policy_toml(format_name, variant, objective=objective, balance=balance)
    policy.write_text(text, encoding="utf-8")
    label = variant if objective == "quality" else f"{variant}, {objective}"
    if balance:
        label += f", balance on {', '.join(balance)}"
    _DATASETS[key] = Dataset(people, policy, n, label)
    return _DATASETS[key]


def _load() -> float:
    """The machine's one-minute load average (other work shares its cores)."""
    try:
        return os.getloadavg()[0]
    except OSError:
        return float("nan")


def _load_note(before: float) -> str:
    cores = os.cpu_count() or 1
    return (
        f"Load average (1 min) {before:.1f} when the section started and {_load():.1f} when it "
        f"ended, on {cores} cores: above {cores} other work was running and the times are "
        "pessimistic."
    )


def _number(value: object, digits: int = 2) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _share(value: float | None, reference: float | None) -> str:
    if value is None or not reference:
        return "—"
    return f"{100.0 * value / reference:.3f}%"


def _mark(ok: bool) -> str:
    return "✓" if ok else "✗"


@dataclass
class _Row:
    organisation: str
    size: str
    solver: str
    measured: Measured
    total: float | None = None
    placed: int | None = None
    exact: float | None = None
    bound: float | None = None
    notes: str = ""

    def cells(self) -> list[str]:
        m = self.measured
        if m.error:
            return [
                self.organisation,
                self.size,
                self.solver,
                _number(m.wall_seconds),
                "—",
                "—",
                "—",
                "—",
                "—",
                "—",
                f"failed: {m.error}",
            ]
        task = m.figures.get("seconds")
        return [
            self.organisation,
            self.size,
            self.solver,
            _number(m.wall_seconds),
            _number(task),
            _number(m.peak_mib, 0),
            _number(self.total, 3),
            _number(self.placed),
            _share(self.total, self.exact),
            _share(self.total, self.bound),
            self.notes,
        ]


HEADERS = [
    "organisation",
    "n",
    "solver",
    "process s",
    "task s",
    "peak MiB",
    "total",
    "placed",
    "% of exact",
    "% of bound",
    "notes",
]


def _render(rows: Iterable[_Row], notes: list[str]) -> str:
    body = table(HEADERS, [row.cells() for row in rows])
    return body + ("\n\n" + "\n".join(notes) if notes else "")


# --- pairs ------------------------------------------------------------------------------------


@section("pairs", "Pairs (anyone with anyone)", order=10)
def pairs(options: Options) -> str:
    load_before = _load()
    if options.quick:
        plan = [
            (300, "realistic", ("networkx", "rustworkx")),
            (1_000, "realistic", ("rustworkx",)),
            (1_000, "hubs", ()),
        ]
        participation = [300]
    else:
        # The exact solvers are O(n^3): networkx (pure Python) takes minutes beyond 300 people,
        # rustworkx about a minute at 2,000 on an idle 2-core machine.
        plan = [
            (300, "realistic", ("networkx", "rustworkx")),
            (1_000, "realistic", ("rustworkx",)),
            (1_000, "ties", ("rustworkx",)),
            (1_000, "hubs", ("rustworkx",)),
            (2_000, "realistic", ("rustworkx",)),
            (2_000, "hubs", ()),
            (10_000, "realistic", ()),
            (10_000, "ties", ()),
            (10_000, "hubs", ()),
            (100_000, "realistic", ()),
        ]
        participation = [1_000]
    rows: list[_Row] = []
    notes: list[str] = []
    for n, variant, exact_solvers in plan:
        data = dataset(options, "pairs", n, variant)
        rows.extend(_pairs_rows(data, exact_solvers))
    for n in participation:
        data = dataset(options, "pairs", n, "realistic", objective="participation")
        rows.extend(_pairs_rows(data, ("rustworkx",)))
    for row in rows:
        if row.solver != "peermentor" or row.measured.error:
            continue
        n = int(row.size.replace(",", ""))
        checks = []
        if n in PAIRS_SECONDS:
            checks.append(
                f"≤ {PAIRS_SECONDS[n]:.0f} s {_mark(row.measured.wall_seconds <= PAIRS_SECONDS[n])}"
            )
        checks.append(f"< 2 GiB {_mark(row.measured.peak_mib < MEMORY_MIB)}")
        for label, reference in (("exact", row.exact), ("bound", row.bound)):
            if reference and row.total is not None:
                good = row.total >= QUALITY_SHARE * reference - 1e-9
                checks.append(f"≥ 99.5% of {label} {_mark(good)}")
        row.notes = "; ".join(filter(None, [row.notes, ", ".join(checks)]))
    notes.append(
        "Exact: Edmonds' blossom on every allowed pair (rustworkx with scores in units of 1e-9, "
        "networkx with floats). The bound is the engine's certified upper bound on any valid "
        "result. With `participation` the blossom maximises cardinality first."
    )
    notes.append(_load_note(load_before))
    return _render(rows, notes)


def _pairs_rows(data: Dataset, exact_solvers: tuple[str, ...]) -> list[_Row]:
    size = f"{data.size:,}"
    ours = engine_run_for(data)
    rows = [ours]
    exact_total: float | None = None
    exact_placed: int | None = None
    for library in exact_solvers:
        measured = run_worker(["blossom", str(data.people), str(data.policy), "--library", library])
        total = measured.figures.get("total")
        row = _Row(
            data.label, size, f"{library} (exact)", measured, total, measured.figures.get("placed")
        )
        rows.append(row)
        if total is not None:
            exact_total = total if exact_total is None else max(exact_total, total)
            exact_placed = measured.figures.get("placed")
    for row in rows:
        row.exact = exact_total
    if exact_placed is not None and "participation" in data.label and ours.placed is not None:
        most = _mark(ours.placed >= exact_placed)
        ours.notes = f"placed {ours.placed:,} vs maximum {exact_placed:,} {most}"
    return rows


def engine_run_for(data: Dataset) -> _Row:
    out = data.people.parent / "out"
    out.mkdir(exist_ok=True)
    measured = run_worker(["engine", str(data.people), str(data.policy), str(out)])
    figures = measured.figures
    row = _Row(
        data.label,
        f"{data.size:,}",
        "peermentor",
        measured,
        figures.get("total"),
        figures.get("placed"),
        bound=figures.get("upper_bound"),
    )
    return row


# --- bipartite --------------------------------------------------------------------------------


@section("bipartite", "Bipartite with capacities (hosts and shadows)", order=20)
def bipartite(options: Options) -> str:
    rows: list[_Row] = []
    if options.quick:
        mentor_size, dense_hosts, big = 60, 300, [(500, 1_000, "realistic")]
    else:
        mentor_size, dense_hosts, big = (
            300,
            1_000,
            [
                (5_000, 10_000, "realistic"),
                (5_000, 10_000, "ties"),
                (5_000, 10_000, "hubs"),
            ],
        )
    # mentor-match (Munkres in pure Python) takes one mentee per mentor per round: capacity 1.
    data = dataset(
        options, "bipartite", 2 * mentor_size, "realistic", hosts=mentor_size, capacity_one=True
    )
    ours = engine_run_for(data)
    ours.size = f"{mentor_size} x {mentor_size}"
    other = run_worker(["mentor-match", str(data.people), str(data.policy)])
    theirs = _Row(
        data.label + ", capacity 1",
        ours.size,
        "mentor-match 7.0.1",
        other,
        other.figures.get("total"),
        other.figures.get("placed"),
    )
    ours.organisation = theirs.organisation
    ours.exact = theirs.exact = (
        ours.total if ours.measured.figures.get("stats", {}).get("certified") else None
    )
    rows += [ours, theirs]

    data = dataset(options, "bipartite", 3 * dense_hosts, "realistic", hosts=dense_hosts)
    ours = engine_run_for(data)
    ours.size = f"{dense_hosts:,} x {2 * dense_hosts:,}"
    dense = run_worker(["assignment", str(data.people), str(data.policy)])
    check = _Row(
        data.label,
        ours.size,
        "scipy dense assignment (exact)",
        dense,
        dense.figures.get("total"),
        dense.figures.get("placed"),
    )
    ours.exact = check.exact = check.total
    rows += [ours, check]

    for hosts, shadows, variant in big:
        data = dataset(options, "bipartite", hosts + shadows, variant, hosts=hosts)
        ours = engine_run_for(data)
        ours.size = f"{hosts:,} x {shadows:,}"
        rows.append(ours)
    for row in rows:
        if row.solver == "peermentor" and not row.measured.error:
            stats = row.measured.figures.get("stats", {})
            row.notes = (
                f"certified {'✓' if stats.get('certified') else '✗'}, "
                f"{int(stats.get('rounds', 0))} pricing rounds, "
                f"{int(stats.get('candidate_pairs', 0)):,} candidate pairs"
            )
    notes = [
        "Exact by construction: the engine's result is certified optimal when its LP dual bound "
        "equals its total (column generation prices every allowed pair). The dense assignment "
        "(scipy `linear_sum_assignment` over capacity slots) is an independent exact check where "
        "the dense matrix fits. mentor-match scores with our scores (in millionths, its rules "
        "return whole numbers) and solves with pure-Python Munkres, so only small sizes are "
        "practical."
    ]
    return _render(rows, notes)


# --- circles ----------------------------------------------------------------------------------


@section("circles", "Circles (group_size [5, 7])", order=30)
def circles(options: Options) -> str:
    load_before = _load()
    rows: list[_Row] = []
    baseline_size = 600 if options.quick else 2_000
    big = (
        [(1_000, "realistic")]
        if options.quick
        else [
            (10_000, "realistic"),
            (10_000, "ties"),
            (10_000, "hubs"),
        ]
    )
    rows.append(engine_run_for(dataset(options, "circles", 240, "realistic")))
    data = dataset(options, "circles", baseline_size, "realistic")
    ours = engine_run_for(data)
    rows.append(ours)
    baselines = run_worker(["circle-baselines", str(data.people), str(data.policy)])
    figures = baselines.figures
    for kind in ("greedy", "random"):
        rows.append(
            _Row(
                data.label,
                f"{baseline_size:,}",
                f"{kind} grouping",
                baselines,
                figures.get(f"{kind}_total"),
                figures.get(f"{kind}_placed"),
                bound=ours.bound,
                notes="both baselines in one process" if kind == "random" else "",
            )
        )
    for n, variant in big:
        rows.append(engine_run_for(dataset(options, "circles", n, variant)))
    n = big[0][0]
    rows.append(engine_run_for(dataset(options, "circles", n, "realistic", balance=("level",))))
    for row in rows:
        if row.solver == "peermentor" and not row.measured.error:
            row.notes = _circle_notes(row)
    notes = [
        "No exact method scales for circles (they contain clique partitioning). The bound is "
        "certified: the smallest of each person's mean with their best lo - 1 partners (the "
        "old bound, in brackets), the fractional (lo - 1)-matching's dual by coordinate "
        "descent, and up to 3,000 people the LP with triangle inequalities (HiGHS); see "
        "docs/matching.md. Move/swap left: the largest gain any single move or swap between "
        "circles still offers, as a share of the total (polish runs on dense pools without "
        "balance). Greedy: in file order, seed a circle and add the free person with the "
        "highest score sum with the members up to the smallest size. Random: random order, "
        "first recent circle the person may join. Level imbalance: the sum over circles and "
        'levels of (count - size x population share)^2; `balance = ["level"]` trades a '
        "little score for a much lower one.",
        _load_note(load_before),
    ]
    return _render(rows, notes)


def _circle_notes(row: _Row) -> str:
    figures = row.measured.figures
    stats = figures.get("stats", {})
    total = row.total or 0.0
    parts = [
        f"{int(stats.get('circles', 0)):,} circles, {figures.get('unmatched', 0)} left out",
        f"level imbalance {figures.get('level_imbalance') or 0:,.0f}",
    ]
    old = stats.get("bound_by_best_partners")
    if old and total:
        parts.append(f"[old bound: {100 * total / old:.1f}%]")
    left = stats.get("best_move_or_swap_left")
    if left is not None and left == left and total:
        parts.append(f"move/swap left {100 * left / total:.4f}% {_mark(left <= 1e-3 * total)}")
    if row.bound and row.total is not None:
        parts.append(f"≥ 85% of bound {_mark(row.total >= 0.85 * row.bound)}")
    if row.size == "10,000":
        parts.append(f"≤ 30 s {_mark(row.measured.wall_seconds <= 30.0)}")
    return ", ".join(parts)


# --- recommendations --------------------------------------------------------------------------


@section("recommend", "Recommendations (top 10 allowed partners)", order=40)
def recommend(options: Options) -> str:
    n = 5_000 if options.quick else 100_000
    data = dataset(options, "pairs", n, "realistic")
    measured = run_worker(["recommend", str(data.people), str(data.policy), "--queries", "200"])
    f = measured.figures
    if measured.error:
        cells = [
            data.label,
            f"{n:,}",
            "—",
            "—",
            "—",
            _number(measured.peak_mib, 0),
            f"failed: {measured.error}",
        ]
    else:
        ok = f["p95_ms"] < RECOMMEND_MS
        cells = [
            data.label,
            f"{n:,}",
            _number(f["load_seconds"]),
            _number(f["median_ms"]),
            _number(f["p95_ms"]),
            _number(measured.peak_mib, 0),
            f"{f['exact']}/{f['exact_checked']} exact top-10; < {RECOMMEND_MS:.0f} ms {_mark(ok)}",
        ]
    return table(
        ["organisation", "n", "load s", "median ms", "p95 ms", "peak MiB", "notes"], [cells]
    ) + (
        "\n\nLoad once (read the CSV, build the scorer), then 200 queries for random people; "
        "the first 20 are checked against an exhaustive exact ranking."
    )
