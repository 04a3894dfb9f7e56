import datetime

import pytest
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone

from peermentor.core.errors import ApplicationError
from peermentor.core.models import AuditEvent
from peermentor.surveys.defaults import ASSESSMENT_DIMENSIONS, templates_for
from peermentor.surveys.models import (
    Survey,
    SurveyAnswer,
    SurveyQuestion,
    SurveyResponse,
)
from peermentor.surveys.selectors import get_invitation_for
from peermentor.surveys.services import (
    survey_add_from_template,
    survey_answer,
    survey_close,
    survey_create,
    survey_delete,
    survey_open,
    survey_question_add,
    survey_question_delete,
    survey_question_move,
    survey_question_update,
    survey_update,
    surveys_copy,
)
from tests.factories import ProgramFactory, SurveyInvitationFactory
from tests.surveys.conftest import ANSWERS

pytestmark = pytest.mark.django_db


def settings_of(survey, **changes):
    fields = {
        name: getattr(survey, name)
        for name in [
            "title",
            "description",
            "purpose",
            "is_anonymous",
            "audience",
            "schedule",
            "send_on",
            "days_after_start",
            "open_days",
            "reminder_after_days",
        ]
    }
    return {**fields, **changes}


# --- building ---------------------------------------------------------------------------------
def test_manager_creates_a_draft_survey_and_it_is_audited(personas):
    survey = survey_create(
        actor=personas.manager,
        program=personas.program,
        title="  Pulse ",
        audience="connection_members",
        schedule="after_start",
        days_after_start=30,
        send_on=datetime.date(2030, 1, 1),
    )
    assert survey.status == "draft"
    assert survey.title == "Pulse"
    assert survey.is_anonymous is True
    # The date belongs to another schedule: it is dropped, not kept half-meaningful.
    assert survey.send_on is None
    assert AuditEvent.objects.filter(action="survey.created", target_id=survey.pk).exists()


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"title": " "}, "title"),
        ({"schedule": "on_date", "send_on": None}, "send_on"),
        ({"schedule": "after_start", "audience": "connection_members"}, "days_after_start"),
        ({"schedule": "mid_point", "audience": "participants"}, "audience"),
        ({"schedule": "at_enrollment", "audience": "connection_members"}, "audience"),
        ({"schedule": "whenever"}, "schedule"),
        ({"open_days": 0}, "open_days"),
        ({"open_days": 10, "reminder_after_days": 10}, "reminder_after_days"),
    ],
)
def test_bad_survey_settings_are_refused_beside_the_field(personas, fields, field):
    base = {
        "title": "Pulse",
        "audience": "participants",
        "schedule": "on_date",
        "send_on": datetime.date(2030, 1, 1),
    }
    with pytest.raises(ApplicationError) as error:
        survey_create(actor=personas.manager, program=personas.program, **{**base, **fields})
    assert error.value.field == field
    assert not Survey.objects.exists()


@pytest.mark.parametrize("role", ["participant", "outsider", "other_manager"])
def test_only_managers_build_surveys(personas, role):
    with pytest.raises(PermissionDenied):
        survey_create(
            actor=personas.user(role),
            program=personas.program,
            title="Pulse",
            send_on=datetime.date(2030, 1, 1),
        )


def test_one_pre_assessment_per_program(personas):
    survey_add_from_template(
        actor=personas.manager, program=personas.program, template_key="pre_assessment"
    )
    with pytest.raises(ApplicationError) as error:
        survey_add_from_template(
            actor=personas.manager, program=personas.program, template_key="pre_assessment"
        )
    assert error.value.field == "purpose"


