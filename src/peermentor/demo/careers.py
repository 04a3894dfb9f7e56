"""Demo job history and leavers since the closed program started.

The closed program's outcomes compare its people with similar colleagues (retention, internal
moves); without any history both sides would show 100% kept and 0% moved. Participants here are
given a somewhat better year than the rest, as the programs this demo imitates report. In a real
organisation these rows come from the HR import; the demo writes them in bulk directly.
"""

import random
from collections.abc import Collection
from datetime import date, timedelta

from peermentor.connections.models import ConnectionMember
from peermentor.enrollment.models import Participant
from peermentor.people.models import JobChange, Person
from peermentor.programs.models import Program

SEED = 23
LEVELS = ["L1", "L2", "L3", "L4", "L5"]
# Chances over the year, for the closed program's people and for everyone else.
PROMOTED = {True: 0.30, False: 0.14}
LEFT = {True: 0.04, False: 0.10}


def build_career_history(*, program: Program, today: date, protected: Collection[int]) -> None:
    """Promotions and leavers dated between the program's start and today (deterministic)."""
    rng = random.Random(SEED)
    start = program.starts_on or today - timedelta(days=300)
    days = max((today - start).days - 10, 31)
    in_program = set(
        ConnectionMember.objects.filter(connection__program=program).values_list(
            "participant__person_id", flat=True
        )
    )
    # People in another program stay: the running demo programs need them.
    elsewhere = set(
        Participant.objects.exclude(program=program).values_list("person_id", flat=True)
    )
    people = list(
        Person.objects.filter(hire_date__lte=start, is_active=True)
        .select_related("department", "site")
        .order_by("pk")
    )
    changes: list[JobChange] = []
    promoted: list[Person] = []
    leavers: list[Person] = []
    for person in people:
        took_part = person.pk in in_program
        promote, leave = rng.random(), rng.random()
        when = start + timedelta(days=rng.randint(30, days))
        if person.pk in protected:
            continue
        if leave < LEFT[took_part] and person.pk not in elsewhere:
            person.leaving_date, person.is_active = when, False
            leavers.append(person)
        elif promote < PROMOTED[took_part] and person.level in LEVELS[:-1]:
            new_level = LEVELS[LEVELS.index(person.level) + 1]
            department = person.department.name if person.department else ""
            site = person.site.name if person.site else ""
            changes.append(
                JobChange(
                    person=person,
                    changed_on=when,
                    department_before=department,
                    department_after=department,
                    job_title_before=person.job_title,
                    job_title_after=person.job_title,
                    level_before=person.level,
                    level_after=new_level,
                    site_before=site,
                    site_after=site,
                    source=JobChange.Source.IMPORT,
                )
            )
            person.level = new_level
            promoted.append(person)
    JobChange.objects.bulk_create(changes)
    Person.objects.bulk_update(promoted, ["level"])
    Person.objects.bulk_update(leavers, ["leaving_date", "is_active"])
