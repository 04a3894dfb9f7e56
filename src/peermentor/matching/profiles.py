"""Reading and validating PEOPLE.csv and POLICY.toml.

Every problem is reported as an `InputError` naming the file, the line (the header is line 1)
and the field, so that an administrator can fix the input without reading code.
"""

from __future__ import annotations

import csv
import math
import re
import tomllib
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from .model import (
    CONSTRAINT_KINDS,
    CRITERION_KINDS,
    FORMATS,
    OBJECTIVES,
    Constraint,
    ConstraintKind,
    Criterion,
    CriterionKind,
    FormatName,
    InputError,
    ObjectiveName,
    Person,
    Policy,
    Sides,
)

MULTI_VALUE_SEPARATOR = ";"
RESERVED_COLUMNS = ("id", "role", "capacity", "manager_id", "avoid")


@dataclass(frozen=True)
class PeopleTable:
    """The people of one file, with the line each record starts on (for error messages)."""

    file: str
    columns: tuple[str, ...]
    people: tuple[Person, ...]
    lines: tuple[int, ...]


def normalise_value(text: str) -> str:
    """How values are compared: trimmed and case-insensitive."""
    return text.strip().casefold()


def split_values(cell: str) -> list[str]:
    """The normalised values of a (possibly multi-valued) cell; empty items are dropped."""
    values: list[str] = []
    for item in cell.split(MULTI_VALUE_SEPARATOR):
        value = normalise_value(item)
        if value and value not in values:
            values.append(value)
    return values


def split_ids(cell: str) -> list[str]:
    """Person ids in a cell (ids are trimmed but case-sensitive)."""
    return [item.strip() for item in cell.split(MULTI_VALUE_SEPARATOR) if item.strip()]


def parse_number(cell: str) -> float | None:
    """A finite number, None for an empty cell; ValueError for anything else."""
    text = cell.strip()
    if not text:
        return None
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(text)
    return value


def read_people_csv(path: str | Path) -> PeopleTable:
    """Read PEOPLE.csv; the result has unique trimmed ids and lower-cased column names."""
    file = str(path)
    try:
        with open(path, encoding="utf-8-sig", newline="") as handle:
            text = handle.read()
    except FileNotFoundError:
        raise InputError("file not found", file=file) from None
    except UnicodeDecodeError as error:
        raise InputError(f"not UTF-8 text ({error.reason})", file=file) from None
    except OSError as error:
        raise InputError(f"cannot read the file ({error.strerror})", file=file) from None
    return parse_people_csv(text, file=file)


def parse_people_csv(text: str, *, file: str = "<people>") -> PeopleTable:
    """Parse the text of a people file (see `read_people_csv`)."""
    text = text.removeprefix("\ufeff")
    reader = csv.reader(text.splitlines(keepends=True), strict=True)
    try:
        header = next(reader, None)
    except csv.Error as error:
        raise InputError(f"malformed CSV header ({error})", file=file, line=1) from None
    if header is None or not any(cell.strip() for cell in header):
        raise InputError("empty file: expected a header row with an id column", file=file, line=1)
    columns = tuple(cell.strip().casefold() for cell in header)
    seen_columns: set[str] = set()
    for position, name in enumerate(columns, start=1):
        if not name:
            raise InputError(f"column {position} has no name", file=file, line=1)
        if name in seen_columns:
            raise InputError("duplicate column", file=file, line=1, field=name)
        seen_columns.add(name)
    if "id" not in seen_columns:
        raise InputError("missing the required id column", file=file, line=1, field="id")
    id_position = columns.index("id")

    people: list[Person] = []
    lines: list[int] = []
    first_line_of: dict[str, int] = {}
    previous_end = reader.line_num
    while True:
        start = previous_end + 1
        try:
            row = next(reader, None)
        except csv.Error as error:
            raise InputError(f"malformed CSV ({error})", file=file, line=start) from None
        if row is None:
            break
        previous_end = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(columns):
            raise InputError(
                f"has {len(row)} fields but the header has {len(columns)}", file=file, line=start
            )
        person_id = row[id_position].strip()
        if not person_id:
            raise InputError("empty id", file=file, line=start, field="id")
        if person_id in first_line_of:
            raise InputError(
                f"duplicate id {person_id!r} (first on line {first_line_of[person_id]})",
                file=file,
                line=start,
                field="id",
            )
        first_line_of[person_id] = start
        attributes = {
            name: cell.strip() for name, cell in zip(columns, row, strict=True) if name != "id"
        }
        people.append(Person(id=person_id, attributes=attributes))
        lines.append(start)
    return PeopleTable(file=file, columns=columns, people=tuple(people), lines=tuple(lines))


