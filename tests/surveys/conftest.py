import pytest

from peermentor.surveys.services import survey_create, survey_open, survey_question_add
from tests.factories import (
    DepartmentFactory,
    ParticipantFactory,
    PersonFactory,
    SurveyInvitationFactory,
    UserFactory,
)

ANSWERS = {
    "satisfaction": 4,
    "recommend": 9,
    "helped": ["Meetings", "Plan"],
    "format": "Video",
    "comment": "My partner showed me the data catalogue.",
}


def build_survey(actor, program, *, is_anonymous=True, title="Closing survey", open_it=True):
    """A survey of every kind of question, keyed like ANSWERS."""
    survey = survey_create(
        actor=actor,
        program=program,
        title=title,
        is_anonymous=is_anonymous,
        audience="participants",
        schedule="on_date",
        send_on=program.created_at.date(),
    )
    survey_question_add(
        actor=actor, survey=survey, kind="rating", text="How satisfied are you?", key="satisfaction"
    )
    survey_question_add(
        actor=actor, survey=survey, kind="nps", text="Would you recommend it?", key="recommend"
    )
    survey_question_add(
        actor=actor,
        survey=survey,
        kind="multiple_choice",
        text="What helped?",
        key="helped",
        choices=["Meetings", "Plan", "Goals"],
        is_required=False,
    )
    survey_question_add(
        actor=actor,
        survey=survey,
        kind="single_choice",
        text="How did you meet?",
        key="format",
        choices=["Video", "In person"],
        is_required=False,
    )
    survey_question_add(
        actor=actor,
        survey=survey,
        kind="text",
        text="Anything else?",
        key="comment",
        is_required=False,
    )
    if open_it:
        survey = survey_open(actor=actor, survey=survey)
    return survey


@pytest.fixture
def survey(personas):
    """An open anonymous survey of the personas' program."""
    return build_survey(personas.manager, personas.program)


@pytest.fixture
def named_survey(personas):
    return build_survey(personas.manager, personas.program, is_anonymous=False, title="Named")


@pytest.fixture
def invitation(personas, survey):
    """`participant`'s invitation to `survey`."""
    return SurveyInvitationFactory(survey=survey, participant=personas.participant_record)


@pytest.fixture
def make_respondent():
    """A new participant of `survey`'s program with an account and an invitation to it."""

    def make(survey, *, department=None, **participant_fields):
        person = PersonFactory(
            user=UserFactory(), department=department or DepartmentFactory(name="Finance")
        )
        participant = ParticipantFactory(
            program=survey.program, person=person, **participant_fields
        )
        return SurveyInvitationFactory(survey=survey, participant=participant)

    return make
