import re

import pytest
from django.urls import URLPattern, reverse
from django.utils.html import escape

from peermentor.surveys import urls as survey_urls
from peermentor.surveys.models import Survey, SurveyInvitation
from peermentor.surveys.services import survey_answer
from tests.conftest import ROLES
from tests.factories import DepartmentFactory, SurveyInvitationFactory
from tests.surveys.conftest import ANSWERS

pytestmark = pytest.mark.django_db

ALL_ROLES = [*ROLES, "other_participant"]
# The personas' program is enrolling, so every signed-in employee can see it: those who do not
# manage it get 403 on its survey pages (STYLE rule 5), the managers and admins get in.
MANAGERS = {
    "outsider": 403,
    "participant": 403,
    "other_participant": 403,
    "other_manager": 403,
    "manager": 200,
    "admin": 200,
}
MANAGERS_REDIRECTED = {**MANAGERS, "manager": 302, "admin": 302}
# An invitation is its participant's alone: everyone else, managers included, gets 404.
INVITEE = {"participant": 200}


def expect(role, table):
    if role == "anonymous":
        return 302
    return table.get(role, 404)


def args_for(name, personas, survey, invitation):
    question = survey.questions.first()
    return {
        "my_surveys": [],
        "survey_answer": [invitation.pk],
        "survey_my_answers": [invitation.pk],
        "survey_list": [personas.program.pk],
        "survey_create": [personas.program.pk],
        "survey_add_template": [personas.program.pk],
        "survey_builder": [survey.pk],
        "survey_edit": [survey.pk],
        "survey_open": [survey.pk],
        "survey_close": [survey.pk],
        "survey_delete": [survey.pk],
        "survey_question_add": [survey.pk],
        "survey_question_edit": [survey.pk, question.pk],
        "survey_question_delete": [survey.pk, question.pk],
        "survey_question_move": [survey.pk, question.pk],
        "survey_results": [survey.pk],
        "survey_responses": [survey.pk],
    }[name]


# (url name, method, table); survey_responses is checked on a named survey below.
MATRIX = [
    ("my_surveys", "get", dict.fromkeys(ALL_ROLES, 200)),
    ("survey_answer", "get", INVITEE),
    ("survey_my_answers", "get", INVITEE),
    ("survey_list", "get", MANAGERS),
    ("survey_create", "get", MANAGERS),
    ("survey_add_template", "post", {**MANAGERS, "manager": 400, "admin": 400}),
    ("survey_builder", "get", MANAGERS),
    ("survey_edit", "get", MANAGERS),
    ("survey_open", "post", MANAGERS_REDIRECTED),
    ("survey_close", "post", MANAGERS_REDIRECTED),
    ("survey_delete", "post", MANAGERS_REDIRECTED),
    ("survey_question_add", "get", MANAGERS),
    ("survey_question_edit", "get", MANAGERS),
    ("survey_question_delete", "post", MANAGERS_REDIRECTED),
    ("survey_question_move", "post", MANAGERS_REDIRECTED),
    ("survey_results", "get", MANAGERS),
]
CHECKED_ELSEWHERE = {"survey_responses"}


def test_every_survey_url_has_a_permission_test():
    names = {p.name for p in survey_urls.urlpatterns if isinstance(p, URLPattern)}
    assert names == {name for name, _, _ in MATRIX} | CHECKED_ELSEWHERE


@pytest.mark.parametrize("role", ALL_ROLES)
@pytest.mark.parametrize(("name", "method", "table"), MATRIX)
def test_survey_pages_by_role(client, personas, survey, invitation, role, name, method, table):
    if personas.user(role):
        client.force_login(personas.user(role))
    url = reverse(name, args=args_for(name, personas, survey, invitation))
    response = getattr(client, method)(url)
    assert response.status_code == expect(role, table)


@pytest.mark.parametrize("role", ALL_ROLES)
def test_named_responses_page_by_role(client, personas, named_survey, role):
    if personas.user(role):
        client.force_login(personas.user(role))
    response = client.get(reverse("survey_responses", args=[named_survey.pk]))
    assert response.status_code == expect(role, MANAGERS)


@pytest.mark.parametrize("role", ["manager", "admin"])
def test_anonymous_survey_has_no_responses_page(client, personas, survey, invitation, role):
    survey_answer(actor=personas.participant, invitation=invitation, answers=ANSWERS)
    client.force_login(personas.user(role))
    assert client.get(reverse("survey_responses", args=[survey.pk])).status_code == 404


def test_outsiders_of_a_draft_program_get_404(client, personas, survey):
    personas.program.status = "draft"
    personas.program.save()
    client.force_login(personas.outsider)
    assert client.get(reverse("survey_list", args=[personas.program.pk])).status_code == 404
    assert client.get(reverse("survey_results", args=[survey.pk])).status_code == 404


