"""Load the demo organisation: one call, deterministic, idempotent."""

from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from peermentor.accounts.models import User
from peermentor.demo.careers import build_career_history
from peermentor.demo.directory import ADMIN, ANA, MANAGER, build_directory
from peermentor.demo.lifecycle import build_closed_program, build_running_program
from peermentor.demo.programs import build_programs
from peermentor.enrollment.models import Participant
from peermentor.people.models import Person, Skill

# Printed by `make run`; only the demo loader ever sets it.
DEMO_PASSWORD = "peermentor-demo"


@dataclass
class DemoSummary:
    already_loaded: bool = False
    counts: dict[str, int] = field(default_factory=dict)

    def describe(self) -> str:
        return "Loaded the demo organisation: " + ", ".join(
            f"{count} {name}" for name, count in self.counts.items()
        )


def demo_is_loaded() -> bool:
    return Person.objects.filter(email=ANA.email).exists()


@transaction.atomic
def demo_load() -> DemoSummary:
    """After the call the demo organisation exists exactly once; a second call changes nothing."""
    if demo_is_loaded():
        return DemoSummary(already_loaded=True)
    today = timezone.localdate()
    people = build_directory(password=DEMO_PASSWORD, today=today)
    admin = User.objects.get(email=ADMIN.email)
    ana = Person.objects.get(email=ANA.email)
    manager = Person.objects.get(email=MANAGER.email)
    programs = build_programs(admin=admin, people=people, ana=ana, manager=manager, today=today)
    # Later programs draw from people not yet taking part, so every connection is new.
    taken = set(Participant.objects.values_list("person_id", flat=True))
    pool = [p for p in people if p.pk not in taken and p.pk not in {ana.pk, manager.pk}]
    pool = [p for p in pool if p.pk != admin.person.pk]
    skills = list(Skill.objects.values_list("name", flat=True))
    running = build_running_program(
        admin=admin, pool=pool[:60], ana=ana, manager=manager, today=today, skills=skills
    )
    closed = build_closed_program(
        admin=admin, pool=pool[60:], manager=manager, today=today, skills=skills
    )
    build_career_history(
        program=closed, today=today, protected={ana.pk, manager.pk, admin.person.pk}
    )
    programs.update({running.name: running, closed.name: closed})
    participants = sum(program.participants.count() for program in programs.values())
    return DemoSummary(
        counts={"people": len(people), "programs": len(programs), "participants": participants}
    )
