"""Every write to the directory. The HR import: preview (store a checked batch), then apply."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any, cast

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, connection, transaction
from django.db.models import Field, Model
from django.utils import timezone

from peermentor.accounts.models import User
from peermentor.core.errors import ApplicationError
from peermentor.core.services import audit_record
from peermentor.people.hr_import import Plan, check_export, plan_import
from peermentor.people.models import Department, ImportBatch, JobChange, Person, Site
from peermentor.people.permissions import can_import_people

BATCH_SIZE = 1000
# Any constant works: it names "the people import" among PostgreSQL advisory locks.
IMPORT_LOCK_ID = 7_365_001


class ImportRejected(ApplicationError):
    """The import would break rows: `errors` lists each as {line, field, message, external_id}."""

    def __init__(self, message: str, *, errors: list[dict[str, Any]]) -> None:
        super().__init__(message)
        self.errors = errors


def _ensure_can_import(actor: User | None) -> None:
    # None is the management command: whoever can run it already owns the server and database.
    if actor is not None and not can_import_people(actor):
        raise PermissionDenied("Only organisation administrators can import people.")


@transaction.atomic
def people_import_preview(*, actor: User | None, file_name: str, content: bytes) -> ImportBatch:
    """Check an HR export and keep the result; the directory itself is untouched.

    After the call an ImportBatch exists: status "ready" with the normalised rows and counts of
    what applying would do, or status "invalid" with every bad row (line, field, message).
    Raises ApplicationError(field="file") when the file as a whole is unusable, PermissionDenied
    for anyone but an organisation admin.
    """
    _ensure_can_import(actor)
    parsed, plan, errors = check_export(file_name=file_name, content=content)
    batch = ImportBatch(
        created_by=actor,
        file_name=file_name[-255:],
        file_format=parsed.file_format,
        status=ImportBatch.Status.INVALID if errors else ImportBatch.Status.READY,
        row_count=len(parsed.rows),
        columns=parsed.columns,
        # A batch that can never be applied needs no rows, only the report of what is wrong.
        rows=[] if errors else parsed.rows,
        errors=errors,
        warnings=parsed.warnings,
        preview=plan.preview(),
    )
    batch.full_clean()
    batch.save()
    audit_record(
        actor=actor,
        action="people.import_previewed",
        target=batch,
        to_state=batch.status,
        data={"file_name": batch.file_name, "rows": batch.row_count, "errors": len(errors)},
    )
    return batch


@transaction.atomic
def people_import_apply(
    *, actor: User | None, batch: ImportBatch, deactivate_missing: bool
) -> dict[str, int]:
    """Apply a previewed batch to the directory, all or nothing.

    After the call every row of the file is a Person (created, or updated by external id, with
    managers, departments and sites resolved), active people missing from the file are inactive
    if `deactivate_missing`, the batch is "applied" and an audit event records who and what.
    The rows are checked again against the directory as it is now; if any has become bad,
    ImportRejected lists them and nothing is written. Returns counts: created, updated,
    unchanged, deactivated, departments_created, sites_created, job_changes.
    Each person whose department, job title or level changed has a new JobChange (source
    "import"), dated by the row's job_change_date, else the day of the import in UTC.
    """
    _ensure_can_import(actor)
    _one_import_at_a_time()
    locked = ImportBatch.objects.select_for_update().filter(pk=batch.pk).first()
    if locked is None:
        raise ApplicationError("This import no longer exists.", status=404)
    if locked.status == ImportBatch.Status.APPLIED:
        raise ApplicationError("This import has already been applied.")
    if locked.status != ImportBatch.Status.READY:
        raise ApplicationError("This file has bad rows: fix them and upload it again.")
    plan = plan_import(rows=locked.rows, columns=locked.columns)
    if plan.errors:
        raise ImportRejected(
            "The directory changed since the preview and some rows are now bad; "
            "nothing was imported.",
            errors=plan.errors,
        )
    summary = _carry_out(plan, deactivate_missing=deactivate_missing, batch=locked, actor=actor)
    _mark_applied(locked, actor=actor, summary=summary, deactivate_missing=deactivate_missing)
    batch.refresh_from_db()
    return summary


@transaction.atomic
def people_import_file(
    *, actor: User | None, file_name: str, content: bytes, deactivate_missing: bool
) -> tuple[ImportBatch, dict[str, int]]:
    """Check and apply an HR export in one step, for automation (`manage.py import_people`).

    After the call the directory holds the file as people_import_apply leaves it and an applied
    ImportBatch records it; if any row is bad, ImportRejected lists every one and nothing at all
    is written, not even the batch.
    """
    _ensure_can_import(actor)
    _one_import_at_a_time()
    parsed, plan, errors = check_export(file_name=file_name, content=content)
    if errors:
        raise ImportRejected(
            f"{len(errors)} problem(s) in the file; nothing was imported.", errors=errors
        )
    batch = ImportBatch(
        created_by=actor,
        file_name=file_name[-255:],
        file_format=parsed.file_format,
        status=ImportBatch.Status.READY,
        row_count=len(parsed.rows),
        columns=parsed.columns,
        warnings=parsed.warnings,
        preview=plan.preview(),
    )
    batch.full_clean()
    batch.save()
    summary = _carry_out(plan, deactivate_missing=deactivate_missing, batch=batch, actor=actor)
    _mark_applied(batch, actor=actor, summary=summary, deactivate_missing=deactivate_missing)
    return batch, summary


def _one_import_at_a_time() -> None:
    """Serialise imports so two cannot plan against the same directory and both write.

    SQLite transactions here are IMMEDIATE (see settings), which already serialises writers.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [IMPORT_LOCK_ID])


