"""The demo organisation's programs, built through the same services people use."""

import random
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, cast

from faker import Faker

from peermentor.accounts.models import User
from peermentor.enrollment.answers import question_choices
from peermentor.enrollment.models import Participant
from peermentor.enrollment.services import answers_save, participant_enroll, training_complete
from peermentor.people.models import Person, Skill
from peermentor.programs.models import Program, ProgramStatus, QuestionKind
from peermentor.programs.services import (
    program_create,
    program_manager_add,
    program_transition,
)

SEED = 7


@dataclass(frozen=True)
class ProgramSpec:
    name: str
    goals: tuple[str, ...]
    format: str
    description: str
    sponsor: str
    status: str
    # (role, how many); role None lets the format's only role apply.
    roles: tuple[tuple[str | None, int], ...]
    theme: str = ""
    has_facilitator: bool = False


SKILLS_EXCHANGE = ProgramSpec(
    name="Skills Exchange 2026",
    goals=("skill_learning", "networking"),
    format="pairs",
    description="Pair up with a peer who can teach what you want to learn, and teach them back.",
    sponsor="Priya Raman, Chief Operating Officer",
    status=ProgramStatus.MATCHING,
    roles=((None, 80),),
)
SPECS = [
    SKILLS_EXCHANGE,
    ProgramSpec(
        name="Cross-Functional Shadowing",
        goals=("cross_functional", "career_exploration"),
        format="shadowing",
        description="Spend a few days with a host in another function, on low-risk assignments.",
        sponsor="Tom Becker, VP Operations",
        status=ProgramStatus.ENROLLING,
        roles=(("host", 12), ("shadow", 28)),
    ),
    ProgramSpec(
        name="New Joiner Buddies",
        goals=("onboarding",),
        format="buddies",
        description="Every newcomer gets a buddy in a similar role for their first three months.",
        sponsor="Morgan Admin, Head of People",
        status=ProgramStatus.ENROLLING,
        roles=(("buddy", 15), ("newcomer", 20)),
    ),
    ProgramSpec(
        name="Wellbeing Circles",
        goals=("wellbeing",),
        format="circles",
        description="Small groups that meet every fortnight to support each other.",
        sponsor="Morgan Admin, Head of People",
        status=ProgramStatus.ENROLLING,
        roles=(("member", 30), ("facilitator", 4)),
        theme="Balancing work and life",
        has_facilitator=True,
    ),
    ProgramSpec(
        name="Ask a Peer",
        goals=("networking",),
        format="help_network",
        description="Ask for help on a topic; a peer who knows it offers a short call.",
        sponsor="Priya Raman, Chief Operating Officer",
        status=ProgramStatus.ENROLLING,
        roles=((None, 60),),
    ),
]


def _answer(
    question: Any, person: Person, skills: list[str], rng: random.Random, fake: Faker
) -> Any:
    kind = question.kind
    if kind == QuestionKind.SINGLE_CHOICE:
        return rng.choice(question_choices(question))[0]
    if kind == QuestionKind.MULTIPLE_CHOICE:
        values = [value for value, _label in question_choices(question)]
        return rng.sample(values, k=min(len(values), rng.randint(1, 3)))
    if kind in (QuestionKind.SKILLS_OFFERED, QuestionKind.SKILLS_WANTED):
        return rng.sample(skills, k=rng.randint(1, 4))
    if kind == QuestionKind.NUMBER:
        return rng.randint(1, 15)
    if kind == QuestionKind.TEXT:
        return fake.sentence(nb_words=10)
    if kind == QuestionKind.AVAILABILITY:
        days = sorted(rng.sample(range(5), k=2))
        start = rng.choice(["09:00", "12:00", "15:00"])
        end = {"09:00": "10:30", "12:00": "13:00", "15:00": "16:30"}[start]
        slots = [{"day": day, "start": start, "end": end} for day in days]
        return {"time_zone": person.time_zone, "slots": slots}
    return None


def enroll_ready(
    *, program: Program, person: Person, role: str | None, skills: list[str], rng, fake=None
) -> Participant:
    """Enroll as the person, answer every question and pass every module."""
    if fake is None:
        fake = Faker("en_GB")
        fake.seed_instance(rng.randint(0, 10**6))
    user = cast(User, person.user)  # every demo person has an account
    participant = participant_enroll(actor=user, program=program, role=role)
    questions = list(program.questions.all())
    data = {q.key: _answer(q, person, skills, rng, fake) for q in questions}
    participant = answers_save(actor=user, participant=participant, data=data)
    for module in program.training_modules.all():
        answers = [item["answer"] for item in module.quiz] if module.quiz else None
        training_complete(actor=user, participant=participant, module=module, answers=answers)
    participant.refresh_from_db()
    return participant


def start_program(spec: ProgramSpec, *, admin: User, manager: Person, today: date) -> Program:
    """Create the program from its goals, give it its manager and open enrollment."""
    program = program_create(
        actor=admin,
        name=spec.name,
        goals=list(spec.goals),
        format=spec.format,
        description=spec.description,
        sponsor=spec.sponsor,
        theme=spec.theme,
        has_facilitator=spec.has_facilitator,
        enrollment_opens_on=today - timedelta(days=14),
        enrollment_closes_on=today + timedelta(days=21),
        starts_on=today + timedelta(days=28),
        planned_end_on=today + timedelta(days=28 + 180),
    )
    program_manager_add(actor=admin, program=program, email=manager.email)
    return program_transition(
        actor=admin, program=program, to_status=ProgramStatus.ENROLLING, reason="Demo launch"
    )


def build_programs(
    *, admin: User, people: list[Person], ana: Person, manager: Person, today: date
) -> dict[str, Program]:
    """One program of each format, with participants who answered and trained."""
    rng = random.Random(SEED)
    fake = Faker("en_GB")
    fake.seed_instance(SEED)
    skills = list(Skill.objects.values_list("name", flat=True))
    programs: dict[str, Program] = {}
    pool = [p for p in people if p.pk not in {ana.pk, admin.person.pk, manager.pk}]
    newcomers = sorted(pool, key=lambda p: p.hire_date or today, reverse=True)
    for spec in SPECS:
        program = start_program(spec, admin=admin, manager=manager, today=today)
        chosen: set[int] = set()
        for role, count in spec.roles:
            # Newcomers are the most recently hired; everyone else is drawn at random.
            source = newcomers if role == "newcomer" else rng.sample(pool, k=len(pool))
            members = [p for p in source if p.pk not in chosen][:count]
            for person in members:
                chosen.add(person.pk)
                enroll_ready(
                    program=program, person=person, role=role, skills=skills, rng=rng, fake=fake
                )
        if spec is SKILLS_EXCHANGE:
            enroll_ready(program=program, person=ana, role=None, skills=skills, rng=rng, fake=fake)
        if spec.status == ProgramStatus.MATCHING:
            program_transition(
                actor=admin,
                program=program,
                to_status=ProgramStatus.MATCHING,
                reason="Enrollment closed early for the demo",
            )
        programs[spec.name] = program
    return programs
