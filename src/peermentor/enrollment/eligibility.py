"""Who may take part in a program: the program's (and track's) rules against the directory.

`check_eligibility` explains one person; `eligible_people_q` filters many in SQL for bulk
invitations. Both share `tenure_cutoff`, so they agree on every edge (31 January + 1 month).
"""

import calendar
from collections.abc import Iterable
from datetime import date
from typing import Any, cast

from django.db.models import Q

from peermentor.people.models import Department, Person, Site
from peermentor.programs.models import Program, Track


def subtract_months(day: date, months: int) -> date:
    """The same day of the month `months` earlier, clamped to the end of a shorter month."""
    month_index = day.year * 12 + (day.month - 1) - months
    year, month = divmod(month_index, 12)
    month += 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def tenure_cutoff(min_tenure_months: int, *, today: date) -> date:
    """People hired on or before this day have served at least `min_tenure_months`."""
    return subtract_months(today, min_tenure_months)


def _rules(program: Program, track: Track | None = None) -> list[dict[str, Any]]:
    """The rule sets that must all hold: the program's, then the track's own narrowing."""
    rules = [program.eligibility or {}]
    if track is not None and track.eligibility:
        rules.append(track.eligibility)
    return rules


def _ids(values: Iterable[Any] | None) -> set[int]:
    return {int(value) for value in values or [] if str(value).strip().lstrip("-").isdigit()}


def _levels(values: Iterable[Any] | None) -> set[str]:
    return {str(value).strip() for value in values or [] if str(value).strip()}


def _min_tenure(rule: dict[str, Any]) -> int:
    try:
        return max(int(rule.get("min_tenure_months") or 0), 0)
    except (TypeError, ValueError):
        return 0


def check_eligibility(
    program: Program, person: Person, track: Track | None = None, *, today: date
) -> list[str]:
    """Every reason `person` may not join `program` (in `track`); an empty list means eligible.

    Pure: reads only the objects given (load the person with department and site to name them).
    """
    reasons: list[str] = []
    if not person.is_active or (person.leaving_date and person.leaving_date <= today):
        reasons.append("Not active in the directory.")
    for rule in _rules(program, track):
        department_ids = _ids(rule.get("department_ids"))
        if department_ids and person.department_id not in department_ids:
            # Testing the id reads no row; the department is then there.
            name = cast(Department, person.department).name if person.department_id else "none"
            reasons.append(f"Department ({name}) is not one this program is open to.")
        site_ids = _ids(rule.get("site_ids"))
        if site_ids and person.site_id not in site_ids:
            name = cast(Site, person.site).name if person.site_id else "none"
            reasons.append(f"Site ({name}) is not one this program is open to.")
        levels = _levels(rule.get("levels"))
        if levels and (person.level or "") not in levels:
            reasons.append(
                f"Level ({person.level or 'none'}) is not one of {', '.join(sorted(levels))}."
            )
        months = _min_tenure(rule)
        if months:
            if person.hire_date is None:
                reasons.append(f"Hire date unknown: at least {months} months' tenure is needed.")
            elif person.hire_date > tenure_cutoff(months, today=today):
                reasons.append(f"Less than the {months} months' tenure this program needs.")
    # A track rule may repeat the program's; say each thing once.
    return list(dict.fromkeys(reasons))


def eligible_people_q(program: Program, track: Track | None = None, *, today: date) -> Q:
    """The same rules as `check_eligibility`, as a filter on people.Person."""
    condition = Q(is_active=True) & (Q(leaving_date__isnull=True) | Q(leaving_date__gt=today))
    for rule in _rules(program, track):
        department_ids = _ids(rule.get("department_ids"))
        if department_ids:
            condition &= Q(department_id__in=department_ids)
        site_ids = _ids(rule.get("site_ids"))
        if site_ids:
            condition &= Q(site_id__in=site_ids)
        levels = _levels(rule.get("levels"))
        if levels:
            condition &= Q(level__in=levels)
        months = _min_tenure(rule)
        if months:
            condition &= Q(hire_date__lte=tenure_cutoff(months, today=today))
    return condition
