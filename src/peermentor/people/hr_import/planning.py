"""Normalised rows → a plan against the directory as it is now, with every row it would break."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from peermentor.people.hr_import.columns import FIELD_COLUMN, JOB_FIELDS, row_error, sort_errors
from peermentor.people.hr_import.reading import ParsedExport, read_export
from peermentor.people.models import Department, Person, Site


@dataclass
class PlannedUpdate:
    pk: int
    row: dict[str, Any]
    # Directory field → new value in plan terms (department/site: name keys; manager: external id).
    changes: dict[str, Any]

    @property
    def is_job_change(self) -> bool:
        """A new department, job title or level: the import records it in the job history."""
        return any(name in self.changes for name in JOB_FIELDS)


@dataclass
class PlannedCreate:
    row: dict[str, Any]
    # Every directory field, in plan terms; the manager is set afterwards from `Plan.managers`.
    values: dict[str, Any]


@dataclass
class Plan:
    errors: list[dict[str, Any]] = field(default_factory=list)
    creates: list[PlannedCreate] = field(default_factory=list)
    updates: list[PlannedUpdate] = field(default_factory=list)
    unchanged: int = 0
    missing_active_pks: list[int] = field(default_factory=list)
    # Lower-case key → spelling to create, for departments and sites the directory lacks.
    new_departments: dict[str, str] = field(default_factory=dict)
    new_sites: dict[str, str] = field(default_factory=dict)
    # Each file row's wanted manager (external id or None) when the file has manager_id.
    managers: dict[str, str | None] = field(default_factory=dict)
    # Snapshot of the directory the plan was made against, for the apply step.
    existing: dict[str, dict[str, Any]] = field(default_factory=dict)

    def preview(self) -> dict[str, Any]:
        return {
            "creates": len(self.creates),
            "updates": len(self.updates),
            "unchanged": self.unchanged,
            "job_changes": sum(update.is_job_change for update in self.updates),
            "missing_active": len(self.missing_active_pks),
            "new_departments": sorted(self.new_departments.values()),
            "new_sites": sorted(self.new_sites.values()),
            "changes": [
                {
                    "line": update.row["line"],
                    "external_id": update.row["external_id"],
                    "full_name": update.row["full_name"],
                    "fields": [FIELD_COLUMN.get(name, name) for name in update.changes],
                }
                for update in self.updates[:200]
            ],
        }


def _key(name: str | None) -> str | None:
    return name.lower() if name else None


def _snapshot() -> tuple[dict[str, dict[str, Any]], dict[str, tuple[str, str]]]:
    """Every person (as plan-comparable values) and every site (key → name, time zone).

    A few queries whatever the size of the directory: the plan never asks per row.
    """
    department_names = dict(Department.objects.values_list("id", "name"))
    sites = {
        pk: (name, zone) for pk, name, zone in Site.objects.values_list("id", "name", "time_zone")
    }
    people = list(
        Person.objects.values(
            "id",
            "external_id",
            "full_name",
            "email",
            "department_id",
            "job_title",
            "level",
            "site_id",
            "time_zone",
            "manager_id",
            "hire_date",
            "leaving_date",
            "languages",
            "is_active",
        )
    )
    external_id_of = {person["id"]: person["external_id"] for person in people}
    existing = {}
    for person in people:
        department = department_names.get(person["department_id"])
        site = sites.get(person["site_id"])
        existing[person["external_id"]] = {
            "pk": person["id"],
            "full_name": person["full_name"],
            "email": person["email"],
            "department": _key(department),
            "job_title": person["job_title"],
            "level": person["level"],
            "site": _key(site[0]) if site else None,
            "time_zone": person["time_zone"],
            "manager": external_id_of.get(person["manager_id"]),
            "hire_date": person["hire_date"].isoformat() if person["hire_date"] else None,
            "leaving_date": person["leaving_date"].isoformat() if person["leaving_date"] else None,
            "languages": person["languages"] or [],
            "is_active": person["is_active"],
            "db": person,
        }
    site_by_key = {name.lower(): (name, zone) for name, zone in sites.values()}
    return existing, site_by_key


def plan_import(*, rows: Iterable[dict[str, Any]], columns: Iterable[str]) -> Plan:
    """What applying `rows` to the directory as it is now would do, and every row it would break.

    Checks that need the directory or the whole file: e-mail addresses held by people outside
    the file, managers that resolve nowhere, leaving before hire once merged with stored dates,
    and cycles in the manager graph that would result.
    """
    present = set(columns)
    plan = Plan()
    existing, site_by_key = _snapshot()
    plan.existing = existing
    department_keys = {name.lower() for name in Department.objects.values_list("name", flat=True)}
    email_owner = {person["email"].lower(): external_id for external_id, person in existing.items()}

    by_external_id: dict[str, dict[str, Any]] = {}
    for row in rows:
        if row["external_id"] and row["external_id"] not in by_external_id:
            by_external_id[row["external_id"]] = row
    for row in by_external_id.values():
        _check_email(plan, row, email_owner, by_external_id)
        manager = _check_manager(plan, row, present, by_external_id)
        wanted = _wanted_values(row, existing.get(row["external_id"]), present, site_by_key, plan)
        _check_dates(plan, row, wanted)
        _record_change(plan, row, existing.get(row["external_id"]), wanted, present, manager)

    plan.missing_active_pks = [
        person["pk"]
        for external_id, person in existing.items()
        if person["is_active"] and external_id not in by_external_id
    ]
    _reject_manager_cycles(plan, existing, by_external_id)
    # A new name is only new if no row's spelling matched an existing one.
    plan.new_departments = {
        key: name for key, name in plan.new_departments.items() if key not in department_keys
    }
    plan.errors = sort_errors(plan.errors)
    return plan


def _fail(plan: Plan, row: dict[str, Any], column: str, message: str) -> None:
    plan.errors.append(row_error(row["line"], column, message, row["external_id"]))


def _check_email(
    plan: Plan,
    row: dict[str, Any],
    email_owner: dict[str, str],
    by_external_id: dict[str, dict[str, Any]],
) -> None:
    """An e-mail address may move between people of the file, not take one from outside it."""
    external_id = row["external_id"]
    owner = email_owner.get(row["email"]) if row["email"] else None
    if owner and owner != external_id and owner not in by_external_id:
        _fail(
            plan,
            row,
            "email",
            f"{row['email']} belongs to {plan.existing[owner]['full_name']} ({owner}), "
            "who is not in this file.",
        )


def _check_manager(
    plan: Plan, row: dict[str, Any], present: set[str], by_external_id: dict[str, dict[str, Any]]
) -> str | None:
    """The row's manager (external id), noted in `plan.managers` when the file has the column;
    a manager who is the person or found nowhere is an error."""
    external_id = row["external_id"]
    manager = row["manager_id"] or None
    if "manager_id" in present:
        if manager == external_id:
            _fail(plan, row, "manager_id", "A person cannot be their own manager.")
        elif manager and manager not in by_external_id and manager not in plan.existing:
            _fail(
                plan,
                row,
                "manager_id",
                f"No person with external id {manager} in this file or the directory.",
            )
        # A self-reference is reported once above, not again as a cycle of one.
        plan.managers[external_id] = None if manager == external_id else manager
    return manager


def _check_dates(plan: Plan, row: dict[str, Any], wanted: dict[str, Any]) -> None:
    # Only one of the two dates is in the row: the other one comes from the directory.
    if (
        wanted["hire_date"]
        and wanted["leaving_date"]
        and wanted["leaving_date"] < wanted["hire_date"]
        and not (row["hire_date"] and row["leaving_date"])
    ):
        _fail(
            plan,
            row,
            "leaving_date",
            f"The leaving date would be before the hire date ({wanted['hire_date']}).",
        )


def _record_change(
    plan: Plan,
    row: dict[str, Any],
    current: dict[str, Any] | None,
    wanted: dict[str, Any],
    present: set[str],
    manager: str | None,
) -> None:
    """The row as a person to create, an update of what differs, or one more unchanged."""
    if current is None:
        plan.creates.append(PlannedCreate(row=row, values=wanted))
        return
    changes = {
        name: value
        for name, value in wanted.items()
        if name != "manager" and current[name] != value
    }
    if "manager_id" in present and current["manager"] != manager:
        changes["manager"] = manager
    if changes:
        plan.updates.append(PlannedUpdate(pk=current["pk"], row=row, changes=changes))
    else:
        plan.unchanged += 1


def check_export(
    *, file_name: str, content: bytes
) -> tuple[ParsedExport, Plan, list[dict[str, Any]]]:
    """Read the file and plan it against the directory: the parse, the plan, and every bad row."""
    parsed = read_export(file_name=file_name, content=content)
    plan = plan_import(rows=parsed.rows, columns=parsed.columns)
    return parsed, plan, sort_errors(parsed.errors + plan.errors)


def _wanted_values(
    row: dict[str, Any],
    current: dict[str, Any] | None,
    present: set[str],
    site_by_key: dict[str, tuple[str, str]],
    plan: Plan,
) -> dict[str, Any]:
    """The person's directory values after the import: file columns win, absent ones keep."""
    wanted: dict[str, Any] = {}
    for name, column in FIELD_COLUMN.items():
        if name == "manager":
            continue
        if column in present or current is None:
            value = row.get(column)
            if name in {"department", "site"}:
                value = _key(value) if value else None
            elif name in {"job_title", "level", "full_name", "email"}:
                value = value or ""
            elif name == "languages":
                value = value or []
            wanted[name] = value
        else:
            wanted[name] = current[name]
    if row["department"] and "department" in present:
        plan.new_departments.setdefault(row["department"].lower(), row["department"])
    if row["site"] and "site" in present:
        key = row["site"].lower()
        if key not in site_by_key:
            plan.new_sites.setdefault(key, row["site"])
    if "time_zone" in present or current is None:
        site = site_by_key.get(wanted["site"]) if wanted["site"] else None
        wanted["time_zone"] = row["time_zone"] or (site[1] if site else "UTC")
    else:
        wanted["time_zone"] = current["time_zone"]
    wanted["is_active"] = row["is_active"]
    return wanted


