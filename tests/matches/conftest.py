import pytest

from peermentor.programs.models import ProfileQuestion
from tests.factories import (
    DepartmentFactory,
    PersonFactory,
    ProgramFactory,
    ProgramManagerFactory,
    ReadyParticipantFactory,
    SiteFactory,
    UserFactory,
)

SKILLS = ["Python", "SQL", "Negotiation", "Public speaking", "Design", "Finance"]


class MatchingWorld:
    """A program of peers with skills questions, a manager, and a few ready participants."""

    def __init__(self, *, format="pairs", goals=("skill_learning",), people=6, **program_fields):
        self.program = ProgramFactory(
            format=format, goals=list(goals), status="matching", **program_fields
        )
        self.manager = ProgramManagerFactory(program=self.program).user
        self.admin = UserFactory(email="org-admin@example.com", is_org_admin=True)
        self.offered = ProfileQuestion.objects.create(
            program=self.program,
            key="skills_offered",
            label="Skills you offer",
            kind="skills_offered",
            position=1,
        )
        self.wanted = ProfileQuestion.objects.create(
            program=self.program,
            key="skills_wanted",
            label="Skills you want",
            kind="skills_wanted",
            position=2,
        )
        self.departments = [DepartmentFactory(name=f"Dept {i}") for i in range(3)]
        self.site = SiteFactory(name="Lyon", time_zone="Europe/Paris")
        self.participants = []
        for index in range(people):
            self.add(index)

    def add(self, index, *, role=None, capacity=1, department=None, manager=None, **person):
        from peermentor.enrollment.models import Answer

        person_record = PersonFactory(
            full_name=person.pop("full_name", f"Person {index:02d}"),
            department=department or self.departments[index % len(self.departments)],
            site=self.site,
            manager=manager,
            user=UserFactory(),
            **person,
        )
        participant = ReadyParticipantFactory(
            program=self.program,
            person=person_record,
            role=role or ("member" if self.program.format == "circles" else "peer"),
            capacity=capacity,
        )
        Answer.objects.create(
            participant=participant, question=self.offered, value=[SKILLS[index % 6]]
        )
        Answer.objects.create(
            participant=participant, question=self.wanted, value=[SKILLS[(index + 1) % 6]]
        )
        self.participants.append(participant)
        return participant

    def policy(self, **overrides):
        policy = {
            "objective": "quality",
            "min_score": 0.0,
            "criterion": [
                {
                    "kind": "complement",
                    "offer": "skills_offered",
                    "want": "skills_wanted",
                    "weight": 3,
                },
                {"kind": "different", "field": "department", "weight": 1},
            ],
            "constraint": [{"kind": "not_in_reporting_line"}],
        }
        policy.update(overrides)
        return policy

    def save_policy(self, **overrides):
        from peermentor.matches.adapter import engine_policy_mapping

        self.program.matching_policy = engine_policy_mapping(self.program, self.policy(**overrides))
        self.program.save(update_fields=["matching_policy"])


@pytest.fixture
def world(db):
    world = MatchingWorld()
    world.save_policy()
    return world