def _mark_applied(
    batch: ImportBatch, *, actor: User | None, summary: dict[str, int], deactivate_missing: bool
) -> None:
    from_state = batch.status
    batch.status = ImportBatch.Status.APPLIED
    batch.applied_at = timezone.now()
    batch.applied_by = actor
    batch.deactivate_missing = deactivate_missing
    batch.summary = summary
    # The people now hold the data; keeping 20,000 rows twice helps nobody.
    batch.rows = []
    batch.full_clean()
    batch.save()
    audit_record(
        actor=actor,
        action="people.import_applied",
        target=batch,
        from_state=from_state,
        to_state=batch.status,
        data={"file_name": batch.file_name, **summary},
    )


def _carry_out(
    plan: Plan, *, deactivate_missing: bool, batch: ImportBatch, actor: User | None
) -> dict[str, int]:
    """Write a checked plan with bulk statements: a few queries per thousand rows, none per row.

    Rows were validated field by field by the import (the same rules as the model fields);
    Person.full_clean per object would add a uniqueness query per row, which 20,000 rows
    cannot afford. The database constraints still stand behind both.
    """
    now = timezone.now()
    try:
        with transaction.atomic():
            department_ids, department_names = _ensure_named(
                Department, plan.new_departments.values()
            )
            site_ids, site_names = _ensure_named(Site, plan.new_sites.values())
            _free_moving_addresses(plan)
            pk_of = {external_id: person["pk"] for external_id, person in plan.existing.items()}
            _create_managers_first(plan, department_ids, site_ids, pk_of)
            _apply_updates(plan, department_ids, site_ids, pk_of, now)
            job_changes = _record_job_changes(
                plan,
                department_ids=department_ids,
                department_names=department_names,
                site_ids=site_ids,
                site_names=site_names,
                batch=batch,
                actor=actor,
                today=now.astimezone(dt.UTC).date(),
            )
            deactivated = 0
            if deactivate_missing:
                for start in range(0, len(plan.missing_active_pks), BATCH_SIZE):
                    chunk = plan.missing_active_pks[start : start + BATCH_SIZE]
                    deactivated += Person.objects.filter(pk__in=chunk, is_active=True).update(
                        is_active=False, updated_at=now
                    )
    except IntegrityError:
        # Someone else changed the directory between our plan and our write (outside imports).
        raise ApplicationError(
            "The directory changed while importing; nothing was imported. Upload the file again."
        ) from None
    return {
        "created": len(plan.creates),
        "updated": len(plan.updates),
        "unchanged": plan.unchanged,
        "deactivated": deactivated,
        "departments_created": len(plan.new_departments),
        "sites_created": len(plan.new_sites),
        "job_changes": job_changes,
    }


