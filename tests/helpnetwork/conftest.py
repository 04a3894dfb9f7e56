import pytest

from tests.factories import (
    AnswerFactory,
    DepartmentFactory,
    PersonFactory,
    ProfileQuestionFactory,
    ReadyParticipantFactory,
    SiteFactory,
    SkillFactory,
    UserFactory,
)


@pytest.fixture
def help_program(personas):
    """The personas' program as a running help network with a "skills offered" question.

    `participant` (Ana) works in Engineering, London; `other_participant` in Finance, Leeds."""
    program = personas.program
    program.format = "help_network"
    program.status = "running"
    program.save()
    ProfileQuestionFactory(program=program, key="skills_offered", kind="skills_offered", choices=[])
    ana = personas.participant_record.person
    ana.full_name = "Ana Asker"
    ana.department = DepartmentFactory(name="Engineering")
    ana.site = SiteFactory(name="London")
    ana.save()
    other = personas.other_participant_record.person
    other.full_name = "Omar Other"
    other.department = DepartmentFactory(name="Finance")
    other.site = SiteFactory(name="Leeds")
    other.save()
    return program


@pytest.fixture
def python(db):
    return SkillFactory(name="Python")


@pytest.fixture
def sql(db):
    return SkillFactory(name="SQL")


@pytest.fixture
def make_helper(personas, help_program):
    """An enrolled participant with an account who offered `offers`."""
    question = help_program.questions.get(key="skills_offered")

    def make(name, *, department="Engineering", site="London", offers=("Python",), **fields):
        user = UserFactory(full_name=name)
        person = PersonFactory(
            user=user,
            full_name=name,
            department=DepartmentFactory(name=department),
            site=SiteFactory(name=site),
        )
        participant = ReadyParticipantFactory(program=help_program, person=person, **fields)
        if offers is not None:
            AnswerFactory(participant=participant, question=question, value=list(offers))
        return participant

    return make


@pytest.fixture
def offers_python(personas, help_program):
    """`other_participant` (Omar, Finance, Leeds) offered Python."""
    question = help_program.questions.get(key="skills_offered")
    AnswerFactory(
        participant=personas.other_participant_record, question=question, value=["Python"]
    )
    return personas.other_participant_record
