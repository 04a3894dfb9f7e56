"""A small program built by hand so that every figure's right answer is known in advance.

Day 0 is 60 days ago. People (department, site):

    A Eng London   enrolled day 0, track North   X: A-C pair, active, started day 3
    B Eng Berlin   enrolled day 0                Y: B-D pair, completed (goals met), day 8-40
    C Sales London enrolled day 2, track North   V: J-K pair, closed early (no time), day 5-20
    D Sales London enrolled day 3                W: E-F, proposal cancelled
    J Eng London   enrolled day 1
    K Ops London   enrolled day 0
    E Ops London   enrolled day 10 (ready, never matched)
    F Eng London   enrolled day 10 (not ready)
    G pending approval, H withdrawn, I declined (Eng London)

A and C were already paired in an earlier program, so X is not a new tie; Y and V are.
Meetings held: X on days 5 and 20 (and one scheduled ahead), Y on day 14 (and one missed).
"""

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from peermentor.connections.models import Connection, ConnectionMember, Reflection
from peermentor.engagement.models import CheckIn, Meeting, Plan, PlanItem
from peermentor.enrollment.models import Invitation, Participant
from peermentor.people.models import Person
from tests.factories import (
    DepartmentFactory,
    PersonFactory,
    ProgramFactory,
    ProgramManagerFactory,
    SiteFactory,
    TrackFactory,
    UserFactory,
)

DAY0_AGO = 60


@dataclass
class Known:
    program: Any
    manager: Any
    track: Any
    day0: Any
    people: dict[str, Person] = field(default_factory=dict)
    participants: dict[str, Participant] = field(default_factory=dict)
    connections: dict[str, Connection] = field(default_factory=dict)

    def day(self, number: float):
        return self.day0 + timedelta(days=number)


def _connect(known, key, members, *, status, start=None, end=None, reason="", program=None):
    program = program or known.program
    connection = Connection.objects.create(
        program=program,
        kind="pair",
        source="manual",
        status=status,
        started_at=known.day(start) if start is not None else None,
        ended_at=known.day(end) if end is not None else None,
        end_reason=reason,
        track=members[0].track if program == known.program else None,
    )
    Connection.objects.filter(pk=connection.pk).update(created_at=known.day(start or 0))
    for participant in members:
        ConnectionMember.objects.create(
            connection=connection,
            participant=participant,
            role="peer",
            is_current=status in ("proposed", "active"),
        )
    if key:
        known.connections[key] = connection
    return connection


def _meeting(connection, status, day, known):
    starts = known.day(day)
    Meeting.objects.create(
        connection=connection,
        title="Catch-up",
        time_zone="UTC",
        status=status,
        starts_at=starts,
        scheduled_at=starts - timedelta(days=1),
        outcome_logged_at=starts if status in ("held", "missed") else None,
    )


