from datetime import date

import pytest

from peermentor.enrollment.eligibility import (
    check_eligibility,
    eligible_people_q,
    subtract_months,
)
from peermentor.people.models import Person
from tests.factories import (
    DepartmentFactory,
    PersonFactory,
    ProgramFactory,
    SiteFactory,
    TrackFactory,
)

TODAY = date(2026, 3, 31)


@pytest.fixture
def sales(db):
    return DepartmentFactory(name="Sales")


@pytest.fixture
def lyon(db):
    return SiteFactory(name="Lyon")


def test_a_program_without_rules_takes_every_active_person(db):
    person = PersonFactory(hire_date=None)
    assert check_eligibility(ProgramFactory(eligibility={}), person, today=TODAY) == []


def test_department_site_and_level_must_be_in_the_rule(sales, lyon):
    program = ProgramFactory(
        eligibility={"department_ids": [sales.pk], "site_ids": [lyon.pk], "levels": ["L3"]}
    )
    inside = PersonFactory(department=sales, site=lyon, level="L3")
    outside = PersonFactory(department=DepartmentFactory(name="Legal"), site=None, level="L1")

    assert check_eligibility(program, inside, today=TODAY) == []
    assert check_eligibility(program, outside, today=TODAY) == [
        "Department (Legal) is not one this program is open to.",
        "Site (none) is not one this program is open to.",
        "Level (L1) is not one of L3.",
    ]


def test_tenure_counts_calendar_months_and_clamps_short_months(db):
    program = ProgramFactory(eligibility={"min_tenure_months": 1})
    # One month before 31 March is 28 February (2026 is not a leap year).
    assert subtract_months(TODAY, 1) == date(2026, 2, 28)
    assert check_eligibility(program, PersonFactory(hire_date=date(2026, 2, 28)), today=TODAY) == []
    assert check_eligibility(program, PersonFactory(hire_date=date(2026, 3, 1)), today=TODAY) == [
        "Less than the 1 months' tenure this program needs."
    ]


def test_unknown_hire_date_fails_a_tenure_rule(db):
    program = ProgramFactory(eligibility={"min_tenure_months": 6})
    assert check_eligibility(program, PersonFactory(hire_date=None), today=TODAY) == [
        "Hire date unknown: at least 6 months' tenure is needed."
    ]


def test_inactive_people_and_leavers_are_not_eligible(db):
    program = ProgramFactory()
    assert check_eligibility(program, PersonFactory(is_active=False), today=TODAY)
    assert check_eligibility(program, PersonFactory(leaving_date=TODAY), today=TODAY)
    assert (
        check_eligibility(program, PersonFactory(leaving_date=date(2026, 4, 1)), today=TODAY) == []
    )


def test_a_track_narrows_the_program_rules(sales, lyon):
    program = ProgramFactory(eligibility={"department_ids": [sales.pk]})
    track = TrackFactory(program=program, eligibility={"site_ids": [lyon.pk]})
    elsewhere = PersonFactory(department=sales, site=SiteFactory(name="Oslo"))

    assert check_eligibility(program, elsewhere, today=TODAY) == []
    assert check_eligibility(program, elsewhere, track, today=TODAY) == [
        "Site (Oslo) is not one this program is open to."
    ]


def test_malformed_rule_values_are_ignored_rather_than_crashing(db):
    program = ProgramFactory(
        eligibility={"department_ids": ["x"], "levels": [""], "min_tenure_months": "soon"}
    )
    assert check_eligibility(program, PersonFactory(), today=TODAY) == []


def test_the_sql_filter_agrees_with_the_explanation(sales, lyon):
    program = ProgramFactory(
        eligibility={
            "department_ids": [sales.pk],
            "site_ids": [lyon.pk],
            "levels": ["L2", "L3"],
            "min_tenure_months": 12,
        }
    )
    legal = DepartmentFactory(name="Legal")
    people = [
        PersonFactory(department=department, site=site, level=level, hire_date=hired, **extra)
        for department in (sales, legal)
        for site in (lyon, None)
        for level in ("L2", "L4")
        for hired in (date(2025, 3, 31), date(2025, 4, 1), None)
        for extra in ({}, {"is_active": False}, {"leaving_date": date(2026, 1, 1)})
    ]
    selected = set(
        Person.objects.filter(eligible_people_q(program, today=TODAY)).values_list("pk", flat=True)
    )
    explained = {
        person.pk for person in people if not check_eligibility(program, person, today=TODAY)
    }
    assert selected == explained
    assert len(selected) == 1
