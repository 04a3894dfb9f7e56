"""Anonymity: nobody but its author ever sees an individual answer to an anonymous survey, and
no figure about fewer people than the program's threshold is shown — in selectors, pages and the
Django admin."""

import pytest
from django.core.exceptions import PermissionDenied
from django.test import override_settings
from django.urls import reverse

from peermentor.surveys import keys
from peermentor.surveys.aggregates import hidden_groups
from peermentor.surveys.models import SurveyResponse
from peermentor.surveys.selectors import (
    assessment_change,
    get_invitation_for,
    nps_summary,
    programs_survey_overview,
    response_rate,
    satisfaction_summary,
    survey_results,
)
from peermentor.surveys.services import (
    survey_add_from_template,
    survey_answer,
    survey_close,
    survey_open,
)
from tests.factories import (
    DepartmentFactory,
    ParticipantFactory,
    PersonFactory,
    SiteFactory,
    SurveyInvitationFactory,
    TrackFactory,
    UserFactory,
)
from tests.surveys.conftest import ANSWERS

pytestmark = pytest.mark.django_db


def answer_as(invitation, **changes):
    return survey_answer(
        actor=invitation.participant.person.user,
        invitation=invitation,
        answers={**ANSWERS, **changes},
    )


def respondents(make_respondent, survey, count, *, department, **changes):
    return [
        answer_as(make_respondent(survey, department=department), **changes) for _ in range(count)
    ]


def result_of(results, key):
    return next(item for item in results.questions if item.question.key == key)


# --- the rule about groups --------------------------------------------------------------------
@pytest.mark.parametrize(
    ("groups", "total", "hidden"),
    [
        ({"a": 5, "b": 5}, 10, set()),
        ({"a": 5, "b": 4}, 9, {"a", "b"}),  # b alone would be total - a
        ({"a": 9, "b": 6, "c": 2}, 17, {"b", "c"}),  # hide the smallest shown with c
        ({"a": 9, "b": 3, "c": 2}, 14, {"b", "c"}),  # b + c = 5: enough together
        ({"a": 3, "b": 1}, 4, {"a", "b"}),  # below the threshold overall
    ],
)
def test_hidden_groups_cannot_be_worked_out_by_subtraction(groups, total, hidden):
    assert hidden_groups(groups, total, 5) == hidden


# --- one survey -------------------------------------------------------------------------------
def test_results_are_suppressed_below_the_threshold(personas, survey, make_respondent):
    finance = DepartmentFactory(name="Finance")
    respondents(make_respondent, survey, 4, department=finance)
    results = survey_results(viewer=personas.manager, survey=survey)
    assert results.is_suppressed
    assert results.note == "Fewer than 5 responses: hidden to protect anonymity."
    assert results.people is None
    assert all(item.stats is None and item.texts == [] for item in results.questions)
    # Who answered is workflow data; what they answered is not.
    assert results.response_rate.answered == 4


def test_exactly_the_threshold_is_shown(personas, survey, make_respondent):
    finance = DepartmentFactory(name="Finance")
    respondents(make_respondent, survey, 5, department=finance, satisfaction=3)
    results = survey_results(viewer=personas.manager, survey=survey)
    assert not results.is_suppressed
    assert results.people == 5
    satisfaction = result_of(results, "satisfaction")
    assert satisfaction.stats.mean == 3
    assert dict(satisfaction.stats.distribution)[3] == 5
    recommend = result_of(results, "recommend")
    assert recommend.stats.score == 100.0
    helped = result_of(results, "helped")
    assert dict(helped.stats.options) == {"Meetings": 5, "Plan": 5, "Goals": 0}


def test_a_person_answering_twice_counts_once(personas, survey):
    """Five responses from four people stay hidden: the threshold counts people."""
    finance = DepartmentFactory(name="Finance")
    participants = [
        ParticipantFactory(
            program=survey.program, person=PersonFactory(user=UserFactory(), department=finance)
        )
        for _ in range(4)
    ]
    for participant in participants:
        answer_as(SurveyInvitationFactory(survey=survey, participant=participant))
    second = SurveyInvitationFactory(
        survey=survey, participant=participants[0], occurrence_key="connection:99"
    )
    answer_as(second)
    assert SurveyResponse.objects.count() == 5
    assert survey_results(viewer=personas.manager, survey=survey).is_suppressed


