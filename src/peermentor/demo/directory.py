"""The demo organisation's directory: deterministic people, departments, sites and skills."""

import random
from dataclasses import dataclass
from datetime import date, timedelta

from django.contrib.auth.hashers import make_password
from faker import Faker

from peermentor.accounts.models import User
from peermentor.people.models import Department, Person, Site, Skill

SEED = 20261127
PEOPLE_COUNT = 320
# Skewed on purpose: real organisations have one big department and several small ones.
DEPARTMENTS = {
    "Engineering": 0.30,
    "Sales": 0.17,
    "Operations": 0.13,
    "Customer Success": 0.10,
    "Product": 0.08,
    "Marketing": 0.08,
    "Finance": 0.07,
    "People": 0.07,
}
SITES = {
    "London": "Europe/London",
    "Manchester": "Europe/London",
    "New York": "America/New_York",
    "Singapore": "Asia/Singapore",
}
SKILLS = {
    "Technical": ["Python", "SQL", "Data analysis", "Cloud infrastructure", "Security", "Testing"],
    "Business": ["Negotiation", "Budgeting", "Forecasting", "Pricing", "Procurement"],
    "People": ["Public speaking", "Giving feedback", "Coaching", "Hiring", "Conflict resolution"],
    "Craft": ["Writing", "UX research", "Product discovery", "Storytelling", "Design thinking"],
    "Ways of working": ["Project management", "Time management", "Remote collaboration"],
}
LANGUAGES = ["English", "French", "Spanish", "Mandarin", "German", "Portuguese", "Hindi"]
LEVELS = ["L1", "L2", "L3", "L4", "L5"]
TITLES = {
    "Engineering": "Software Engineer",
    "Sales": "Account Executive",
    "Operations": "Operations Analyst",
    "Customer Success": "Customer Success Manager",
    "Product": "Product Manager",
    "Marketing": "Marketing Specialist",
    "Finance": "Financial Analyst",
    "People": "People Partner",
}


@dataclass(frozen=True)
class NamedPerson:
    email: str
    full_name: str
    department: str
    site: str
    level: str
    is_org_admin: bool = False


# The two demo accounts the README and `make run` name.
ADMIN = NamedPerson("admin@example.org", "Morgan Admin", "People", "London", "L4", True)
ANA = NamedPerson("ana@example.org", "Ana Silva", "Engineering", "London", "L2")
# Manages the demo programs day to day (a program manager, not an organisation admin).
MANAGER = NamedPerson("sam@example.org", "Sam Okafor", "People", "London", "L3")


def _pick_weighted(rng: random.Random, weights: dict[str, float]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def build_directory(*, password: str, today: date) -> list[Person]:
    """Create the directory once; every person gets an account with the demo password."""
    rng = random.Random(SEED)
    fake = Faker("en_GB")
    fake.seed_instance(SEED)

    departments = {name: Department.objects.create(name=name) for name in DEPARTMENTS}
    sites = {name: Site.objects.create(name=name, time_zone=zone) for name, zone in SITES.items()}
    Skill.objects.bulk_create(
        Skill(name=skill, category=category)
        for category, names in SKILLS.items()
        for skill in names
    )

    specs: list[NamedPerson] = [ADMIN, ANA, MANAGER]
    used_emails = {spec.email for spec in specs}
    while len(specs) < PEOPLE_COUNT:
        first, last = fake.first_name(), fake.last_name()
        email = f"{first}.{last}@example.org".lower().replace("'", "")
        if email in used_emails:
            continue
        used_emails.add(email)
        specs.append(
            NamedPerson(
                email=email,
                full_name=f"{first} {last}",
                department=_pick_weighted(rng, DEPARTMENTS),
                site=rng.choices(list(SITES), weights=[5, 2, 3, 2])[0],
                level=rng.choices(LEVELS, weights=[3, 5, 4, 2, 1])[0],
            )
        )

    # One hash for everybody: hashing 320 passwords one by one would take a minute.
    hashed = make_password(password)
    users = User.objects.bulk_create(
        User(
            email=spec.email,
            full_name=spec.full_name,
            password=hashed,
            time_zone=SITES[spec.site],
            is_org_admin=spec.is_org_admin,
            is_staff=spec.is_org_admin,
            is_superuser=spec.is_org_admin,
        )
        for spec in specs
    )
    people = Person.objects.bulk_create(
        Person(
            external_id=f"DEMO-{index:04d}",
            full_name=spec.full_name,
            email=spec.email,
            department=departments[spec.department],
            job_title=("Senior " if spec.level in {"L4", "L5"} else "") + TITLES[spec.department],
            level=spec.level,
            site=sites[spec.site],
            time_zone=SITES[spec.site],
            hire_date=today - timedelta(days=rng.randint(20, 3650)),
            languages=sorted({"English", *rng.sample(LANGUAGES, rng.randint(0, 2))}),
            user=user,
        )
        for index, (spec, user) in enumerate(zip(specs, users, strict=True), start=1)
    )
    _build_manager_tree(people, rng)
    return people


def _build_manager_tree(people: list[Person], rng: random.Random) -> None:
    """A chief executive, a head per department, team leads, then everyone else."""
    named = len([ADMIN, ANA, MANAGER])
    chief = people[named]
    chief.job_title, chief.level, chief.manager = "Chief Executive", "L5", None
    by_department: dict[int, list[Person]] = {}
    for person in people[named + 1 :]:
        by_department.setdefault(person.department_id or 0, []).append(person)
    for members in by_department.values():
        head, *rest = members
        head.manager = chief
        head.job_title = f"Head of {head.department.name}" if head.department else "Head"
        leads = rest[: max(1, len(rest) // 7)]
        for lead in leads:
            lead.manager = head
            lead.level = "L4"
        for person in rest[len(leads) :]:
            person.manager = rng.choice(leads)
    for person in people[:named]:
        # The named demo people report to someone in their own department, as people do.
        person.manager = next(
            (p for p in people[named + 1 :] if p.department_id == person.department_id), chief
        )
    Person.objects.bulk_update(people, ["manager", "job_title", "level"])
