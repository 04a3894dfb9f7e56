"""Shared fixtures for enrollment tests: an open program with every kind of question."""

from datetime import date

import pytest

from tests.factories import (
    PersonFactory,
    ProfileQuestionFactory,
    ProgramFactory,
    ProgramManagerFactory,
    SkillFactory,
    TrainingModuleFactory,
    UserFactory,
)

QUIZ = [
    {"question": "Who owns the agenda?", "choices": ["Nobody", "Both of you"], "answer": 1},
    {"question": "What stays private?", "choices": ["What you hear", "Nothing"], "answer": 0},
    {"question": "When to meet?", "choices": ["Never", "Regularly", "Once"], "answer": 1},
]


@pytest.fixture
def skills(db):
    return [SkillFactory(name="Python"), SkillFactory(name="SQL"), SkillFactory(name="Design")]


@pytest.fixture
def program(db, skills):
    """An enrolling peer-pairs program: four questions (three required) and three modules
    (an acknowledgement and a quiz required, one optional)."""
    program = ProgramFactory(name="Skills Exchange", status="enrolling", format="pairs")
    ProfileQuestionFactory(
        program=program,
        key="goal",
        label="What do you want most?",
        kind="single_choice",
        choices=["Learn", "Teach", "Meet people"],
        position=1,
    )
    ProfileQuestionFactory(
        program=program,
        key="skills_offered",
        label="Skills you could share",
        kind="skills_offered",
        choices=[],
        position=2,
    )
    ProfileQuestionFactory(
        program=program,
        key="availability",
        label="When are you free?",
        kind="availability",
        choices=[],
        position=3,
    )
    ProfileQuestionFactory(
        program=program,
        key="about",
        label="Anything else?",
        kind="text",
        choices=[],
        is_required=False,
        position=4,
    )
    TrainingModuleFactory(program=program, title="Being a good peer", position=1)
    TrainingModuleFactory(
        program=program,
        title="Peer check",
        kind="quiz",
        quiz=QUIZ,
        pass_mark_percent=67,
        position=2,
    )
    TrainingModuleFactory(program=program, title="Extra reading", is_required=False, position=3)
    return program


@pytest.fixture
def program_manager(program):
    return ProgramManagerFactory(program=program, user=UserFactory(email="pm@example.org")).user


@pytest.fixture
def line_manager(db):
    return PersonFactory(
        full_name="Lee Manager", email="lee@example.org", user=UserFactory(email="lee@example.org")
    )


@pytest.fixture
def employee(db, line_manager):
    """Ana: an employee with an account, a line manager and four years' tenure."""
    user = UserFactory(email="ana@example.org", full_name="Ana Example")
    return PersonFactory(
        full_name="Ana Example",
        email="ana@example.org",
        user=user,
        manager=line_manager,
        hire_date=date(2020, 1, 15),
        level="L2",
    )


def complete_answers(**overrides):
    answers = {
        "goal": "Learn",
        "skills_offered": ["python", "SQL"],
        "availability": {
            "time_zone": "Europe/Paris",
            "slots": [{"day": 1, "start": "12:00", "end": "13:00"}],
        },
        "about": "",
    }
    answers.update(overrides)
    return answers
