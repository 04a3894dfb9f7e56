"""The directory's part of a subject-access or erasure request (see core/privacy.py).

Erasure keeps what the organisation-wide figures are made of (department, site, level, hire and
leaving dates: insights compares participants' retention and moves with everyone else's) and
removes what names the person: name, e-mail address, HR id, job title, languages, manager.
"""

from datetime import date
from typing import Any

from django.db import transaction
from django.db.models import Q, QuerySet

from peermentor.core.privacy import ERASED_TEXT, Record, record, records
from peermentor.people.models import JobChange, Person

PERSON_FIELDS = (
    "id",
    "external_id",
    "full_name",
    "email",
    "department",
    "job_title",
    "level",
    "site",
    "time_zone",
    "manager",
    "hire_date",
    "leaving_date",
    "languages",
    "is_active",
    "created_at",
    "updated_at",
)
JOB_CHANGE_FIELDS = (
    "changed_on",
    "department_before",
    "department_after",
    "job_title_before",
    "job_title_after",
    "level_before",
    "level_after",
    "site_before",
    "site_after",
    "source",
    "recorded_at",
)


def erased_name(person_id: int) -> str:
    return f"Former employee #{person_id}"


def erased_email(kind: str, pk: int) -> str:
    # .invalid is reserved (RFC 2606): no mail server will ever accept an address in it.
    return f"erased-{kind}-{pk}@erased.invalid"


def personal_data(*, person: Person) -> dict[str, Any]:
    """The directory entry and job history of `person` (two queries)."""
    person = Person.objects.select_related("department", "site", "manager").get(pk=person.pk)
    entry: Record = record(
        person,
        PERSON_FIELDS,
        department_name=person.department.name if person.department else "",
        site_name=person.site.name if person.site else "",
        manager_name=person.manager.full_name if person.manager else "",
    )
    return {
        "directory_entry": [entry],
        "job_history": records(JobChange.objects.filter(person=person), JOB_CHANGE_FIELDS),
    }


def is_erased(person: Person) -> bool:
    return person.full_name == erased_name(person.pk)


@transaction.atomic
def personal_data_erase(*, person: Person) -> None:
    """Afterwards the directory entry names nobody: "Former employee #id", an address in
    .invalid, no HR id, job title, languages or manager, and job titles in the history erased
    (the history's departments and levels stay: insights counts internal moves from them).
    Called by flows.privacy.person_erase, which checks permission and records the event."""
    person.full_name = erased_name(person.pk)
    person.email = erased_email("person", person.pk)
    person.external_id = f"erased-{person.pk}"
    person.job_title = ""
    person.languages = []
    person.manager = None
    person.is_active = False
    person.save(
        update_fields=[
            "full_name",
            "email",
            "external_id",
            "job_title",
            "languages",
            "manager",
            "is_active",
            "updated_at",
        ]
    )
    changes = list(JobChange.objects.filter(person=person))
    for change in changes:
        # A change of title alone must still read as a change (a constraint says so).
        before, after = change.job_title_before, change.job_title_after
        change.job_title_before = f"{ERASED_TEXT} earlier title" if before else ""
        change.job_title_after = f"{ERASED_TEXT} later title" if after else ""
        if before and before == after:
            change.job_title_before = change.job_title_after = ERASED_TEXT
    JobChange.objects.bulk_update(changes, ["job_title_before", "job_title_after"])


def leavers_left_before(day: date) -> QuerySet[Person]:
    """People who left before `day` and are not erased yet: inactive, with a leaving date
    before it (or, without one, last changed before it: the import deactivated them then)."""
    return (
        Person.objects.filter(is_active=False)
        .filter(Q(leaving_date__lt=day) | Q(leaving_date__isnull=True, updated_at__date__lt=day))
        .exclude(email__endswith="@erased.invalid")
        .order_by("id")
    )