def test_breakdown_hides_small_groups_and_shows_exactly_threshold(
    personas, survey, make_respondent
):
    finance, legal, it = (DepartmentFactory(name=name) for name in ("Finance", "Legal", "IT"))
    respondents(make_respondent, survey, 6, department=finance, satisfaction=5)
    respondents(make_respondent, survey, 5, department=legal, satisfaction=4)
    respondents(make_respondent, survey, 5, department=it, satisfaction=2)
    respondents(make_respondent, survey, 2, department=DepartmentFactory(name="HR"), satisfaction=1)
    # Closed, so every answer counts (while open, results move in batches of the threshold).
    survey_close(actor=personas.manager, survey=survey)
    results = survey_results(viewer=personas.manager, survey=survey, breakdown="department")
    groups = {group.label: group for group in result_of(results, "satisfaction").groups}
    assert groups["HR"].is_suppressed and groups["HR"].stats is None
    assert groups["HR"].people is None
    # HR (2) alone could be worked out from the total: the smallest shown group goes too.
    hidden = {label for label, group in groups.items() if group.is_suppressed}
    assert hidden in ({"HR", "Legal"}, {"HR", "IT"})
    assert groups["Finance"].stats.mean == 5
    assert groups["Finance"].people == 6
    # The overall figure still counts everyone.
    assert result_of(results, "satisfaction").people == 18


def test_breakdown_of_exactly_threshold_groups_is_shown(personas, survey, make_respondent):
    for name in ("Finance", "Legal"):
        respondents(make_respondent, survey, 5, department=DepartmentFactory(name=name))
    results = survey_results(viewer=personas.manager, survey=survey, breakdown="department")
    groups = result_of(results, "recommend").groups
    assert [(g.label, g.people, g.is_suppressed) for g in groups] == [
        ("Finance", 5, False),
        ("Legal", 5, False),
    ]


def test_breakdown_by_site_and_track(personas, survey, make_respondent):
    site = SiteFactory(name="Leeds")
    track = TrackFactory(program=survey.program, name="Spring")
    for _ in range(5):
        invitation = make_respondent(survey, track=track)
        person = invitation.participant.person
        person.site = site
        person.save()
        answer_as(invitation)
    by_site = survey_results(viewer=personas.manager, survey=survey, breakdown="site")
    assert [g.label for g in result_of(by_site, "satisfaction").groups] == ["Leeds"]
    by_track = survey_results(viewer=personas.manager, survey=survey, breakdown="track")
    assert [g.label for g in result_of(by_track, "satisfaction").groups] == ["Spring"]


def test_free_text_shown_without_names_only_from_the_threshold(personas, survey, make_respondent):
    finance = DepartmentFactory(name="Finance")
    for number in range(5):
        invitation = make_respondent(survey, department=finance)
        answer_as(invitation, comment=f"Text {4 - number}" if number < 4 else "")
    results = survey_results(viewer=personas.manager, survey=survey)
    comment = result_of(results, "comment")
    # Four people wrote something: below the threshold, though five answered the survey.
    assert comment.is_suppressed and comment.texts == []
    answer_as(make_respondent(survey, department=finance), comment="Text 9")
    survey_close(actor=personas.manager, survey=survey)  # releases the last, smaller batch
    comment = result_of(survey_results(viewer=personas.manager, survey=survey), "comment")
    # Sorted alphabetically: the order says nothing about who wrote what, or when.
    assert comment.texts == ["Text 1", "Text 2", "Text 3", "Text 4", "Text 9"]
    assert all(isinstance(text, str) for text in comment.texts)


@pytest.mark.parametrize("role", ["participant", "outsider", "other_manager"])
def test_only_managers_read_results(personas, survey, role):
    with pytest.raises(PermissionDenied):
        survey_results(viewer=personas.user(role), survey=survey)
    with pytest.raises(PermissionDenied):
        satisfaction_summary(viewer=personas.user(role), program=personas.program)


def test_unknown_breakdown_is_refused(personas, survey):
    with pytest.raises(ValueError):
        survey_results(viewer=personas.manager, survey=survey, breakdown="person")


# --- the stored rows --------------------------------------------------------------------------
def test_an_anonymous_response_holds_no_link_to_its_author(personas, survey, invitation):
    answer_as(invitation)
    response = SurveyResponse.objects.get()
    assert response.participant_id is None
    assert response.invitation_id is None
    assert response.submitted_at is None and response.updated_at is None
    stored = " ".join(str(value) for value in response.__dict__.values())
    assert personas.participant_record.person.full_name not in stored
    # The author (and only the server on their behalf) finds it again.
    assert get_invitation_for(viewer=personas.participant, pk=invitation.pk).has_answered
    # Without the server's secret the key cannot be recomputed from the invitation's id.
    with override_settings(SECRET_KEY="someone-else-s-secret-" * 3):
        assert keys.respondent_key(invitation.pk) != response.respondent_key
        assert not get_invitation_for(viewer=personas.participant, pk=invitation.pk).has_answered


