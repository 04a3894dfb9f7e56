"""Synthetic organisations that look like real ones, for benchmarks and large tests.

Real people files are not uniform random data: a few departments hold most people, most staff are
junior, skills cluster by department, a reporting tree links everyone to a head, offices sit in a
handful of time zones, and a few well-known people are everyone's favourite partner. Each
generator here is deterministic for a seed and writes PEOPLE.csv rows as MATCHING.md defines them.

Variants:
- `realistic`: the default; several criteria and constraints give thousands of distinct scores.
- `ties`: the same people under a policy of a few coarse criteria (hundreds of distinct scores).
- `hubs`: a few people offer almost every skill and share most interests, so they are nearly
  everyone's best partner (naive top-k candidate lists starve everybody else).
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

VARIANTS = ("realistic", "ties", "hubs")

DEPARTMENTS = (
    "Engineering",
    "Sales",
    "Operations",
    "Customer Support",
    "Marketing",
    "Finance",
    "Product",
    "People",
    "Legal",
    "Data",
    "Security",
    "Design",
    "Procurement",
    "Facilities",
)
# (site, UTC offset in hours): a head office, a few regional offices, remote people.
SITES = (
    ("London", 0.0),
    ("New York", -5.0),
    ("Berlin", 1.0),
    ("Bangalore", 5.5),
    ("San Francisco", -8.0),
    ("Singapore", 8.0),
    ("Sao Paulo", -3.0),
    ("Sydney", 10.0),
    ("Remote", 2.0),
)
SKILL_FAMILIES = {
    "engineering": (
        "Python",
        "Java",
        "Go",
        "SQL",
        "Kubernetes",
        "System design",
        "Testing",
        "Cloud",
        "Rust",
        "TypeScript",
    ),
    "data": ("Statistics", "Machine learning", "Dashboards", "Data modelling", "Experimentation"),
    "business": ("Negotiation", "Forecasting", "Budgeting", "Pricing", "Contracts", "Excel"),
    "people": ("Coaching", "Hiring", "Feedback", "Facilitation", "Conflict resolution"),
    "craft": ("Writing", "Public speaking", "UX research", "Visual design", "Storytelling"),
    "leadership": ("Strategy", "Delegation", "Stakeholder management", "Prioritisation"),
}
DEPARTMENT_FAMILIES = {
    "Engineering": ("engineering", "engineering", "data"),
    "Data": ("data", "data", "engineering"),
    "Security": ("engineering", "engineering", "business"),
    "Product": ("craft", "data", "leadership"),
    "Design": ("craft", "craft", "people"),
    "Sales": ("business", "business", "people"),
    "Marketing": ("craft", "business", "data"),
    "Finance": ("business", "business", "data"),
    "Procurement": ("business", "business", "people"),
    "Legal": ("business", "craft", "people"),
    "People": ("people", "people", "craft"),
    "Operations": ("business", "engineering", "people"),
    "Customer Support": ("people", "business", "craft"),
    "Facilities": ("business", "people", "people"),
}
INTERESTS = (
    "running",
    "climbing",
    "chess",
    "cooking",
    "photography",
    "gardening",
    "reading",
    "board games",
    "cycling",
    "music",
    "volunteering",
    "travel",
    "yoga",
    "film",
    "football",
    "sustainability",
    "languages",
    "podcasts",
    "hiking",
    "painting",
    "swimming",
    "parenting",
    "investing",
    "theatre",
    "baking",
    "tennis",
    "crafts",
    "history",
    "astronomy",
    "diversity",
)
FIRST_NAMES = (
    "Ana",
    "Ben",
    "Chen",
    "Dara",
    "Emeka",
    "Fatima",
    "Gustavo",
    "Hana",
    "Ivan",
    "Jia",
    "Kofi",
    "Lena",
    "Mateo",
    "Nadia",
    "Omar",
    "Priya",
    "Quinn",
    "Rosa",
    "Sami",
    "Tomoko",
    "Uma",
    "Victor",
    "Wen",
    "Ximena",
    "Yusuf",
    "Zoe",
)
LAST_NAMES = (
    "Okafor",
    "Silva",
    "Kowalski",
    "Nguyen",
    "Haddad",
    "Smith",
    "Garcia",
    "Ivanova",
    "Tanaka",
    "Mensah",
    "Larsen",
    "Rossi",
    "Khan",
    "Dubois",
    "Novak",
    "Fischer",
)
ALL_SKILLS = tuple(skill for family in SKILL_FAMILIES.values() for skill in family)


@dataclass(frozen=True)
class Organisation:
    """Rows of PEOPLE.csv (one dict per person, column -> cell) and the column order."""

    columns: tuple[str, ...]
    rows: tuple[dict[str, str], ...]

    def write_csv(self, path: Path) -> None:
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(self.columns))
            writer.writeheader()
            writer.writerows(self.rows)


def generate(
    n: int,
    *,
    seed: int = 0,
    variant: str = "realistic",
    hosts: int = 0,
    avoid_rate: float = 0.01,
) -> Organisation:
    """An organisation of n people.

    With hosts > 0 the first `hosts` people (in a shuffled order, so hosts are spread over
    departments and levels, leaning senior) get role "host" and a capacity of 1-3, and the rest
    role "shadow": the shape of a job-shadowing or mentoring program.
    """
    if variant not in VARIANTS:
        raise ValueError(f"unknown variant {variant!r} (expected one of {VARIANTS})")
    rng = np.random.default_rng(seed)
    # Zipf-like department sizes: the largest department is about ten times the smallest.
    department_weights = 1.0 / np.arange(1, len(DEPARTMENTS) + 1) ** 1.1
    department = rng.choice(
        len(DEPARTMENTS), size=n, p=department_weights / department_weights.sum()
    )
    site_weights = np.array([0.34, 0.18, 0.12, 0.12, 0.08, 0.06, 0.04, 0.03, 0.03])
    site = rng.choice(len(SITES), size=n, p=site_weights / site_weights.sum())
    # Levels 1 (junior) to 7 (executive): a pyramid.
    level_weights = np.array([0.26, 0.25, 0.2, 0.14, 0.09, 0.04, 0.02])
    level = 1 + rng.choice(7, size=n, p=level_weights)
    years = np.clip(np.round(level * 3.2 + rng.normal(0, 2.5, n)), 0, 40).astype(int)
    hub = np.zeros(n, dtype=bool)
    if variant == "hubs":
        hub[rng.choice(n, size=max(2, n // 200), replace=False)] = True

    skill_index = {skill: k for k, skill in enumerate(ALL_SKILLS)}
    # Popular skills are wanted much more often than niche ones.
    popularity = 1.0 / np.arange(1, len(ALL_SKILLS) + 1) ** 0.7
    popularity = popularity[rng.permutation(len(ALL_SKILLS))]

    ids = [f"E{k:06d}" for k in rng.permutation(n) + 1]
    managers = _reporting_tree(department, level, rng)
    is_host = np.zeros(n, dtype=bool)
    if hosts:
        seniority = level + rng.random(n) * 4  # seniors are likelier hosts, juniors too
        is_host[np.argsort(-seniority, kind="stable")[:hosts]] = True

    rows: list[dict[str, str]] = []
    for i in range(n):
        families = DEPARTMENT_FAMILIES[DEPARTMENTS[department[i]]]
        offered = _pick_skills(rng, families, 1 + min(int(level[i]), 4), skill_index, None)
        wanted = _pick_skills(rng, families, int(rng.integers(1, 4)), skill_index, popularity)
        interests = list(rng.choice(INTERESTS, size=int(rng.integers(2, 5)), replace=False))
        if hub[i]:
            offered = list(ALL_SKILLS)
        wanted = [skill for skill in wanted if skill not in offered] or wanted[:1]
        site_name, offset = SITES[site[i]]
        row = {
            "id": ids[i],
            "name": f"{FIRST_NAMES[i % len(FIRST_NAMES)]} {LAST_NAMES[(i * 7) % len(LAST_NAMES)]}",
            "department": DEPARTMENTS[department[i]],
            "site": site_name,
            "level": str(int(level[i])),
            "years_experience": str(int(years[i])),
            "utc_offset": f"{offset:g}",
            "skills_offered": ";".join(offered),
            "skills_wanted": ";".join(wanted),
            "interests": ";".join(interests),
            "manager_id": ids[managers[i]] if managers[i] >= 0 else "",
            "avoid": "",
        }
        if hosts:
            row["role"] = "host" if is_host[i] else "shadow"
            row["capacity"] = str(int(rng.choice([1, 1, 2, 2, 3]))) if is_host[i] else ""
        rows.append(row)
    # Past partners and personal blocks: a few people avoid someone (symmetric per MATCHING.md).
    for i in np.flatnonzero(rng.random(n) < avoid_rate):
        other = int(rng.integers(0, n))
        if other != i:
            rows[i]["avoid"] = ids[other]
    columns = tuple(rows[0].keys()) if rows else ("id",)
    return Organisation(columns=columns, rows=tuple(rows))


def _pick_skills(
    rng: np.random.Generator,
    families: Sequence[str],
    count: int,
    skill_index: dict[str, int],
    popularity: np.ndarray | None,
) -> list[str]:
    pool = sorted({skill for family in families for skill in SKILL_FAMILIES[family]})
    # One skill in five comes from anywhere: people have side interests.
    if rng.random() < 0.2:
        pool = list(ALL_SKILLS)
    weights = (
        np.ones(len(pool))
        if popularity is None
        else np.array([popularity[skill_index[skill]] for skill in pool])
    )
    count = min(count, len(pool))
    chosen = rng.choice(len(pool), size=count, replace=False, p=weights / weights.sum())
    return [pool[k] for k in chosen]


def _reporting_tree(
    department: np.ndarray, level: np.ndarray, rng: np.random.Generator
) -> list[int]:
    """A real tree: each person reports to someone more senior in their department; department
    heads report to one chief executive (the most senior person of the largest department)."""
    n = len(department)
    managers = [-1] * n
    order = np.lexsort((rng.random(n), -level))  # most senior first
    if n == 0:
        return managers
    chief = int(order[0])
    by_department: dict[int, list[int]] = {}
    for i in order.tolist():
        by_department.setdefault(int(department[i]), []).append(i)
    for members in by_department.values():
        head = members[0]
        if head != chief:
            managers[head] = chief
        # Everyone else reports to a random more senior person of the department, preferring
        # the level just above (a realistic span of control).
        seniors: list[int] = [head]
        for i in members[1:]:
            above = [s for s in seniors[-40:] if level[s] > level[i]] or seniors[:1]
            managers[i] = above[int(rng.integers(0, len(above)))]
            seniors.append(i)
    return managers


def policy_toml(
    format_name: str,
    variant: str = "realistic",
    *,
    objective: str = "quality",
    balance: tuple[str, ...] = (),
) -> str:
    """A POLICY.toml for the given format and variant (see the module docstring)."""
    lines = [f'format = "{format_name}"', f'objective = "{objective}"']
    if format_name == "bipartite":
        lines.append('sides = { field = "role", a = "host", b = "shadow" }')
    if format_name == "circles":
        lines.append("group_size = [5, 7]")
    if balance:
        lines.append("balance = [" + ", ".join(f'"{name}"' for name in balance) + "]")
    if variant == "ties":
        lines.append("min_score = 0.0")
        criteria = [
            ("same", "site", 1, None),
            ("different", "department", 1, None),
            ("near", "level", 1, 3),
        ]
    else:
        lines.append("min_score = 0.05")
        criteria = [
            ("complement", None, 3, None),
            ("overlap", "interests", 1, None),
            ("near", "years_experience", 1, 10),
            ("different", "department", 1, None),
        ]
    for kind, field, weight, scale in criteria:
        lines.append("")
        lines.append("[[criterion]]")
        lines.append(f'kind = "{kind}"')
        if kind == "complement":
            lines.append('offer = "skills_offered"')
            lines.append('want = "skills_wanted"')
        else:
            lines.append(f'field = "{field}"')
        if scale is not None:
            lines.append(f"scale = {scale}")
        lines.append(f"weight = {weight}")
    constraints = [("not_in_reporting_line", None, None)]
    if format_name == "circles":
        constraints.append(("max_gap", "utc_offset", 3))
    elif variant != "ties":
        constraints.append(("max_gap", "utc_offset", 6))
    for kind, field, maximum in constraints:
        lines.append("")
        lines.append("[[constraint]]")
        lines.append(f'kind = "{kind}"')
        if field is not None:
            lines.append(f'field = "{field}"')
        if maximum is not None:
            lines.append(f"max = {maximum}")
    return "\n".join(lines) + "\n"
