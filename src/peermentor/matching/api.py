"""The engine's public entry points: what the web app and the command line call.

Dataclasses in, dataclasses out. Reading files and writing results live here too, so that the
command line and any script produce exactly the same files.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .model import InputError, Locks, MatchResult, Person, Policy, ProgressCallback
from .profiles import PeopleTable, read_people_csv, read_policy_toml
from .recommend import Recommendations, Recommender
from .scoring import Scorer

MATCHES_HEADER = ("group_id", "participant_id", "role", "score", "reasons")
RECOMMEND_HEADER = ("participant_id", "score", "reasons")

People = Sequence[Person] | PeopleTable


def load_people_csv(path: str | Path) -> PeopleTable:
    """Read PEOPLE.csv (InputError naming file, line and field on bad input)."""
    return read_people_csv(path)


def load_policy_toml(path: str | Path, *, people: PeopleTable | None = None) -> Policy:
    """Read POLICY.toml; with `people`, every column it names must exist in that file."""
    return read_policy_toml(path, columns=people.columns if people is not None else None)


def build_scorer(people: People, policy: Policy, *, locks: Locks | None = None) -> Scorer:
    """Encode a population once for scoring (reuse it for many recommendations)."""
    if isinstance(people, PeopleTable):
        return Scorer(people.people, policy, locks=locks, file=people.file, lines=people.lines)
    return Scorer(people, policy, locks=locks)


def match(
    people: People,
    policy: Policy,
    *,
    locks: Locks | None = None,
    seed: int = 0,
    progress: ProgressCallback | None = None,
) -> MatchResult:
    """Group people as `policy` asks (pairs, bipartite or circles).

    The same people, policy, locks and seed always give the same result. Raises InputError for
    values that do not parse (naming the person or line and the field).
    """
    locks = locks if locks is not None else Locks()
    scorer = build_scorer(people, policy, locks=locks)
    if policy.format == "pairs":
        from .pairs import solve_pairs

        return solve_pairs(scorer, policy, locks=locks, seed=seed, progress=progress)
    if policy.format == "bipartite":
        from .bipartite import solve_bipartite

        return solve_bipartite(scorer, policy, locks=locks, seed=seed, progress=progress)
    from .circles import solve_circles

    return solve_circles(scorer, policy, locks=locks, seed=seed, progress=progress)


def recommender(people: People, policy: Policy, *, locks: Locks | None = None) -> Recommender:
    """Load once, then call `.recommend(person_id, top)` as often as needed."""
    return Recommender(build_scorer(people, policy, locks=locks))


def recommend(
    people: People,
    policy: Policy,
    person_id: str,
    *,
    top: int = 10,
    locks: Locks | None = None,
) -> Recommendations:
    """The `top` allowed partners of one person, best first (ties by id).

    Raises InputError when the id is not among the people.
    """
    engine = recommender(people, policy, locks=locks)
    try:
        return engine.recommend(person_id, top)
    except KeyError:
        raise InputError(f"unknown person id {person_id.strip()!r}", field="--for") from None


# --- output -----------------------------------------------------------------------------------


def format_score(score: float | None) -> str:
    """A score as written to files: up to nine decimals, no trailing zeros."""
    if score is None:
        return ""
    text = f"{score:.9f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def matches_csv_text(result: MatchResult) -> str:
    """MATCHES.csv as text (one row per person placed)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(MATCHES_HEADER)
    for group in result.groups:
        for member in group.members:
            writer.writerow(
                (
                    group.id,
                    member.person_id,
                    member.role,
                    format_score(member.score),
                    member.reasons,
                )
            )
    return buffer.getvalue()


def recommendations_csv_text(recommendations: Recommendations) -> str:
    """What `peermentor recommend` prints: participant_id,score,reasons, best first."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(RECOMMEND_HEADER)
    for item in recommendations.items:
        writer.writerow((item.person_id, format_score(item.score), item.reasons))
    return buffer.getvalue()


def _finite(value: float | None) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    return value


def report_dict(result: MatchResult, *, policy: Policy | None = None) -> dict[str, Any]:
    """REPORT.json's content: totals, the certified bound and gap, and who was left out, why."""
    bound = _finite(result.upper_bound)
    report: dict[str, Any] = {}
    if policy is not None:
        report["format"] = policy.format
        report["objective"] = policy.objective
    report.update(
        {
            "total_score": result.total_score,
            "upper_bound": bound,
            "gap": None if bound is None else max(0.0, bound - result.total_score),
            "share_of_bound": (
                None if bound is None or bound <= 0 else min(1.0, result.total_score / bound)
            ),
            "groups": len(result.groups),
            "placed": result.placed,
            "unmatched": [{"id": item.id, "reason": item.reason} for item in result.unmatched],
            "seconds": result.seconds,
            "stats": {key: _finite(float(value)) for key, value in result.stats.items()},
        }
    )
    return report


def write_matches_csv(result: MatchResult, path: str | Path) -> None:
    """Write MATCHES.csv atomically (a failed write leaves no partial file)."""
    write_files({Path(path): matches_csv_text(result)})


def write_report_json(
    result: MatchResult, path: str | Path, *, policy: Policy | None = None
) -> None:
    """Write REPORT.json atomically."""
    write_files({Path(path): report_json_text(result, policy=policy)})


def report_json_text(result: MatchResult, *, policy: Policy | None = None) -> str:
    return json.dumps(report_dict(result, policy=policy), indent=2, ensure_ascii=False) + "\n"


def check_writable(path: str | Path) -> None:
    """InputError unless `path` can be created (its folder exists and is writable)."""
    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    if target.is_dir():
        raise InputError("is a folder, not a file", file=str(path))
    if not folder.is_dir():
        raise InputError(f"folder {str(folder)!r} does not exist", file=str(path))
    if not os.access(folder, os.W_OK):
        raise InputError(f"folder {str(folder)!r} is not writable", file=str(path))


def write_files(contents: Mapping[Path, str]) -> None:
    """Write several files so that either all appear or none does."""
    staged: list[tuple[str, Path]] = []
    try:
        for target, text in contents.items():
            folder = target.parent if str(target.parent) else Path(".")
            handle, temporary = tempfile.mkstemp(
                prefix=f".{target.name}.", suffix=".tmp", dir=folder
            )
            staged.append((temporary, target))
            with os.fdopen(handle, "w", encoding="utf-8", newline="") as stream:
                stream.write(text)
        for temporary, target in staged:
            os.replace(temporary, target)
    except OSError as error:
        for temporary, _ in staged:
            if os.path.exists(temporary):
                os.unlink(temporary)
        raise InputError(f"cannot write ({error.strerror})", file=str(error.filename)) from None