# --- POLICY.toml ------------------------------------------------------------------------------

_TOP_LEVEL_KEYS = frozenset(
    {
        "format",
        "objective",
        "min_score",
        "sides",
        "group_size",
        "balance",
        "criterion",
        "constraint",
    }
)
_TABLE_HEADER = re.compile(r"^\s*\[")


class _Locator:
    """Finds the line of a key in the policy text; tomllib does not keep positions."""

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()

    def _key_line(self, key: str, start: int, stop: int) -> int | None:
        pattern = re.compile(rf"^\s*(\"?){re.escape(key)}\1\s*=")
        for index in range(start, stop):
            if pattern.match(self.lines[index]):
                return index + 1
        return None

    def _section(self, table: str | None, occurrence: int) -> tuple[int, int] | None:
        if table is None:
            stop = next(
                (i for i, line in enumerate(self.lines) if _TABLE_HEADER.match(line)),
                len(self.lines),
            )
            return 0, stop
        header = re.compile(rf"^\s*\[\[?\s*{re.escape(table)}\s*\]\]?\s*(#.*)?$")
        found = -1
        for index, line in enumerate(self.lines):
            if header.match(line):
                found += 1
                if found == occurrence:
                    stop = next(
                        (
                            i
                            for i in range(index + 1, len(self.lines))
                            if _TABLE_HEADER.match(self.lines[i])
                        ),
                        len(self.lines),
                    )
                    return index, stop
        return None

    def line(self, table: str | None, occurrence: int = 0, key: str | None = None) -> int | None:
        section = self._section(table, occurrence)
        if section is None:
            if table is not None:
                # Perhaps an inline table or array on the top level (`sides = {...}`).
                return self._key_line(table, 0, len(self.lines))
            return None
        start, stop = section
        if key is None:
            return start + 1 if table is not None else None
        found = self._key_line(key, start + (1 if table is not None else 0), stop)
        if found is None and table is not None:
            return start + 1
        return found


def read_policy_toml(path: str | Path, *, columns: Collection[str] | None = None) -> Policy:
    """Read and fully validate POLICY.toml.

    With `columns` (the people file's column names), every column the policy refers to must
    exist there.
    """
    file = str(path)
    try:
        with open(path, "rb") as handle:
            raw = handle.read()
    except FileNotFoundError:
        raise InputError("file not found", file=file) from None
    except OSError as error:
        raise InputError(f"cannot read the file ({error.strerror})", file=file) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise InputError(f"not UTF-8 text ({error.reason})", file=file) from None
    return parse_policy_toml(text, file=file, columns=columns)