def build_known_program(threshold: int = 5) -> Known:
    now = timezone.now()
    day0 = now - timedelta(days=DAY0_AGO)
    program = ProgramFactory(
        name="Known program",
        status="running",
        anonymity_threshold=threshold,
        starts_on=day0.date(),
        goals=["networking", "skill_learning"],
        success_metrics=[
            {"key": "match_rate", "target": 70},
            {"key": "time_to_match_days", "target": 3},
            {"key": "meetings_per_connection", "target": 4},
            {"key": "cross_team_ties", "target": None},
            {"key": "internal_moves", "target": None},
        ],
    )
    manager = ProgramManagerFactory(program=program).user
    known = Known(program=program, manager=manager, track=None, day0=day0)
    known.track = TrackFactory(program=program, name="North")
    eng, sales, ops = (DepartmentFactory(name=n) for n in ("Eng", "Sales", "Ops"))
    london, berlin = SiteFactory(name="London"), SiteFactory(name="Berlin")
    hired = (day0 - timedelta(days=2 * 365)).date()
    layout = {
        # key: (department, site, enrolled day, status, ready, track)
        "A": (eng, london, 0, "enrolled", True, True),
        "B": (eng, berlin, 0, "enrolled", True, False),
        "C": (sales, london, 2, "enrolled", True, True),
        "D": (sales, london, 3, "enrolled", True, False),
        "J": (eng, london, 1, "enrolled", True, False),
        "K": (ops, london, 0, "enrolled", True, False),
        "E": (ops, london, 10, "enrolled", True, False),
        "F": (eng, london, 10, "enrolled", False, False),
        "G": (eng, london, 5, "pending_approval", False, False),
        "H": (eng, london, 5, "withdrawn", False, False),
        "I": (eng, london, 5, "declined", False, False),
    }
    for key, (department, site, day, status, ready, in_track) in layout.items():
        person = PersonFactory(
            full_name=f"Person {key}",
            department=department,
            site=site,
            level="L2",
            hire_date=hired,
            user=UserFactory(),
        )
        participant = Participant.objects.create(
            program=program,
            person=person,
            status=status,
            track=known.track if in_track else None,
            is_profile_complete=ready,
            is_training_complete=ready,
            ready_at=known.day(day) if ready else None,
            withdrawn_at=known.day(day + 1) if status == "withdrawn" else None,
        )
        Participant.objects.filter(pk=participant.pk).update(enrolled_at=known.day(day))
        participant.refresh_from_db()
        known.people[key] = person
        known.participants[key] = participant
    # Six invitations, two of them for the North track.
    for index, key in enumerate("ABCDEF"):
        Invitation.objects.create(
            program=program, person=known.people[key], track=known.track if index < 2 else None
        )
    p = known.participants
    x = _connect(known, "X", [p["A"], p["C"]], status="active", start=3)
    y = _connect(
        known, "Y", [p["B"], p["D"]], status="completed", start=8, end=40, reason="goals_met"
    )
    v = _connect(
        known, "V", [p["J"], p["K"]], status="closed_early", start=5, end=20, reason="no_time"
    )
    _connect(known, "W", [p["E"], p["F"]], status="cancelled", end=12)
    # A and C met before, in another program, so X is not a new tie.
    earlier = ProgramFactory(name="Earlier program", status="closed")
    old_a = Participant.objects.create(program=earlier, person=known.people["A"], status="enrolled")
    old_c = Participant.objects.create(program=earlier, person=known.people["C"], status="enrolled")
    _connect(known, "", [old_a, old_c], status="completed", start=-200, end=-100, program=earlier)

    _meeting(x, "held", 5, known)
    _meeting(x, "held", 20, known)
    _meeting(x, "scheduled", 70, known)
    _meeting(y, "held", 14, known)
    _meeting(y, "missed", 20, known)

    plan_x = Plan.objects.create(connection=x)
    plan_y = Plan.objects.create(connection=y)
    today = now.date()
    done = {"is_done": True, "done_at": now}
    for kind, due, is_done in [
        ("milestone", today - timedelta(days=10), True),
        ("milestone", today - timedelta(days=5), False),
        ("task", today - timedelta(days=3), False),
        ("task", today + timedelta(days=10), True),
    ]:
        PlanItem.objects.create(
            plan=plan_x, kind=kind, title=kind, due_on=due, **(done if is_done else {})
        )
    for kind in ("milestone", "task"):
        PlanItem.objects.create(plan=plan_y, kind=kind, title=kind, **done)

    for connection, key, rating in [(x, "A", 4), (x, "C", 2), (y, "B", 5), (y, "D", 3)]:
        CheckIn.objects.create(connection=connection, participant=p[key], period=0, rating=rating)
    Reflection.objects.create(
        connection=y,
        participant=p["B"],
        went_well="We met every fortnight and shared our dashboards.",
        learned="How sales forecasts are built.",
        rating=5,
        may_quote=True,
    )
    Reflection.objects.create(
        connection=y, participant=p["D"], went_well="Private", learned="Private", rating=4
    )
    Reflection.objects.create(
        connection=v, participant=p["J"], went_well="Hard", learned="Little", rating=2
    )
    return known


@pytest.fixture
def known(db) -> Known:
    return build_known_program()