def test_unknown_ids_are_404(client, personas):
    client.force_login(personas.admin)
    assert client.get(reverse("survey_builder", args=[999999])).status_code == 404
    assert client.get(reverse("survey_answer", args=[999999])).status_code == 404


# --- participants -----------------------------------------------------------------------------
def test_participant_answers_sees_and_changes_their_answers(client, personas, survey, invitation):
    client.force_login(personas.participant)
    listing = client.get(reverse("my_surveys"))
    assert survey.title in listing.content.decode()
    page = client.get(reverse("survey_answer", args=[invitation.pk]))
    html = page.content.decode()
    assert "Anonymous." in html
    for question in survey.questions.all():
        assert question.text in html  # every question is a labelled field or legend
    data = {
        "q_satisfaction": "4",
        "q_recommend": "9",
        "q_helped": ["Meetings", "Plan"],
        "q_format": "Video",
        "q_comment": "My partner showed me the data catalogue.",
    }
    bad = client.post(reverse("survey_answer", args=[invitation.pk]), {**data, "q_recommend": ""})
    assert bad.status_code == 400
    assert "This field is required." in bad.content.decode()
    # Nothing typed is lost.
    assert "data catalogue" in bad.content.decode()
    done = client.post(reverse("survey_answer", args=[invitation.pk]), data)
    assert done.status_code == 302
    mine = client.get(reverse("survey_my_answers", args=[invitation.pk])).content.decode()
    assert "data catalogue" in mine and "Meetings, Plan" in mine
    client.post(reverse("survey_answer", args=[invitation.pk]), {**data, "q_satisfaction": "2"})
    changed = client.get(reverse("survey_answer", args=[invitation.pk])).content.decode()
    assert re.search(r'name="q_satisfaction" value="2"[^>]*checked', changed)
    assert not re.search(r'name="q_satisfaction" value="4"[^>]*checked', changed)


def test_closed_survey_shows_answers_read_only(client, personas, survey, invitation):
    survey_answer(actor=personas.participant, invitation=invitation, answers=ANSWERS)
    Survey.objects.filter(pk=survey.pk).update(status="closed")
    client.force_login(personas.participant)
    response = client.get(reverse("survey_answer", args=[invitation.pk]))
    assert response.status_code == 302
    post = client.post(reverse("survey_answer", args=[invitation.pk]), {"q_satisfaction": "1"})
    assert post.status_code == 302
    page = client.get(reverse("survey_my_answers", args=[invitation.pk])).content.decode()
    assert "answers can no longer change" in page


# --- managers ---------------------------------------------------------------------------------
def test_manager_adds_a_template_and_builds_questions(client, personas):
    client.force_login(personas.manager)
    response = client.post(
        reverse("survey_add_template", args=[personas.program.pk]), {"template_key": "closing"}
    )
    survey = Survey.objects.get(program=personas.program)
    assert response.status_code == 302
    assert response.url == reverse("survey_builder", args=[survey.pk])
    builder = client.get(response.url).content.decode()
    assert "likely are you to recommend" in builder
    bad = client.post(
        reverse("survey_question_add", args=[survey.pk]),
        {"kind": "single_choice", "text": "Which one?", "choices": "Only one", "is_required": "on"},
    )
    assert bad.status_code == 400
    assert "at least two options" in bad.content.decode()
    assert "Which one?" in bad.content.decode()
    good = client.post(
        reverse("survey_question_add", args=[survey.pk]),
        {"kind": "single_choice", "text": "Which one?", "choices": "A\nB", "is_required": "on"},
    )
    assert good.status_code == 302
    assert survey.questions.filter(text="Which one?", choices=["A", "B"]).exists()


def test_manager_creates_a_survey_with_field_errors_first(client, personas):
    client.force_login(personas.manager)
    url = reverse("survey_create", args=[personas.program.pk])
    data = {
        "title": "Pulse",
        "purpose": "pulse",
        "is_anonymous": "on",
        "audience": "participants",
        "schedule": "after_start",
        "open_days": "21",
        "reminder_after_days": "5",
    }
    bad = client.post(url, data)
    assert bad.status_code == 400
    assert "goes to the members of each connection" in bad.content.decode()
    good = client.post(url, {**data, "audience": "connection_members", "days_after_start": "30"})
    assert good.status_code == 302
    assert Survey.objects.get().days_after_start == 30


# --- anonymity in pages -----------------------------------------------------------------------
def test_results_page_hides_everything_below_the_threshold(client, personas, survey, invitation):
    survey_answer(actor=personas.participant, invitation=invitation, answers=ANSWERS)
    client.force_login(personas.manager)
    html = client.get(reverse("survey_results", args=[survey.pk])).content.decode()
    assert "Fewer than 5 responses" in html
    assert "data catalogue" not in html
    assert "Mean" not in html