def test_rotating_the_secret_keeps_authors_answers(personas, survey, invitation, settings):
    answer_as(invitation, satisfaction=2)
    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]
    settings.SECRET_KEY = "a-new-secret-for-this-test-" * 3
    own = get_invitation_for(viewer=personas.participant, pk=invitation.pk)
    assert own.values["satisfaction"] == 2
    answer_as(invitation, satisfaction=3)
    settings.SECRET_KEY_FALLBACKS = []
    # The change re-keyed the row under the new secret.
    assert (
        get_invitation_for(viewer=personas.participant, pk=invitation.pk).values["satisfaction"]
        == 3
    )
    assert SurveyResponse.objects.count() == 1


def test_django_admin_never_shows_anonymous_responses(
    client, personas, survey, invitation, named_survey
):
    personas.admin.is_staff = True
    personas.admin.is_superuser = True
    personas.admin.save()
    anonymous = answer_as(invitation, comment="Secret anonymous comment")
    named_invitation = SurveyInvitationFactory(
        survey=named_survey, participant=personas.other_participant_record
    )
    named = answer_as(named_invitation, comment="Named comment")
    client.force_login(personas.admin)
    listing = client.get(reverse("admin:surveys_surveyresponse_changelist")).content.decode()
    assert str(named.pk) in listing
    assert str(anonymous.pk) not in listing
    hand_typed = client.get(
        reverse("admin:surveys_surveyresponse_change", args=[anonymous.pk]), follow=True
    )
    assert "Secret anonymous comment" not in hand_typed.content.decode()
    detail = client.get(reverse("admin:surveys_surveyresponse_change", args=[named.pk]))
    assert "Named comment" in detail.content.decode()
    # Answers have no admin of their own.
    assert client.get("/django-admin/surveys/surveyanswer/").status_code == 404


# --- program measures -------------------------------------------------------------------------
def test_satisfaction_and_nps_summaries(personas, survey, make_respondent):
    finance = DepartmentFactory(name="Finance")
    respondents(make_respondent, survey, 3, department=finance, satisfaction=5, recommend=10)
    assert satisfaction_summary(viewer=personas.manager, program=personas.program).is_suppressed
    respondents(make_respondent, survey, 2, department=finance, satisfaction=2, recommend=3)
    rating = satisfaction_summary(viewer=personas.manager, program=personas.program)
    assert (rating.people, rating.mean) == (5, 3.8)
    recommend = nps_summary(viewer=personas.admin, program=personas.program)
    assert (recommend.stats.promoters, recommend.stats.detractors, recommend.score) == (3, 2, 20.0)
    by_department = nps_summary(
        viewer=personas.admin, program=personas.program, breakdown="department"
    )
    assert [(g.label, g.people) for g in by_department.groups] == [("Finance", 5)]
    rate = response_rate(viewer=personas.manager, program=personas.program)
    assert (rate.invited, rate.answered, rate.rate_percent) == (5, 5, 100.0)


def test_track_filter_applies_the_threshold_to_the_filtered_group(
    personas, survey, make_respondent
):
    track = TrackFactory(program=survey.program)
    finance = DepartmentFactory(name="Finance")
    respondents(make_respondent, survey, 5, department=finance)
    for _ in range(2):
        answer_as(make_respondent(survey, department=finance, track=track))
    summary = satisfaction_summary(
        viewer=personas.manager, program=personas.program, track_id=track.pk
    )
    assert summary.is_suppressed and summary.mean is None


def test_pre_post_change_pairs_only_people_who_answered_both(personas, make_respondent):
    program = personas.program
    before = survey_open(
        actor=personas.manager,
        survey=survey_add_from_template(
            actor=personas.manager, program=program, template_key="pre_assessment"
        ),
    )
    after = survey_open(
        actor=personas.manager,
        survey=survey_add_from_template(
            actor=personas.manager, program=program, template_key="post_assessment"
        ),
    )
    scale = {"confidence": 2, "skills": 2, "belonging": 3, "network": 1}

    def both(pre, post):
        invitation = make_respondent(before)
        participant = invitation.participant
        survey_answer(actor=participant.person.user, invitation=invitation, answers=pre)
        later = SurveyInvitationFactory(
            survey=after, participant=participant, occurrence_key="connection:1"
        )
        survey_answer(actor=participant.person.user, invitation=later, answers=post)

    for _ in range(4):
        both(scale, {**scale, "confidence": 4, "network": 3})
    # Only "before": not paired, not counted.
    only_before = make_respondent(before)
    survey_answer(actor=only_before.participant.person.user, invitation=only_before, answers=scale)
    change = assessment_change(viewer=personas.manager, program=program)
    assert change.has_surveys and change.is_suppressed
    assert all(dimension.mean_change is None for dimension in change.dimensions)
    both(scale, {**scale, "confidence": 5, "network": 1})
    # Closed, so every answer counts (while open, results move in batches of the threshold).
    survey_close(actor=personas.manager, survey=before)
    survey_close(actor=personas.manager, survey=after)
    change = assessment_change(viewer=personas.manager, program=program)
    assert not change.is_suppressed and change.pairs == 5
    dimensions = {dimension.key: dimension for dimension in change.dimensions}
    assert dimensions["confidence"].mean_before == 2
    assert dimensions["confidence"].mean_after == 4.2
    assert dimensions["confidence"].mean_change == 2.2
    assert dimensions["confidence"].improved_percent == 100.0
    assert dimensions["network"].improved_percent == 80.0
    assert dimensions["belonging"].mean_change == 0