def parse_policy_toml(
    text: str, *, file: str = "<policy>", columns: Collection[str] | None = None
) -> Policy:
    """Parse and validate the text of a policy file (see `read_policy_toml`)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        message = str(error)
        match = re.search(r"at line (\d+)", message)
        line = int(match.group(1)) if match else None
        if line is None and "end of document" in message:
            line = max(1, len(text.splitlines()))
        detail = re.sub(r"\s*\(at (line \d+, column \d+|end of document)\)", "", message)
        raise InputError(f"not valid TOML ({detail})", file=file, line=line) from None
    return policy_from_mapping(data, file=file, columns=columns, locator=_Locator(text))


def policy_from_mapping(
    data: Mapping[str, Any],
    *,
    file: str = "<policy>",
    columns: Collection[str] | None = None,
    locator: _Locator | None = None,
) -> Policy:
    """Validate a policy given as a mapping (the parsed TOML, or built by the web app)."""
    builder = _PolicyBuilder(file, locator or _Locator(""))
    policy = builder.build(data)
    if columns is not None:
        builder.check_columns(policy, columns)
    return policy


class _PolicyBuilder:
    def __init__(self, file: str, locator: _Locator) -> None:
        self.file = file
        self.locator = locator

    def error(
        self,
        message: str,
        *,
        table: str | None = None,
        occurrence: int = 0,
        key: str | None = None,
        field: str | None = None,
    ) -> InputError:
        line = self.locator.line(table, occurrence, key)
        if field is None:
            field = key if table is None else f"{table}.{key}" if key else table
        return InputError(message, file=self.file, line=line, field=field)

    # -- scalar helpers

    def number(self, value: object, *, table: str | None, occurrence: int, key: str) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.error(
                f"must be a number, not {value!r}", table=table, occurrence=occurrence, key=key
            )
        number = float(value)
        if not math.isfinite(number):
            raise self.error("must be a finite number", table=table, occurrence=occurrence, key=key)
        return number

    def name(self, value: object, *, table: str | None, occurrence: int, key: str) -> str:
        if not isinstance(value, str) or not value.strip():
            raise self.error(
                f"must be a non-empty text, not {value!r}",
                table=table,
                occurrence=occurrence,
                key=key,
            )
        return value.strip().casefold()

    def tables(self, data: Mapping[str, Any], key: str) -> list[Mapping[str, Any]]:
        value = data.get(key, [])
        if isinstance(value, Mapping):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(item, Mapping) for item in value):
            raise self.error(f"must be a list of [[{key}]] tables", key=key)
        return cast(list[Mapping[str, Any]], value)

    # -- the policy

    def build(self, data: Mapping[str, Any]) -> Policy:
        for key in data:
            if key not in _TOP_LEVEL_KEYS:
                expected = ", ".join(sorted(_TOP_LEVEL_KEYS))
                raise self.error(f"unknown setting {key!r} (expected one of {expected})", key=key)
        format_name = data.get("format", "pairs")
        if format_name not in FORMATS:
            raise self.error(
                f"unknown format {format_name!r} (expected {' | '.join(FORMATS)})", key="format"
            )
        objective = data.get("objective", "quality")
        if objective not in OBJECTIVES:
            raise self.error(
                f"unknown objective {objective!r} (expected {' | '.join(OBJECTIVES)})",
                key="objective",
            )
        min_score = self.number(
            data.get("min_score", 0.0), table=None, occurrence=0, key="min_score"
        )
        if not 0.0 <= min_score <= 1.0:
            raise self.error("must be between 0 and 1 (scores lie in [0, 1])", key="min_score")
        criteria = tuple(
            self.criterion(item, occurrence)
            for occurrence, item in enumerate(self.tables(data, "criterion"))
        )
        constraints = tuple(
            self.constraint(item, occurrence)
            for occurrence, item in enumerate(self.tables(data, "constraint"))
        )
        sides = self.sides(data.get("sides"), cast(FormatName, format_name))
        group_size = self.group_size(data.get("group_size"), cast(FormatName, format_name))
        balance = self.balance(data.get("balance", []))
        return Policy(
            format=cast(FormatName, format_name),
            objective=cast(ObjectiveName, objective),
            min_score=min_score,
            criteria=criteria,
            constraints=constraints,
            sides=sides,
            group_size=group_size,
            balance=balance,
        )

    def criterion(self, item: Mapping[str, Any], occurrence: int) -> Criterion:
        table = "criterion"
        kind = item.get("kind")
        if kind is None:
            raise self.error("missing kind", table=table, occurrence=occurrence, key="kind")
        if kind not in CRITERION_KINDS:
            raise self.error(
                f"unknown criterion kind {kind!r} (expected {' | '.join(CRITERION_KINDS)})",
                table=table,
                occurrence=occurrence,
                key="kind",
            )
        allowed = {"kind", "weight"}
        allowed |= {"offer", "want"} if kind == "complement" else {"field"}
        if kind == "near":
            allowed.add("scale")
        for key in item:
            if key not in allowed:
                raise self.error(
                    f"{key!r} does not apply to a {kind} criterion",
                    table=table,
                    occurrence=occurrence,
                    key=key,
                )
        weight = self.number(
            item.get("weight", 1.0), table=table, occurrence=occurrence, key="weight"
        )
        if weight <= 0:
            raise self.error("weight must be > 0", table=table, occurrence=occurrence, key="weight")

        def required_name(key: str) -> str:
            if key not in item:
                raise self.error(
                    f"a {kind} criterion needs {key!r}", table=table, occurrence=occurrence, key=key
                )
            return self.name(item[key], table=table, occurrence=occurrence, key=key)

        if kind == "complement":
            return Criterion(
                kind="complement",
                weight=weight,
                offer=required_name("offer"),
                want=required_name("want"),
            )
        field = required_name("field")
        scale: float | None = None
        if kind == "near":
            if "scale" not in item:
                raise self.error(
                    "a near criterion needs 'scale'",
                    table=table,
                    occurrence=occurrence,
                    key="scale",
                )
            scale = self.number(item["scale"], table=table, occurrence=occurrence, key="scale")
            if scale <= 0:
                raise self.error(
                    "scale must be > 0", table=table, occurrence=occurrence, key="scale"
                )
        return Criterion(kind=cast(CriterionKind, kind), weight=weight, field=field, scale=scale)

    def constraint(self, item: Mapping[str, Any], occurrence: int) -> Constraint:
        table = "constraint"
        kind = item.get("kind")
        if kind is None:
            raise self.error("missing kind", table=table, occurrence=occurrence, key="kind")
        if kind not in CONSTRAINT_KINDS:
            raise self.error(
                f"unknown constraint kind {kind!r} (expected {' | '.join(CONSTRAINT_KINDS)})",
                table=table,
                occurrence=occurrence,
                key="kind",
            )
        allowed = {"kind"}
        if kind != "not_in_reporting_line":
            allowed.add("field")
        if kind == "max_gap":
            allowed.add("max")
        for key in item:
            if key not in allowed:
                raise self.error(
                    f"{key!r} does not apply to a {kind} constraint",
                    table=table,
                    occurrence=occurrence,
                    key=key,
                )
        if kind == "not_in_reporting_line":
            return Constraint(kind="not_in_reporting_line")
        if "field" not in item:
            raise self.error(
                f"a {kind} constraint needs 'field'",
                table=table,
                occurrence=occurrence,
                key="field",
            )
        field = self.name(item["field"], table=table, occurrence=occurrence, key="field")
        if kind == "max_gap":
            if "max" not in item:
                raise self.error(
                    "a max_gap constraint needs 'max'",
                    table=table,
                    occurrence=occurrence,
                    key="max",
                )
            maximum = self.number(item["max"], table=table, occurrence=occurrence, key="max")
            if maximum < 0:
                raise self.error("max must be >= 0", table=table, occurrence=occurrence, key="max")
            return Constraint(kind="max_gap", field=field, max=maximum)
        return Constraint(kind=cast(ConstraintKind, kind), field=field)

    def sides(self, value: object, format_name: FormatName) -> Sides | None:
        if value is None:
            if format_name == "bipartite":
                raise self.error(
                    'a bipartite policy needs sides = { field = "role", a = "...", b = "..." }',
                    key="sides",
                )
            return None
        if not isinstance(value, Mapping):
            raise self.error("must be a table { field, a, b }", key="sides")
        for key in value:
            if key not in {"field", "a", "b"}:
                raise self.error(
                    f"unknown key {key!r} (expected field, a, b)", table="sides", key=key
                )
        names: dict[str, str] = {}
        for key in ("field", "a", "b"):
            if key not in value:
                raise self.error(f"sides needs {key!r}", table="sides", key=key)
            names[key] = self.name(value[key], table="sides", occurrence=0, key=key)
        if names["a"] == names["b"]:
            raise self.error("sides a and b must differ", table="sides", key="b")
        return Sides(field=names["field"], a=names["a"], b=names["b"])

    def group_size(self, value: object, format_name: FormatName) -> tuple[int, int] | None:
        if value is None:
            if format_name == "circles":
                raise self.error(
                    "a circles policy needs group_size = [smallest, largest]", key="group_size"
                )
            return None
        if (
            not isinstance(value, list)
            or len(value) != 2
            or not all(isinstance(size, int) and not isinstance(size, bool) for size in value)
        ):
            raise self.error("must be [smallest, largest], two whole numbers", key="group_size")
        smallest, largest = cast(list[int], value)
        if smallest < 2 or largest < smallest:
            raise self.error("needs 2 <= smallest <= largest", key="group_size")
        return smallest, largest

    def balance(self, value: object) -> tuple[str, ...]:
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list):
            raise self.error("must be a list of column names", key="balance")
        return tuple(self.name(item, table=None, occurrence=0, key="balance") for item in value)

    # -- against the people file

    def check_columns(self, policy: Policy, columns: Collection[str]) -> None:
        present = {column.strip().casefold() for column in columns}

        def check(name: str | None, table: str | None, occurrence: int, key: str) -> None:
            if name is not None and name not in present:
                raise self.error(
                    f"column {name!r} is not in the people file",
                    table=table,
                    occurrence=occurrence,
                    key=key,
                )

        for occurrence, criterion in enumerate(policy.criteria):
            check(criterion.field, "criterion", occurrence, "field")
            check(criterion.offer, "criterion", occurrence, "offer")
            check(criterion.want, "criterion", occurrence, "want")
        for occurrence, constraint in enumerate(policy.constraints):
            if constraint.kind == "not_in_reporting_line":
                if "manager_id" not in present:
                    raise self.error(
                        "not_in_reporting_line needs a manager_id column in the people file",
                        table="constraint",
                        occurrence=occurrence,
                        key="kind",
                    )
            else:
                check(constraint.field, "constraint", occurrence, "field")
        if policy.format == "bipartite" and policy.sides is not None:
            check(policy.sides.field, "sides", 0, "field")
        for name in policy.balance:
            check(name, None, 0, "balance")


def policy_columns(policy: Policy) -> list[str]:
    """Every people column a policy reads (for callers that build people themselves)."""
    names: list[str] = []
    for criterion in policy.criteria:
        names.extend(n for n in (criterion.field, criterion.offer, criterion.want) if n)
    for constraint in policy.constraints:
        if constraint.kind == "not_in_reporting_line":
            names.append("manager_id")
        elif constraint.field:
            names.append(constraint.field)
    if policy.sides is not None:
        names.append(policy.sides.field)
    names.extend(policy.balance)
    return list(dict.fromkeys(names))


def people_columns(people: Iterable[Person]) -> set[str]:
    """All attribute columns present on any of the people, plus id."""
    columns = {"id"}
    for person in people:
        columns.update(person.attributes)
    return columns


def line_of(lines: Sequence[int] | None, index: int) -> int | None:
    """The file line of the index-th person, when known."""
    if lines is None or index >= len(lines):
        return None
    return lines[index]