def _ensure_named(
    model: type[Model], new_names: Iterable[str]
) -> tuple[dict[str, int], dict[int, str]]:
    """Create the named departments or sites that are missing; map lower-case name → id, and
    id → name as stored."""
    model._default_manager.bulk_create([model(name=name) for name in new_names])
    names = dict(model._default_manager.values_list("id", "name"))
    return {name.lower(): pk for pk, name in names.items()}, names


def _record_job_changes(
    plan: Plan,
    *,
    department_ids: dict[str, int],
    department_names: dict[int, str],
    site_ids: dict[str, int],
    site_names: dict[int, str],
    batch: ImportBatch,
    actor: User | None,
    today: dt.date,
) -> int:
    """One JobChange per updated person whose department, job title or level changed.

    Only updates can be job changes: a person new to the directory has no job before. The
    names come from the maps `_carry_out` already holds, so this is one bulk INSERT.
    """

    def name_of(names: dict[int, str], pk: int | None) -> str:
        return names.get(pk, "") if pk is not None else ""

    changes = []
    for update in plan.updates:
        if not update.is_job_change:
            continue
        stored = plan.existing[update.row["external_id"]]["db"]
        new = update.changes
        department_before = name_of(department_names, stored["department_id"])
        site_before = name_of(site_names, stored["site_id"])
        changed_on = update.row.get("job_change_date")
        changes.append(
            JobChange(
                person_id=update.pk,
                changed_on=dt.date.fromisoformat(changed_on) if changed_on else today,
                department_before=department_before,
                department_after=(
                    name_of(department_names, department_ids.get(new["department"] or ""))
                    if "department" in new
                    else department_before
                ),
                job_title_before=stored["job_title"],
                job_title_after=new.get("job_title", stored["job_title"]),
                level_before=stored["level"],
                level_after=new.get("level", stored["level"]),
                site_before=site_before,
                site_after=(
                    name_of(site_names, site_ids.get(new["site"] or ""))
                    if "site" in new
                    else site_before
                ),
                source=JobChange.Source.IMPORT,
                import_batch=batch,
                recorded_by=actor,
            )
        )
    JobChange.objects.bulk_create(changes, batch_size=BATCH_SIZE)
    return len(changes)


def _db_values(
    values: dict[str, Any], department_ids: dict[str, int], site_ids: dict[str, int]
) -> dict[str, Any]:
    """Plan terms → model fields (names → ids, ISO strings → dates); callers resolve managers."""
    result: dict[str, Any] = {}
    for name, value in values.items():
        if name == "department":
            result["department_id"] = department_ids[value] if value else None
        elif name == "site":
            result["site_id"] = site_ids[value] if value else None
        elif name in {"hire_date", "leaving_date"}:
            result[name] = dt.date.fromisoformat(value) if value else None
        elif name != "manager":
            result[name] = value
    return result


def _set_columns(field_names: list[str], rows: list[tuple[Any, ...]]) -> None:
    """UPDATE the listed fields of many people: each row is (value per field..., pk).

    Not bulk_update: its CASE WHEN expressions cost Django ~1 ms of Python per object, 20 s for
    a 20,000-row import. executemany sends one statement with many parameter sets (SQLite steps
    one prepared statement; psycopg pipelines them), so there is still no query per row.
    """
    if not rows:
        return
    fields = [cast("Field[Any, Any]", Person._meta.get_field(name)) for name in field_names]
    quote = connection.ops.quote_name
    assignments = ", ".join(f"{quote(field.column)} = %s" for field in fields)
    sql = f"UPDATE {quote(Person._meta.db_table)} SET {assignments} WHERE {quote('id')} = %s"
    params = [
        [
            field.get_db_prep_save(value, connection)
            for field, value in zip(fields, row[:-1], strict=True)
        ]
        + [row[-1]]
        for row in rows
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)


def _free_moving_addresses(plan: Plan) -> None:
    """Park the old address of each person whose address someone else in the file now wants.

    Without this, two people swapping addresses (or a newcomer taking a leaver's) would hold
    one address at once halfway through, and the unique constraint would refuse it.
    """
    wanted = {update.changes["email"] for update in plan.updates if "email" in update.changes}
    wanted.update(create.values["email"] for create in plan.creates)
    moving = [
        update.pk
        for update in plan.updates
        if "email" in update.changes
        and plan.existing[update.row["external_id"]]["email"].lower() in wanted
    ]
    _set_columns(["email"], [(f"moving-{pk}@import.invalid", pk) for pk in moving])