@pytest.mark.parametrize("program_format", ["pairs", "shadowing", "circles", "buddies"])
def test_every_template_of_a_format_becomes_a_valid_draft(personas, program_format):
    program = ProgramFactory(format=program_format, goals=["networking"])
    from tests.factories import ProgramManagerFactory

    manager = ProgramManagerFactory(program=program).user
    keys = [template.key for template in templates_for(program_format, program.goals)]
    assert keys == ["pulse_30", "mid_point", "closing", "pre_assessment", "post_assessment"]
    for key in keys:
        survey = survey_add_from_template(actor=manager, program=program, template_key=key)
        assert survey.status == "draft"
        assert survey.questions.count() >= 3
    closing = program.surveys.get(purpose="closing")
    assert set(closing.questions.values_list("key", flat=True)) >= {"satisfaction", "recommend"}
    assert closing.schedule == "at_closure"
    before = program.surveys.get(purpose="pre_assessment")
    after = program.surveys.get(purpose="post_assessment")
    assert list(before.questions.values_list("key", "text")) == list(
        after.questions.values_list("key", "text")
    )
    assert list(before.questions.values_list("key", flat=True)) == list(ASSESSMENT_DIMENSIONS)


def test_help_network_templates_are_sent_on_a_date(personas):
    program = ProgramFactory(format="help_network", planned_end_on=datetime.date(2031, 3, 1))
    keys = [t.key for t in templates_for("help_network", [])]
    assert keys == ["closing", "pre_assessment", "post_assessment"]
    survey = survey_add_from_template(actor=personas.admin, program=program, template_key="closing")
    assert survey.schedule == "on_date"
    assert survey.send_on == datetime.date(2031, 3, 1)


def test_unknown_template_is_refused(personas):
    with pytest.raises(ApplicationError) as error:
        survey_add_from_template(
            actor=personas.manager, program=personas.program, template_key="nope"
        )
    assert error.value.field == "template_key"


def test_questions_are_added_in_order_and_move(personas):
    survey = survey_create(
        actor=personas.manager,
        program=personas.program,
        title="Pulse",
        send_on=datetime.date(2030, 1, 1),
    )
    first = survey_question_add(actor=personas.manager, survey=survey, kind="rating", text="How?")
    second = survey_question_add(
        actor=personas.manager,
        survey=survey,
        kind="single_choice",
        text="How often did you meet?",
        choices=["Once", " Twice ", ""],
    )
    assert first.key == "how"
    assert second.key == "how_often_did_you_meet"
    assert second.choices == ["Once", "Twice"]
    survey_question_move(actor=personas.manager, question=second, direction="up")
    assert list(survey.questions.values_list("pk", flat=True)) == [second.pk, first.pk]
    survey_question_move(actor=personas.manager, question=second, direction="up")
    assert list(survey.questions.values_list("position", flat=True)) == [0, 1]


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"kind": "rating", "text": ""}, "text"),
        ({"kind": "essay", "text": "Why?"}, "kind"),
        ({"kind": "single_choice", "text": "Which?", "choices": ["Only one"]}, "choices"),
        ({"kind": "multiple_choice", "text": "Which?", "choices": ["A", "a"]}, "choices"),
        ({"kind": "rating", "text": "How?", "key": "Not A Key"}, "key"),
        ({"kind": "rating", "text": "How?", "key": "satisfaction"}, "key"),
    ],
)
def test_bad_questions_are_refused_beside_the_field(personas, survey, fields, field):
    count = survey.questions.count()
    with pytest.raises(ApplicationError) as error:
        survey_question_add(actor=personas.manager, survey=survey, **fields)
    assert error.value.field == field
    assert survey.questions.count() == count


def test_answered_questions_keep_their_meaning(personas, survey, invitation):
    survey_answer(actor=personas.participant, invitation=invitation, answers=ANSWERS)
    question = survey.questions.get(key="helped")
    with pytest.raises(ApplicationError) as error:
        survey_question_update(
            actor=personas.manager,
            question=question,
            text="What helped?",
            choices=["Meetings", "Other"],
        )
    assert error.value.field == "choices"
    with pytest.raises(ApplicationError):
        survey_question_delete(actor=personas.manager, question=question)
    # The wording may still be corrected.
    survey_question_update(
        actor=personas.manager, question=question, text="What helped you most?", is_required=False
    )
    question.refresh_from_db()
    assert question.text == "What helped you most?"
    assert question.choices == ["Meetings", "Plan", "Goals"]


