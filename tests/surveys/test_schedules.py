import datetime

import pytest
from django.core.management import call_command
from django.db import connection as db_connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from peermentor.connections.models import Connection
from peermentor.connections.services import connection_propose
from peermentor.engagement.services import connection_activate, connection_complete
from peermentor.notifications.models import Notification
from peermentor.surveys.models import SurveyInvitation
from peermentor.surveys.schedules import surveys_send_due
from peermentor.surveys.services import (
    survey_add_from_template,
    survey_answer,
    survey_close,
    survey_open,
)
from peermentor.surveys.tasks import send_surveys_task
from tests.factories import ParticipantFactory, PersonFactory, UserFactory
from tests.surveys.conftest import ANSWERS, build_survey

pytestmark = pytest.mark.django_db

NOW = timezone.now()


def peer(program):
    return ParticipantFactory(program=program, person=PersonFactory(user=UserFactory()))


@pytest.fixture
def make_active_pair(personas):
    def make(started_days_ago, *, planned_end_in_days=None):
        first, second = peer(personas.program), peer(personas.program)
        pair = connection_propose(
            actor=personas.manager,
            program=personas.program,
            members=[(first, "peer"), (second, "peer")],
            kind="pair",
            source="manual",
        )
        pair = connection_activate(actor=personas.manager, connection=pair)
        changes = {"started_at": NOW - datetime.timedelta(days=started_days_ago)}
        if planned_end_in_days is not None:
            changes["planned_end_on"] = NOW.date() + datetime.timedelta(days=planned_end_in_days)
        Connection.objects.filter(pk=pair.pk).update(**changes)
        pair.refresh_from_db()
        return pair, first, second

    return make


def from_template(personas, key):
    survey = survey_add_from_template(
        actor=personas.manager, program=personas.program, template_key=key
    )
    return survey_open(actor=personas.manager, survey=survey)


def invited(survey):
    return set(
        SurveyInvitation.objects.filter(survey=survey).values_list(
            "participant_id", "occurrence_key"
        )
    )


# --- on a date --------------------------------------------------------------------------------
def test_on_date_asks_every_enrolled_participant_once_and_tells_them(personas, survey):
    withdrawn = ParticipantFactory(program=personas.program, status="withdrawn")
    no_account = ParticipantFactory(program=personas.program, person=PersonFactory(user=None))
    result = surveys_send_due(now=NOW)
    expected = {
        (personas.participant_record.pk, "program"),
        (personas.other_participant_record.pk, "program"),
    }
    assert invited(survey) == expected
    assert result.invitations_created == 2
    assert result.notified == 2
    assert not SurveyInvitation.objects.filter(participant__in=[withdrawn, no_account]).exists()
    note = Notification.objects.get(recipient=personas.participant)
    invitation = SurveyInvitation.objects.get(participant=personas.participant_record)
    assert note.url == f"/surveys/invitations/{invitation.pk}/"
    assert survey.title in note.title
    assert note.kind == "survey_due"
    assert invitation.closes_on == invitation.due_on + datetime.timedelta(days=survey.open_days)


def test_a_second_run_sends_nothing_twice(personas, survey):
    surveys_send_due(now=NOW)
    again = surveys_send_due(now=NOW + datetime.timedelta(minutes=5))
    assert (again.invitations_created, again.notified, again.reminded) == (0, 0, 0)
    assert SurveyInvitation.objects.count() == 2
    assert Notification.objects.count() == 2


def test_nothing_before_the_date_nor_for_drafts_or_closed_surveys(personas):
    future = build_survey(personas.manager, personas.program, title="Later")
    future.send_on = NOW.date() + datetime.timedelta(days=3)
    future.save()
    draft = build_survey(personas.manager, personas.program, title="Draft", open_it=False)
    closed = build_survey(personas.manager, personas.program, title="Closed")
    survey_close(actor=personas.manager, survey=closed)
    surveys_send_due(now=NOW)
    assert not SurveyInvitation.objects.exists()
    assert draft.status == "draft"


def test_a_late_joiner_is_asked_on_the_next_run(personas, survey):
    surveys_send_due(now=NOW)
    late = peer(personas.program)
    result = surveys_send_due(now=NOW + datetime.timedelta(hours=1))
    assert result.invitations_created == 1
    assert (late.pk, "program") in invited(survey)