def _create_managers_first(
    plan: Plan, department_ids: dict[str, int], site_ids: dict[str, int], pk_of: dict[str, int]
) -> None:
    """Insert new people level by level down their manager tree, managers set on insert.

    A manager is either already in the directory or created one level earlier, so no second
    pass of 20,000 UPDATEs is needed. The plan has rejected cycles, so the levels are finite.
    """
    creating = {create.row["external_id"]: create for create in plan.creates}
    level_of: dict[str, int] = {}
    for external_id in creating:
        path: list[str] = []
        node: str | None = external_id
        while node is not None and node in creating and node not in level_of and node not in path:
            path.append(node)
            node = plan.managers.get(node)
        level = level_of[node] + 1 if node in level_of else 0
        for member in reversed(path):
            level_of[member] = level
            level += 1
    levels: dict[int, list[str]] = {}
    for external_id, level in level_of.items():
        levels.setdefault(level, []).append(external_id)
    for level in sorted(levels):
        people = []
        for external_id in levels[level]:
            create = creating[external_id]
            manager = plan.managers.get(external_id)
            people.append(
                Person(
                    external_id=external_id,
                    manager_id=pk_of[manager] if manager else None,
                    **_db_values(create.values, department_ids, site_ids),
                )
            )
        Person.objects.bulk_create(people, batch_size=BATCH_SIZE)
        if any(person.pk is None for person in people):
            # Only backends that cannot return ids from a bulk insert (SQLite < 3.35) get here.
            pk_of.update(Person.objects.values_list("external_id", "id"))
        else:
            pk_of.update((person.external_id, person.pk) for person in people)


def _apply_updates(
    plan: Plan,
    department_ids: dict[str, int],
    site_ids: dict[str, int],
    pk_of: dict[str, int],
    now: dt.datetime,
) -> None:
    people = []
    fields: set[str] = {"updated_at"}
    for update in plan.updates:
        # Every listed field of every object is written, so start from the stored row.
        person = Person(**plan.existing[update.row["external_id"]]["db"])
        changed = _db_values(update.changes, department_ids, site_ids)
        if "manager" in update.changes:
            manager = update.changes["manager"]
            changed["manager_id"] = pk_of[manager] if manager else None
        for name, value in changed.items():
            setattr(person, name, value)
        fields.update(name.removesuffix("_id") for name in changed)
        person.updated_at = now
        people.append(person)
    names = sorted(fields)
    attnames = [cast("Field[Any, Any]", Person._meta.get_field(name)).attname for name in names]
    _set_columns(
        names,
        [(*(getattr(person, attname) for attname in attnames), person.pk) for person in people],
    )


@transaction.atomic
def person_job_change_record(
    *, actor: User | None, before: Person, after: Person, changed_on: dt.date | None = None
) -> JobChange | None:
    """Record a hand edit of someone's job (the Django admin's person form) in their history.

    `before` is the person as stored, `after` as edited. After the call, if the department,
    job title or level differ, a JobChange (source "manual", dated `changed_on`, else today in
    UTC) and an audit event exist; otherwise nothing is written and None is returned.
    """
    # Superusers edit people in the Django admin whether or not they are organisation admins.
    if not getattr(actor, "is_superuser", False):
        _ensure_can_import(actor)
    if all(
        getattr(before, name) == getattr(after, name)
        for name in ("department_id", "job_title", "level")
    ):
        return None
    change = JobChange(
        person=after,
        changed_on=changed_on or timezone.now().astimezone(dt.UTC).date(),
        department_before=before.department.name if before.department else "",
        department_after=after.department.name if after.department else "",
        job_title_before=before.job_title,
        job_title_after=after.job_title,
        level_before=before.level,
        level_after=after.level,
        site_before=before.site.name if before.site else "",
        site_after=after.site.name if after.site else "",
        source=JobChange.Source.MANUAL,
        recorded_by=actor,
    )
    change.full_clean()
    change.save()
    audit_record(
        actor=actor,
        action="people.job_change_recorded",
        target=change,
        data={"person": after.pk, "changes": [label for label, _, _ in change.changes]},
    )
    return change
