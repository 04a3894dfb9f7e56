"""The `peermentor` command line end to end, as an administrator runs it."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

from peermentor.matching.profiles import read_people_csv, read_policy_toml

from . import reference

PEERMENTOR = Path(sys.executable).parent / "peermentor"

PEOPLE = """\
\ufeffID, Name ,Department,skills_offered,skills_wanted,years_experience,utc_offset,manager_id,avoid
ana,Ana,Data,Python;SQL,Design,6,0,,
ben,Ben,Design,Design,python;Go,2,1,ana,
cy,Cy,Data,Go,SQL,9,0,,
dee,Dee,Sales,Negotiation;Design,SQL,4,2,,cy
eve,Eve,Sales,SQL,Negotiation,3,-5,,
"""

POLICY = """\
format = "pairs"
objective = "quality"
min_score = 0.0

[[criterion]]
kind = "complement"
offer = "skills_offered"
want = "skills_wanted"
weight = 3

[[criterion]]
kind = "near"
field = "years_experience"
scale = 10
weight = 1

[[constraint]]
kind = "must_differ"
field = "department"

[[constraint]]
kind = "max_gap"
field = "utc_offset"
max = 3
"""


def peermentor(*arguments: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(PEERMENTOR), *arguments], cwd=cwd, capture_output=True, text=True, timeout=120
    )


@pytest.fixture()
def files(tmp_path: Path) -> Path:
    (tmp_path / "people.csv").write_text(PEOPLE, encoding="utf-8")
    (tmp_path / "policy.toml").write_text(POLICY, encoding="utf-8")
    return tmp_path


def test_help_explains_the_commands(tmp_path: Path) -> None:
    overview = peermentor("--help", cwd=tmp_path)
    assert overview.returncode == 0
    assert "match" in overview.stdout and "recommend" in overview.stdout
    match_help = peermentor("match", "--help", cwd=tmp_path)
    assert match_help.returncode == 0
    for text in ("--policy", "--out", "--report", "--seed", "MATCHES.csv", "upper_bound"):
        assert text in match_help.stdout


def test_match_writes_matches_and_report(files: Path) -> None:
    done = peermentor(
        "match",
        "people.csv",
        "--policy",
        "policy.toml",
        "--out",
        "matches.csv",
        "--report",
        "report.json",
        "--seed",
        "3",
        cwd=files,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""  # no progress bar when stderr is not a terminal
    with open(files / "matches.csv", encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == ["group_id", "participant_id", "role", "score", "reasons"]
    table = read_people_csv(files / "people.csv")
    policy = read_policy_toml(files / "policy.toml")
    by_id = {p.id: p for p in table.people}
    groups: dict[str, list[dict[str, str]]] = {}
    for row in rows:
        groups.setdefault(row["group_id"], []).append(row)
        assert row["role"] == "peer"
        assert row["reasons"]
    for members in groups.values():
        a, b = (by_id[m["participant_id"]] for m in members)
        expected = reference.score(policy, a, b)
        assert all(abs(float(m["score"]) - expected) <= 1e-6 for m in members)
        assert reference.allowed(policy, table.people, a, b)
    report = json.loads((files / "report.json").read_text(encoding="utf-8"))
    assert report["placed"] == len(rows)
    assert report["upper_bound"] >= report["total_score"] - 1e-9
    assert {u["id"] for u in report["unmatched"]} == set(by_id) - {
        r["participant_id"] for r in rows
    }
    assert all(u["reason"] for u in report["unmatched"])
    assert report["seconds"] >= 0
    again = peermentor(
        "match",
        "people.csv",
        "--policy",
        "policy.toml",
        "--out",
        "again.csv",
        "--seed",
        "3",
        cwd=files,
    )
    assert again.returncode == 0
    assert (files / "again.csv").read_text() == (files / "matches.csv").read_text()


@pytest.mark.parametrize(
    ("people", "policy", "expected"),
    [
        (PEOPLE.replace("cy,Cy", "ana,Cy"), POLICY, "people.csv, line 4, field 'id': duplicate id"),
        (
            PEOPLE.replace(",9,0,,", ",nine,0,,"),
            POLICY,
            "people.csv, line 4, field 'years_experience': 'nine' is not a number",
        ),
        (
            PEOPLE,
            POLICY.replace('kind = "near"', 'kind = "nearby"'),
            "policy.toml, line 12, field 'criterion.kind': unknown criterion kind 'nearby'",
        ),
        (
            PEOPLE,
            POLICY.replace('field = "department"', 'field = "team"'),
            "policy.toml, line 19, field 'constraint.field': column 'team' is not in the people",
        ),
        (
            PEOPLE.replace("ben,Ben,Design,Design,python;Go,2,1,ana,", "ben,Ben"),
            POLICY,
            "people.csv, line 3: has 2 fields but the header has 9",
        ),
    ],
)
def test_bad_input_exits_2_with_one_line_and_writes_nothing(
    files: Path, people: str, policy: str, expected: str
) -> None:
    (files / "people.csv").write_text(people, encoding="utf-8")
    (files / "policy.toml").write_text(policy, encoding="utf-8")
    done = peermentor(
        "match",
        "people.csv",
        "--policy",
        "policy.toml",
        "--out",
        "matches.csv",
        "--report",
        "report.json",
        cwd=files,
    )
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1
    assert expected in lines[0]
    assert not (files / "matches.csv").exists()
    assert not (files / "report.json").exists()
    assert sorted(p.name for p in files.iterdir()) == ["people.csv", "policy.toml"]


def test_missing_file_and_unwritable_output_exit_2(files: Path) -> None:
    missing = peermentor(
        "match", "nope.csv", "--policy", "policy.toml", "--out", "m.csv", cwd=files
    )
    assert missing.returncode == 2 and "nope.csv: file not found" in missing.stderr
    no_folder = peermentor(
        "match", "people.csv", "--policy", "policy.toml", "--out", "missing/m.csv", cwd=files
    )
    assert no_folder.returncode == 2 and "does not exist" in no_folder.stderr


def test_recommend_prints_best_first(files: Path) -> None:
    done = peermentor(
        "recommend",
        "people.csv",
        "--policy",
        "policy.toml",
        "--for",
        "ben",
        "--top",
        "2",
        cwd=files,
    )
    assert done.returncode == 0, done.stderr
    rows = list(csv.reader(done.stdout.splitlines()))
    assert rows[0] == ["participant_id", "score", "reasons"]
    assert [r[0] for r in rows[1:]] == ["ana", "cy"]
    assert float(rows[1][1]) >= float(rows[2][1])
    assert "Ana can help with the python that Ben wants" in rows[1][2]


def test_recommend_with_nobody_allowed_prints_the_header_and_the_reason(files: Path) -> None:
    done = peermentor(
        "recommend", "people.csv", "--policy", "policy.toml", "--for", "eve", cwd=files
    )
    assert done.returncode == 0
    assert done.stdout == "participant_id,score,reasons\n"
    assert "eve: no allowed partner" in done.stderr
    unknown = peermentor(
        "recommend", "people.csv", "--policy", "policy.toml", "--for", "zoe", cwd=files
    )
    assert unknown.returncode == 2 and "unknown person id 'zoe'" in unknown.stderr
