"""Reads of the directory that pages, the API and other apps share."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db import connection
from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404

from peermentor.accounts.models import User
from peermentor.people.models import Department, ImportBatch, JobChange, Person, Site
from peermentor.people.permissions import can_browse_directory, can_import_people

REPORTS_SHOWN = 100
JOB_CHANGES_SHOWN = 50
MAX_CHAIN_DEPTH = 50


def _ensure_can_browse(viewer: User) -> None:
    if not can_browse_directory(viewer):
        raise PermissionDenied("Only organisation administrators can browse the directory.")


def person_list(
    *,
    viewer: User,
    search: str = "",
    department_id: int | None = None,
    site_id: int | None = None,
    level: str = "",
    is_active: bool | None = None,
) -> QuerySet[Person]:
    """People matching the filters, by name, with what a directory row shows already joined.

    Every word of `search` must appear in the name, e-mail address or external id.
    """
    _ensure_can_browse(viewer)
    people = Person.objects.select_related("department", "site", "manager")
    for word in search.split():
        people = people.filter(
            Q(full_name__icontains=word) | Q(email__icontains=word) | Q(external_id__icontains=word)
        )
    if department_id is not None:
        people = people.filter(department_id=department_id)
    if site_id is not None:
        people = people.filter(site_id=site_id)
    if level:
        people = people.filter(level=level)
    if is_active is not None:
        people = people.filter(is_active=is_active)
    return people.order_by("full_name", "id")


def level_options() -> list[str]:
    """The career levels in use, for the directory filter (one indexed DISTINCT query)."""
    return list(
        Person.objects.exclude(level="")
        .order_by("level")
        .values_list("level", flat=True)
        .distinct()
    )


def department_options() -> QuerySet[Department]:
    return Department.objects.order_by("name")


def site_options() -> QuerySet[Site]:
    return Site.objects.order_by("name")


@dataclass
class PersonDetail:
    person: Person
    report_count: int
    reports: list[Person]
    # Managers from the direct one upwards.
    reporting_chain: list[Person]
    # Latest first.
    job_changes: list[JobChange]


def person_detail(*, viewer: User, pk: int) -> PersonDetail:
    """One person with their manager chain, direct reports and job history, in six queries."""
    _ensure_can_browse(viewer)
    person = get_object_or_404(
        Person.objects.select_related("department", "site", "manager", "user"), pk=pk
    )
    reports = person.reports.select_related("department", "site").order_by("full_name", "id")
    chain_ids = reporting_chain_ids(person)
    by_id = Person.objects.in_bulk(chain_ids) if chain_ids else {}
    return PersonDetail(
        person=person,
        report_count=reports.count(),
        reports=list(reports[:REPORTS_SHOWN]),
        reporting_chain=[by_id[pk] for pk in chain_ids if pk in by_id],
        job_changes=list(
            JobChange.objects.filter(person=person).order_by("-changed_on", "-id")[
                :JOB_CHANGES_SHOWN
            ]
        ),
    )


def reporting_chain_ids(person: Person) -> list[int]:
    """Ids of the person's manager, that manager's manager, and so on up: one query.

    Stops at a repeated person, so a cycle entered outside the import cannot loop forever.
    """
    if person.manager_id is None:
        return []
    # The table name comes from the model; every value is a query parameter.
    table = connection.ops.quote_name(Person._meta.db_table)
    sql = f"""
        WITH RECURSIVE chain(id, manager_id, depth) AS (
            SELECT id, manager_id, 1 FROM {table} WHERE id = %s
            UNION ALL
            SELECT p.id, p.manager_id, chain.depth + 1
            FROM {table} p JOIN chain ON p.id = chain.manager_id
            WHERE chain.depth < %s
        )
        SELECT id FROM chain ORDER BY depth
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, [person.manager_id, MAX_CHAIN_DEPTH])
        ids = [row[0] for row in cursor.fetchall()]
    chain: list[int] = []
    for pk in ids:
        if pk == person.pk or pk in chain:
            break
        chain.append(pk)
    return chain


def reporting_chains(*, person_ids: list[int] | None = None) -> dict[int, list[int]]:
    """Manager chain ids (direct manager first) for many people at once: one query in all.

    For matching, which must keep people away from their own managers; `person_ids=None`
    means everyone.
    """
    manager_of = dict(Person.objects.values_list("id", "manager_id"))
    chains: dict[int, list[int]] = {}
    for pk in manager_of if person_ids is None else person_ids:
        chain: list[int] = []
        seen = {pk}
        manager = manager_of.get(pk)
        while manager is not None and manager not in seen:
            chain.append(manager)
            seen.add(manager)
            manager = manager_of.get(manager)
        chains[pk] = chain
    return chains


def _ensure_can_import(viewer: User) -> None:
    if not can_import_people(viewer):
        raise PermissionDenied("Only organisation administrators can import people.")


def import_batch_list(*, viewer: User, limit: int = 10) -> list[ImportBatch]:
    """The latest imports, without their (large) rows and errors."""
    _ensure_can_import(viewer)
    return list(
        ImportBatch.objects.select_related("created_by", "applied_by").defer(
            "rows", "errors", "preview"
        )[:limit]
    )


def import_batch_get(*, viewer: User, pk: int) -> ImportBatch:
    """One import for its preview page; the stored rows stay in the database."""
    _ensure_can_import(viewer)
    return get_object_or_404(
        ImportBatch.objects.select_related("created_by", "applied_by").defer("rows"), pk=pk
    )
