"""Reading PEOPLE.csv and POLICY.toml: what is accepted and how errors are named."""

from __future__ import annotations

from pathlib import Path

import pytest

from peermentor.matching.model import Constraint, Criterion, InputError, Sides
from peermentor.matching.profiles import read_people_csv, read_policy_toml


def write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def test_people_bom_trimmed_case_insensitive_headers(tmp_path: Path) -> None:
    path = write(tmp_path, "p.csv", "\ufeff ID , Dept ,Skills\n a1 ,Sales, x; ;y\nB2,,\n\n")
    table = read_people_csv(path)
    assert table.columns == ("id", "dept", "skills")
    assert [p.id for p in table.people] == ["a1", "B2"]
    assert table.people[0].attributes == {"dept": "Sales", "skills": "x; ;y"}
    assert table.lines == (2, 3)


def test_people_line_numbers_count_multiline_cells(tmp_path: Path) -> None:
    path = write(tmp_path, "p.csv", 'id,bio\na,"two\nlines"\na,x\n')
    with pytest.raises(InputError) as caught:
        read_people_csv(path)
    assert str(caught.value) == (f"{path}, line 4, field 'id': duplicate id 'a' (first on line 2)")


@pytest.mark.parametrize(
    ("text", "line", "field", "fragment"),
    [
        ("name\nx\n", 1, "id", "missing the required id column"),
        ("id,Dept,dept\n", 1, "dept", "duplicate column"),
        ("id,dept\na,1,2\n", 2, None, "has 3 fields"),
        ("id,dept\n ,x\n", 2, "id", "empty id"),
        ("", 1, None, "empty file"),
    ],
)
def test_people_errors(
    tmp_path: Path, text: str, line: int, field: str | None, fragment: str
) -> None:
    path = write(tmp_path, "p.csv", text)
    with pytest.raises(InputError) as caught:
        read_people_csv(path)
    assert caught.value.file == str(path)
    assert caught.value.line == line
    assert caught.value.field == field
    assert fragment in str(caught.value)


def test_people_missing_file_and_bad_encoding(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="file not found"):
        read_people_csv(tmp_path / "nope.csv")
    path = write(tmp_path, "p.csv", "id\nJosé\n", encoding="latin-1")
    with pytest.raises(InputError, match="not UTF-8"):
        read_people_csv(path)


POLICY = """
format = "pairs"
objective = "participation"
min_score = 0.25

[[criterion]]
kind = "complement"
offer = "Skills_Offered"
want = "skills_wanted"
weight = 3

[[criterion]]
kind = "near"
field = "years"
scale = 10

[[constraint]]
kind = "must_differ"
field = "department"

[[constraint]]
kind = "max_gap"
field = "utc_offset"
max = 3

[[constraint]]
kind = "not_in_reporting_line"
"""


def test_policy_reads_everything(tmp_path: Path) -> None:
    policy = read_policy_toml(write(tmp_path, "policy.toml", POLICY))
    assert policy.objective == "participation"
    assert policy.min_score == 0.25
    assert policy.criteria == (
        Criterion(kind="complement", weight=3.0, offer="skills_offered", want="skills_wanted"),
        Criterion(kind="near", weight=1.0, field="years", scale=10.0),
    )
    assert policy.constraints[1] == Constraint(kind="max_gap", field="utc_offset", max=3.0)


def test_bipartite_and_circles_settings(tmp_path: Path) -> None:
    text = 'format = "bipartite"\nsides = { field = "Role", a = "Host", b = "shadow" }\n'
    assert read_policy_toml(write(tmp_path, "b.toml", text)).sides == Sides(
        "role", "host", "shadow"
    )
    text = 'format = "circles"\ngroup_size = [5, 7]\nbalance = ["dept"]\n'
    policy = read_policy_toml(write(tmp_path, "c.toml", text))
    assert policy.group_size == (5, 7) and policy.balance == ("dept",)


@pytest.mark.parametrize(
    ("text", "line", "field", "fragment"),
    [
        ('format = "triples"', 1, "format", "unknown format"),
        (
            '\n[[criterion]]\nkind = "similar"\nfield = "x"\n',
            3,
            "criterion.kind",
            "unknown criterion kind",
        ),
        ('[[criterion]]\nkind = "same"\n', 1, "criterion.field", "needs 'field'"),
        (
            '[[criterion]]\nkind = "same"\nfield = "dept"\nweight = 0\n',
            4,
            "criterion.weight",
            "weight must be > 0",
        ),
        (
            '[[criterion]]\nkind = "near"\nfield = "y"\nscale = -1\n',
            4,
            "criterion.scale",
            "scale must be > 0",
        ),
        ('[[criterion]]\nkind = "near"\nfield = "y"\n', 1, "criterion.scale", "needs 'scale'"),
        (
            '[[criterion]]\nkind = "same"\nfield = "dept"\nscale = 2\n',
            4,
            "criterion.scale",
            "does not apply",
        ),
        (
            '[[constraint]]\nkind = "max_gap"\nfield = "tz"\nmax = -1\n',
            4,
            "constraint.max",
            "max must be >= 0",
        ),
        ('[[constraint]]\nkind = "nope"\n', 2, "constraint.kind", "unknown constraint kind"),
        ('min_score = "high"\n', 1, "min_score", "must be a number"),
        ("colour = 1\n", 1, "colour", "unknown setting"),
        ('format = "bipartite"\n', None, "sides", "needs sides"),
        ('format = "circles"\ngroup_size = [1, 3]\n', 2, "group_size", "2 <= smallest"),
        ("x = [\n", 1, None, "not valid TOML"),
    ],
)
def test_policy_errors(
    tmp_path: Path, text: str, line: int | None, field: str | None, fragment: str
) -> None:
    path = write(tmp_path, "policy.toml", text)
    with pytest.raises(InputError) as caught:
        read_policy_toml(path)
    assert caught.value.file == str(path)
    assert caught.value.line == line
    assert caught.value.field == field
    assert fragment in str(caught.value)


def test_policy_columns_must_exist(tmp_path: Path) -> None:
    path = write(tmp_path, "policy.toml", POLICY)
    with pytest.raises(InputError) as caught:
        read_policy_toml(
            path, columns=["id", "skills_offered", "skills_wanted", "years", "utc_offset"]
        )
    assert caught.value.line == 19 and caught.value.field == "constraint.field"
    assert "'department' is not in the people file" in str(caught.value)
    with pytest.raises(InputError, match="manager_id"):
        read_policy_toml(
            path,
            columns=["id", "skills_offered", "skills_wanted", "years", "utc_offset", "department"],
        )