# --- relative to a connection -----------------------------------------------------------------
def test_pulse_30_days_after_start_asks_both_members_of_due_connections(personas, make_active_pair):
    pulse = from_template(personas, "pulse_30")
    due, first, second = make_active_pair(31)
    make_active_pair(10)  # too early
    make_active_pair(100)  # its 30th day passed long ago: not asked now
    surveys_send_due(now=NOW)
    key = f"connection:{due.pk}"
    assert invited(pulse) == {(first.pk, key), (second.pk, key)}
    invitation = SurveyInvitation.objects.get(participant=first)
    assert invitation.connection == due
    assert invitation.due_on == due.started_at.date() + datetime.timedelta(days=30)


def test_mid_point_halfway_between_start_and_planned_end(personas, make_active_pair):
    review = from_template(personas, "mid_point")
    halfway, first, second = make_active_pair(50, planned_end_in_days=50)
    make_active_pair(10, planned_end_in_days=90)
    surveys_send_due(now=NOW)
    key = f"connection:{halfway.pk}"
    assert invited(review) == {(first.pk, key), (second.pk, key)}


def test_closing_survey_at_closure_and_post_assessment_with_it(personas, make_active_pair):
    closing = from_template(personas, "closing")
    after = from_template(personas, "post_assessment")
    pair, first, second = make_active_pair(90)
    make_active_pair(90)  # still running
    connection_complete(actor=personas.manager, connection=pair)
    surveys_send_due(now=timezone.now())
    key = f"connection:{pair.pk}"
    assert invited(closing) == {(first.pk, key), (second.pk, key)}
    assert invited(after) == {(first.pk, key), (second.pk, key)}


def test_pre_assessment_at_enrollment(personas):
    before = from_template(personas, "pre_assessment")
    surveys_send_due(now=NOW)
    assert invited(before) == {
        (personas.participant_record.pk, "program"),
        (personas.other_participant_record.pk, "program"),
    }


def test_pre_assessment_after_matching_asks_only_recent_joiners(personas):
    personas.program.status = "running"
    personas.program.save()
    before = from_template(personas, "pre_assessment")
    from peermentor.enrollment.models import Participant

    Participant.objects.filter(program=personas.program).update(
        enrolled_at=NOW - datetime.timedelta(days=200)
    )
    newcomer = peer(personas.program)
    surveys_send_due(now=NOW)
    assert invited(before) == {(newcomer.pk, "program")}


# --- reminders --------------------------------------------------------------------------------
def test_one_reminder_after_the_delay_for_those_who_have_not_answered(personas, survey):
    surveys_send_due(now=NOW)
    answered = SurveyInvitation.objects.get(participant=personas.other_participant_record)
    survey_answer(actor=personas.other_participant, invitation=answered, answers=ANSWERS)
    early = surveys_send_due(now=NOW + datetime.timedelta(days=survey.reminder_after_days - 1))
    assert early.reminded == 0
    later = NOW + datetime.timedelta(days=survey.reminder_after_days, hours=1)
    result = surveys_send_due(now=later)
    assert result.reminded == 1
    reminder = Notification.objects.get(dedupe_key__startswith="survey-reminder:")
    assert reminder.recipient == personas.participant
    assert surveys_send_due(now=later + datetime.timedelta(days=1)).reminded == 0


def test_no_reminder_once_the_window_closed(personas, survey):
    surveys_send_due(now=NOW)
    after_close = NOW + datetime.timedelta(days=survey.open_days + 1)
    assert surveys_send_due(now=after_close).reminded == 0


# --- scale, task and command ------------------------------------------------------------------
def test_queries_do_not_grow_with_participants(personas, survey, make_active_pair):
    from_template(personas, "pulse_30")
    make_active_pair(31)

    def count_queries():
        with CaptureQueriesContext(db_connection) as queries:
            surveys_send_due(now=NOW)
        SurveyInvitation.objects.all().delete()
        return len(queries)

    few = count_queries()
    for _ in range(15):
        peer(personas.program)
    for _ in range(5):
        make_active_pair(31)
    assert count_queries() == few


def test_task_and_command_run_the_schedule(personas, survey, capsys):
    result = send_surveys_task.enqueue()
    assert result.return_value["invitations_created"] == 2
    call_command("send_surveys")
    assert "0 invitations" in capsys.readouterr().out
