"""Demo programs further along: one running with live connections, one closed with results.

They are matched by the real engine through the same match-run services a manager uses, so
the demo shows real scores and reasons. Dates are then moved into the past (a demo cannot
wait months), which is the only place rows are written without a service.
"""

import random
from datetime import date, datetime, timedelta
from typing import cast

from django.utils import timezone

from peermentor.accounts.models import User
from peermentor.connections.models import Connection, ConnectionStatus
from peermentor.connections.services import reflection_submit
from peermentor.demo.programs import ProgramSpec, enroll_ready, start_program
from peermentor.engagement.demo import past_meetings
from peermentor.engagement.demo import populate as populate_engagement
from peermentor.engagement.services import connection_complete
from peermentor.enrollment.models import Participant
from peermentor.flows.publish import match_run_publish
from peermentor.matches.services import match_run_execute, match_run_start
from peermentor.people.models import Person
from peermentor.programs.models import Program, ProgramStatus
from peermentor.programs.services import program_transition
from peermentor.surveys.demo import populate as populate_surveys

SEED = 11

SPRING_PAIRS = ProgramSpec(
    name="Peer Pairs — Spring 2026",
    goals=("networking", "skill_learning"),
    format="pairs",
    description="Meet a peer outside your team every few weeks and learn from each other.",
    sponsor="Priya Raman, Chief Operating Officer",
    status=ProgramStatus.RUNNING,
    roles=((None, 39),),
)
BUDDIES_2025 = ProgramSpec(
    name="Onboarding Buddies 2025",
    goals=("onboarding",),
    format="buddies",
    description="Last year's buddy program: every newcomer had a buddy for three months.",
    sponsor="Morgan Admin, Head of People",
    status=ProgramStatus.CLOSED,
    roles=(("buddy", 10), ("newcomer", 16)),
)
REFLECTIONS = [
    ("We met every week and I always had someone to ask.", "How the release process works."),
    ("My buddy introduced me to people in three teams.", "Who to ask for what."),
    ("Honest conversations about the first month.", "That everyone struggles at first."),
    ("Shadowing a sales call was eye-opening.", "How customers describe our product."),
]


def _match_and_publish(program: Program, admin: User) -> list[Connection]:
    """Close enrollment, run the engine, publish every proposal, start the program."""
    program_transition(
        actor=admin, program=program, to_status=ProgramStatus.MATCHING, reason="Demo matching"
    )
    run = match_run_start(actor=admin, program=program, seed=SEED)
    # The demo runs the task inline; the worker later finds it already done and skips it.
    match_run_execute(run_id=run.pk)
    run.refresh_from_db()
    match_run_publish(actor=admin, run=run)
    program_transition(
        actor=admin, program=program, to_status=ProgramStatus.RUNNING, reason="Matches published"
    )
    return list(program.connections.filter(status=ConnectionStatus.ACTIVE))


def _backdate(program: Program, *, started: date, ends: date, now: datetime) -> None:
    Program.objects.filter(pk=program.pk).update(
        enrollment_opens_on=started - timedelta(days=40),
        enrollment_closes_on=started - timedelta(days=10),
        starts_on=started,
        planned_end_on=ends,
    )
    started_at = now - timedelta(days=(now.date() - started).days)
    program.connections.update(started_at=started_at, planned_end_on=ends)
    # People enrolled (and got ready) while enrollment was open, before the start: otherwise
    # the dashboards would show them matched before they joined.
    rng = random.Random(f"{program.name}: enrolled")
    participants = list(program.participants.order_by("pk"))
    for participant in participants:
        participant.enrolled_at = started_at - timedelta(
            days=rng.randint(12, 35), hours=rng.randint(0, 23)
        )
        if participant.ready_at is not None:
            participant.ready_at = participant.enrolled_at + timedelta(days=rng.randint(1, 6))
    Participant.objects.bulk_update(participants, ["enrolled_at", "ready_at"])


def build_running_program(
    *, admin: User, pool: list[Person], ana: Person, manager: Person, today: date, skills: list[str]
) -> Program:
    rng = random.Random(SEED)
    program = start_program(SPRING_PAIRS, admin=admin, manager=manager, today=today)
    for person in [ana, *rng.sample(pool, k=39)]:
        enroll_ready(program=program, person=person, role=None, skills=skills, rng=rng)
    _match_and_publish(program, admin)
    now = timezone.now()
    _backdate(
        program, started=today - timedelta(days=75), ends=today + timedelta(days=105), now=now
    )
    populate_engagement(program, list(program.connections.all()), rng, now)
    return program


def build_closed_program(
    *, admin: User, pool: list[Person], manager: Person, today: date, skills: list[str]
) -> Program:
    rng = random.Random(SEED + 1)
    program = start_program(BUDDIES_2025, admin=admin, manager=manager, today=today)
    buddies, newcomers = pool[: len(pool) // 2], pool[len(pool) // 2 :]
    for role, people, count in (("buddy", buddies, 10), ("newcomer", newcomers, 16)):
        for person in rng.sample(people, k=count):
            enroll_ready(program=program, person=person, role=role, skills=skills, rng=rng)
    connections = _match_and_publish(program, admin)
    for connection in connections:
        connection_complete(actor=admin, connection=connection)
        for member in connection.members.select_related("participant__person__user"):
            went_well, learned = rng.choice(REFLECTIONS)
            reflection_submit(
                actor=cast(User, member.participant.person.user),  # demo people have accounts
                connection=connection,
                went_well=went_well,
                learned=learned,
                rating=rng.choice([3, 4, 4, 5, 5]),
                may_quote=rng.random() < 0.6,
            )
    program_transition(
        actor=admin, program=program, to_status=ProgramStatus.CLOSED, reason="Cohort finished"
    )
    now = timezone.now()
    _backdate(
        program, started=today - timedelta(days=300), ends=today - timedelta(days=120), now=now
    )
    # The connections ran to their planned end, and their members met meanwhile.
    ended_at = now - timedelta(days=120)
    program.connections.update(ended_at=ended_at)
    past_meetings(list(program.connections.all()), rng, ended_at)
    populate_surveys(program, rng, now)
    return program