def test_anonymity_cannot_change_once_people_were_asked(personas, survey, invitation):
    with pytest.raises(ApplicationError) as error:
        survey_update(
            actor=personas.manager, survey=survey, **settings_of(survey, is_anonymous=False)
        )
    assert error.value.field == "is_anonymous"
    survey_update(actor=personas.manager, survey=survey, **settings_of(survey, title="Renamed"))
    survey.refresh_from_db()
    assert survey.title == "Renamed"
    assert survey.is_anonymous is True


def test_open_needs_a_question_and_close_ends_answering(personas, invitation, survey):
    empty = survey_create(
        actor=personas.manager,
        program=personas.program,
        title="Empty",
        send_on=datetime.date(2030, 1, 1),
    )
    with pytest.raises(ApplicationError):
        survey_open(actor=personas.manager, survey=empty)
    survey_close(actor=personas.manager, survey=survey, reason="Enough answers")
    with pytest.raises(ApplicationError):
        survey_answer(actor=personas.participant, invitation=invitation, answers=ANSWERS)
    with pytest.raises(PermissionDenied):
        survey_open(actor=personas.participant, survey=survey)


def test_a_survey_anyone_was_asked_cannot_be_deleted(personas, survey, invitation):
    with pytest.raises(ApplicationError):
        survey_delete(actor=personas.manager, survey=survey)
    draft = survey_create(
        actor=personas.manager, program=personas.program, title="Draft", send_on=survey.send_on
    )
    survey_delete(actor=personas.manager, survey=draft)
    assert not Survey.objects.filter(pk=draft.pk).exists()


# --- answering --------------------------------------------------------------------------------
def test_participant_answers_and_the_invitation_counts_as_answered(personas, invitation):
    response = survey_answer(actor=personas.participant, invitation=invitation, answers=ANSWERS)
    invitation.refresh_from_db()
    assert invitation.answered_at is not None
    rows = {(a.question.key, a.number, a.choice, a.text) for a in response.answers.all()}
    assert rows == {
        ("satisfaction", 4, "", ""),
        ("recommend", 9, "", ""),
        ("helped", None, "Meetings", ""),
        ("helped", None, "Plan", ""),
        ("format", None, "Video", ""),
        ("comment", None, "", "My partner showed me the data catalogue."),
    }
    # The audit trail says they answered, never what, and never names the response.
    event = AuditEvent.objects.get(action="survey.answered")
    assert event.target_type == "surveys.surveyinvitation"
    assert event.target_id == invitation.pk
    assert "4" not in str(event.data) and "catalogue" not in str(event.data)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"satisfaction": None}, "q_satisfaction"),
        ({"satisfaction": 6}, "q_satisfaction"),
        ({"satisfaction": "four"}, "q_satisfaction"),
        ({"recommend": -1}, "q_recommend"),
        ({"format": "Carrier pigeon"}, "q_format"),
        ({"helped": ["Meetings", "Bribes"]}, "q_helped"),
        ({"comment": "x" * 4001}, "q_comment"),
    ],
)
def test_bad_answers_are_refused_and_nothing_is_stored(personas, invitation, changes, field):
    with pytest.raises(ApplicationError) as error:
        survey_answer(
            actor=personas.participant, invitation=invitation, answers={**ANSWERS, **changes}
        )
    assert error.value.field == field
    assert not SurveyResponse.objects.exists()
    invitation.refresh_from_db()
    assert invitation.answered_at is None


@pytest.mark.parametrize("role", ["other_participant", "manager", "admin", "outsider"])
def test_nobody_answers_in_someone_elses_name(personas, invitation, role):
    with pytest.raises(PermissionDenied):
        survey_answer(actor=personas.user(role), invitation=invitation, answers=ANSWERS)
    assert not SurveyResponse.objects.exists()


def test_participant_changes_their_own_answers_in_place(personas, survey, invitation):
    first = survey_answer(actor=personas.participant, invitation=invitation, answers=ANSWERS)
    changed = survey_answer(
        actor=personas.participant,
        invitation=invitation,
        answers={**ANSWERS, "satisfaction": 2, "helped": ["Goals"], "comment": ""},
    )
    assert changed.pk == first.pk
    assert SurveyResponse.objects.count() == 1
    own = get_invitation_for(viewer=personas.participant, pk=invitation.pk)
    assert own.values["satisfaction"] == 2
    assert own.values["helped"] == ["Goals"]
    assert "comment" not in own.values
    assert AuditEvent.objects.filter(action="survey.answers_changed").count() == 1