def test_overview_across_programs_leaves_out_programs_the_viewer_does_not_manage(
    personas, survey, make_respondent
):
    respondents(make_respondent, survey, 5, department=DepartmentFactory(name="Finance"))
    programs = [personas.program, personas.other_program]
    mine = programs_survey_overview(viewer=personas.manager, programs=programs)
    assert set(mine) == {personas.program.pk}
    assert mine[personas.program.pk].satisfaction.mean == 4
    assert mine[personas.program.pk].nps.score == 100.0
    everything = programs_survey_overview(viewer=personas.admin, programs=programs)
    assert everything[personas.other_program.pk].satisfaction.is_suppressed
    assert programs_survey_overview(viewer=personas.participant, programs=programs) == {}


# --- anonymity over time ----------------------------------------------------------------------
def _page(client, survey):
    response = client.get(reverse("survey_results", args=[survey.pk]))
    assert response.status_code == 200
    return response.content.decode()


def _visible(results):
    return [(item.people, item.stats, item.texts) for item in results.questions]


def test_one_more_answer_does_not_change_what_the_manager_sees(
    client, personas, survey, make_respondent
):
    finance = DepartmentFactory(name="Finance")
    respondents(make_respondent, survey, 5, department=finance, satisfaction=4, recommend=9)
    before = survey_results(viewer=personas.manager, survey=survey)
    assert not before.is_suppressed and before.people == 5
    # She answers: her rating, her score and her words must not be readable from a difference.
    answer_as(
        make_respondent(survey, department=finance),
        satisfaction=1,
        recommend=0,
        comment="Only she would write this.",
    )
    after = survey_results(viewer=personas.manager, survey=survey)
    assert _visible(after) == _visible(before)
    assert after.people == 5 and after.waiting_people == 1
    assert after.response_rate.answered == 6  # that someone answered is workflow data
    client.force_login(personas.manager)
    assert "Only she would write this." not in _page(client, survey)


def test_results_move_in_batches_of_the_threshold_and_all_at_close(
    personas, survey, make_respondent
):
    from peermentor.surveys.services import survey_close

    finance = DepartmentFactory(name="Finance")
    respondents(make_respondent, survey, 9, department=finance)
    assert survey_results(viewer=personas.manager, survey=survey).people == 5
    respondents(make_respondent, survey, 1, department=finance, comment="The tenth.")
    tenth = survey_results(viewer=personas.manager, survey=survey)
    assert tenth.people == 10 and tenth.waiting_people == 0
    assert "The tenth." in result_of(tenth, "comment").texts
    respondents(make_respondent, survey, 1, department=finance, comment="The eleventh.")
    assert (
        "The eleventh."
        not in result_of(survey_results(viewer=personas.manager, survey=survey), "comment").texts
    )
    survey_close(actor=personas.manager, survey=survey)
    survey.refresh_from_db()
    closed = survey_results(viewer=personas.manager, survey=survey)
    assert closed.people == 11 and "The eleventh." in result_of(closed, "comment").texts


def test_the_admin_shows_nobody_when_a_person_answered(
    admin_client, personas, survey, make_respondent
):
    invitation = make_respondent(survey, department=DepartmentFactory(name="Finance"))
    answer_as(invitation)
    listing = admin_client.get(reverse("admin:surveys_surveyinvitation_changelist"))
    assert listing.status_code == 200
    assert "answered" not in listing.content.decode().lower()
    page = admin_client.get(
        reverse("admin:surveys_surveyinvitation_change", args=[invitation.pk])
    ).content.decode()
    assert "Answered at" not in page and "answered_at" not in page