def _reject_manager_cycles(
    plan: Plan, existing: dict[str, dict[str, Any]], by_external_id: dict[str, dict[str, Any]]
) -> None:
    manager_of = {external_id: person["manager"] for external_id, person in existing.items()}
    manager_of.update(plan.managers)
    for cycle in find_cycles(manager_of):
        start = cycle.index(min(cycle))
        ordered = cycle[start:] + cycle[:start]
        chain = " → ".join([*ordered, ordered[0]])
        for external_id in ordered:
            if external_id in by_external_id:
                plan.errors.append(
                    row_error(
                        by_external_id[external_id]["line"],
                        "manager_id",
                        f"The managers would form a cycle (each reports to the next): {chain}.",
                        external_id,
                    )
                )


def find_cycles(parent: dict[str, str | None]) -> list[list[str]]:
    """Every cycle in a graph where each node has at most one parent, each cycle once."""
    done: set[str] = set()
    cycles: list[list[str]] = []
    for start in parent:
        if start in done:
            continue
        position: dict[str, int] = {}
        path: list[str] = []
        node: str | None = start
        while node is not None and node not in done and node not in position:
            position[node] = len(path)
            path.append(node)
            node = parent.get(node)
        if node is not None and node in position:
            cycles.append(path[position[node] :])
        done.update(path)
    return cycles