def test_another_participants_answers_are_untouched(personas, survey, invitation):
    other = SurveyInvitationFactory(survey=survey, participant=personas.other_participant_record)
    survey_answer(actor=personas.other_participant, invitation=other, answers=ANSWERS)
    survey_answer(
        actor=personas.participant, invitation=invitation, answers={**ANSWERS, "satisfaction": 1}
    )
    theirs = get_invitation_for(viewer=personas.other_participant, pk=other.pk)
    mine = get_invitation_for(viewer=personas.participant, pk=invitation.pk)
    assert theirs.values["satisfaction"] == 4
    assert mine.values["satisfaction"] == 1
    assert SurveyResponse.objects.count() == 2


def test_answers_cannot_change_after_the_window(personas, invitation):
    survey_answer(actor=personas.participant, invitation=invitation, answers=ANSWERS)
    later = invitation.closes_on + datetime.timedelta(days=1)
    with pytest.raises(ApplicationError):
        survey_answer(
            actor=personas.participant,
            invitation=invitation,
            answers={**ANSWERS, "satisfaction": 1},
            today=later,
        )
    own = get_invitation_for(viewer=personas.participant, pk=invitation.pk, today=later)
    assert own.values["satisfaction"] == 4
    assert own.may_change is False


def test_named_responses_name_their_author(personas, named_survey):
    invitation = SurveyInvitationFactory(
        survey=named_survey, participant=personas.participant_record
    )
    response = survey_answer(actor=personas.participant, invitation=invitation, answers=ANSWERS)
    assert response.participant == personas.participant_record
    assert response.invitation == invitation
    assert response.submitted_at is not None
    assert response.respondent_key == ""


def test_database_refuses_an_anonymous_response_with_identity(personas, survey, invitation):
    survey_answer(actor=personas.participant, invitation=invitation, answers=ANSWERS)
    response = SurveyResponse.objects.get()
    response.participant = personas.participant_record
    with pytest.raises(IntegrityError), transaction.atomic():
        response.save()
    response.refresh_from_db()
    response.submitted_at = timezone.now()
    with pytest.raises(IntegrityError), transaction.atomic():
        response.save()


def test_database_refuses_an_answer_with_two_values(personas, survey, invitation):
    response = survey_answer(actor=personas.participant, invitation=invitation, answers=ANSWERS)
    question = SurveyQuestion.objects.get(survey=survey, key="satisfaction")
    with pytest.raises(IntegrityError), transaction.atomic():
        SurveyAnswer.objects.create(response=response, question=question, number=3, text="x")


# --- copying ----------------------------------------------------------------------------------
def test_surveys_copy_to_the_next_cohort_without_answers(personas, survey, invitation):
    survey_answer(actor=personas.participant, invitation=invitation, answers=ANSWERS)
    survey_add_from_template(
        actor=personas.manager, program=personas.program, template_key="pre_assessment"
    )
    personas.program.starts_on = datetime.date(2030, 1, 10)
    personas.program.save()
    cohort = ProgramFactory(starts_on=datetime.date(2030, 7, 10))
    from tests.factories import ProgramManagerFactory

    ProgramManagerFactory(program=cohort, user=personas.manager)
    assert surveys_copy(actor=personas.manager, source=personas.program, target=cohort) == 2
    copy = cohort.surveys.get(title=survey.title)
    assert copy.status == "draft"
    assert copy.send_on == survey.send_on + (cohort.starts_on - personas.program.starts_on)
    assert list(copy.questions.values_list("key", "kind")) == list(
        survey.questions.values_list("key", "kind")
    )
    assert not copy.responses.exists() and not copy.invitations.exists()
    # A second copy adds the ordinary survey again but never a second self-assessment.
    assert surveys_copy(actor=personas.manager, source=personas.program, target=cohort) == 1


def test_surveys_copy_needs_both_programs(personas, survey):
    with pytest.raises(PermissionDenied):
        surveys_copy(actor=personas.manager, source=personas.program, target=personas.other_program)
    assert not personas.other_program.surveys.exists()