def test_results_page_never_names_anonymous_authors(
    client, personas, survey, invitation, make_respondent
):
    survey_answer(actor=personas.participant, invitation=invitation, answers=ANSWERS)
    for number in range(4):
        other = make_respondent(survey)
        survey_answer(
            actor=other.participant.person.user,
            invitation=other,
            answers={**ANSWERS, "comment": f"Comment number {number}"},
        )
    client.force_login(personas.admin)
    html = client.get(reverse("survey_results", args=[survey.pk])).content.decode()
    assert "data catalogue" in html and "Comment number 3" in html
    names = [personas.participant_record.person.full_name] + [
        invitation.participant.person.full_name
        for invitation in SurveyInvitation.objects.exclude(participant=personas.participant_record)
    ]
    for name in names:
        assert escape(name) not in html


def test_results_page_queries_do_not_grow_with_responses(
    client, personas, survey, make_respondent, django_assert_max_num_queries
):
    def add(count, department):
        for _ in range(count):
            invitation = make_respondent(survey, department=department)
            survey_answer(
                actor=invitation.participant.person.user, invitation=invitation, answers=ANSWERS
            )

    add(6, DepartmentFactory(name="Finance"))
    client.force_login(personas.manager)
    url = reverse("survey_results", args=[survey.pk]) + "?breakdown=department"
    with django_assert_max_num_queries(16):
        assert client.get(url).status_code == 200
    add(20, DepartmentFactory(name="Legal"))
    with django_assert_max_num_queries(16):
        html = client.get(url).content.decode()
    assert "Legal" in html and "Finance" in html


def test_survey_list_queries_do_not_grow_with_surveys(
    client, personas, django_assert_max_num_queries
):
    from tests.surveys.conftest import build_survey

    client.force_login(personas.manager)
    build_survey(personas.manager, personas.program, title="One")
    with django_assert_max_num_queries(10):
        client.get(reverse("survey_list", args=[personas.program.pk]))
    for number in range(8):
        build_survey(personas.manager, personas.program, title=f"More {number}")
    with django_assert_max_num_queries(10):
        assert (
            "More 7"
            in client.get(reverse("survey_list", args=[personas.program.pk])).content.decode()
        )


def test_my_surveys_queries_do_not_grow_with_invitations(
    client, personas, django_assert_max_num_queries
):
    from tests.surveys.conftest import build_survey

    client.force_login(personas.participant)
    for number in range(6):
        survey = build_survey(personas.manager, personas.program, title=f"S{number}")
        SurveyInvitationFactory(survey=survey, participant=personas.participant_record)
    with django_assert_max_num_queries(6):
        assert "S5" in client.get(reverse("my_surveys")).content.decode()


def test_surveys_to_answer_lists_only_the_viewers_open_unanswered_ones(
    personas, survey, invitation
):
    from peermentor.surveys.selectors import surveys_to_answer

    SurveyInvitationFactory(survey=survey, participant=personas.other_participant_record)
    assert surveys_to_answer(viewer=personas.participant) == [invitation]
    survey_answer(actor=personas.participant, invitation=invitation, answers=ANSWERS)
    assert surveys_to_answer(viewer=personas.participant) == []
    assert surveys_to_answer(viewer=personas.manager) == []


def test_named_responses_page_queries_do_not_grow(
    client, personas, named_survey, make_respondent, django_assert_max_num_queries
):
    def add(count):
        for _ in range(count):
            invitation = make_respondent(named_survey)
            survey_answer(
                actor=invitation.participant.person.user, invitation=invitation, answers=ANSWERS
            )

    add(2)
    client.force_login(personas.manager)
    url = reverse("survey_responses", args=[named_survey.pk])
    with django_assert_max_num_queries(10):
        client.get(url)
    add(12)
    with django_assert_max_num_queries(10):
        html = client.get(url).content.decode()
    assert "Meetings; Plan" in html
    names = SurveyInvitation.objects.filter(survey=named_survey).values_list(
        "participant__person__full_name", flat=True
    )
    assert all(escape(name) in html for name in names)


def test_settings_page_locks_what_cannot_change_once_sent(client, personas, survey, invitation):
    client.force_login(personas.manager)
    url = reverse("survey_edit", args=[survey.pk])
    page = client.get(url).content.decode()
    assert re.search(r'name="is_anonymous"[^>]*disabled', page)
    response = client.post(
        url,
        {
            "title": "Renamed",
            "purpose": "closing",
            "audience": "participants",
            "schedule": "on_date",
            "send_on": survey.send_on.isoformat(),
            "open_days": "21",
            "reminder_after_days": "5",
        },
    )
    assert response.status_code == 302
    survey.refresh_from_db()
    # The unticked (disabled) box and the new purpose were ignored, the title was not.
    assert (survey.title, survey.is_anonymous, survey.purpose) == ("Renamed", True, "custom")
