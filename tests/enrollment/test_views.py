import re

import pytest
from django.urls import reverse
from django.utils import timezone

from peermentor.enrollment.models import Answer, Invitation, Participant, TrainingCompletion
from peermentor.enrollment.selectors import participant_home_context
from peermentor.enrollment.services import answers_save, participant_enroll
from peermentor.enrollment.tokens import invitation_token
from tests.enrollment.conftest import complete_answers
from tests.factories import (
    PASSWORD,
    AnswerFactory,
    DepartmentFactory,
    InvitationFactory,
    ParticipantFactory,
    PersonFactory,
    ProfileQuestionFactory,
    ProgramFactory,
    TrainingCompletionFactory,
    TrainingModuleFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def profile_post(**overrides):
    data = {
        "goal": "Learn",
        "skills_offered": ["Python", "SQL"],
        "availability__time_zone": "Europe/Paris",
        "availability__day_0": "1",
        "availability__start_0": "12:00",
        "availability__end_0": "13:00",
        "about": "",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


# --- enroll page ------------------------------------------------------------------------------
def test_enroll_page_says_what_will_happen_then_enrolls(client, program, employee):
    client.force_login(employee.user)
    url = reverse("program_enroll", args=[program.pk])
    page = client.get(url).content.decode()
    assert "What happens when you enroll" in page
    assert "3 profile questions" in page and "2 short training modules" in page

    response = client.post(url)
    participant = Participant.objects.get(person=employee)
    assert response.status_code == 302
    assert response["Location"] == reverse("participation_profile", args=[participant.pk])


def test_enroll_page_names_the_line_manager_who_approves(client, program, employee):
    program.needs_manager_approval = True
    program.save()
    client.force_login(employee.user)
    page = client.get(reverse("program_enroll", args=[program.pk])).content.decode()
    assert "Your manager, Lee Manager, or the program manager approves" in page


def test_enroll_page_explains_ineligibility_and_a_post_changes_nothing(client, program, employee):
    program.eligibility = {"department_ids": [DepartmentFactory(name="Legal").pk]}
    program.save()
    client.force_login(employee.user)
    url = reverse("program_enroll", args=[program.pk])
    page = client.get(url).content.decode()
    assert "You cannot join this program" in page
    assert "is not one this program is open to" in page
    assert client.post(url).status_code == 403
    assert not Participant.objects.exists()


def test_shadowing_asks_for_a_role_and_a_bad_one_is_a_field_error(client, employee):
    program = ProgramFactory(format="shadowing", default_capacity=2)
    client.force_login(employee.user)
    url = reverse("program_enroll", args=[program.pk])
    response = client.post(url, {"role": "peer"})
    assert response.status_code == 200
    assert "role" in response.context["form"].errors
    client.post(url, {"role": "host"})
    participant = Participant.objects.get()
    assert (participant.role, participant.capacity) == ("host", 2)


def test_enroll_page_links_an_existing_participation(client, program, employee):
    participant = participant_enroll(actor=employee.user, program=program)
    client.force_login(employee.user)
    page = client.get(reverse("program_enroll", args=[program.pk])).content.decode()
    assert "You are already taking part" in page
    assert reverse("participation_detail", args=[participant.pk]) in page


# --- profile ----------------------------------------------------------------------------------
@pytest.fixture
def enrolled(program, employee):
    return participant_enroll(actor=employee.user, program=program)


def test_profile_form_saves_every_kind_of_answer(client, enrolled):
    client.force_login(enrolled.person.user)
    url = reverse("participation_profile", args=[enrolled.pk])
    page = client.get(url).content.decode()
    assert "Skills you could share" in page and "Your time zone" in page
    assert 'value="Europe/London" selected' in page  # The person's own zone by default.
    assert "Department" not in re.sub(r"<p class=\"muted\">.*?</p>", "", page, flags=re.S)

    response = client.post(url, profile_post(about="Maps"))
    assert response.status_code == 302
    answers = {answer.question.key: answer for answer in Answer.objects.select_related("question")}
    assert answers["availability"].value == [{"day": 1, "start": "12:00", "end": "13:00"}]
    assert answers["availability"].time_zone == "Europe/Paris"
    assert answers["about"].value == "Maps"
    enrolled.refresh_from_db()
    assert enrolled.is_profile_complete


def test_profile_errors_show_beside_fields_and_keep_what_was_typed(client, enrolled):
    client.force_login(enrolled.person.user)
    url = reverse("participation_profile", args=[enrolled.pk])
    response = client.post(
        url,
        profile_post(
            goal=None,
            about="Keep me",
            availability__start_0="14:00",
            availability__end_0="13:00",
            availability__day_1="3",
        ),
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert "goal" in errors
    assert (
        "On Tuesday the end time must be after the start time." in errors["availability__time_zone"]
    )
    assert "availability__day_1" not in errors and "availability__start_1" in errors
    assert "Keep me" in response.content.decode()
    assert not Answer.objects.exists()


def test_the_profile_form_shows_saved_answers(client, enrolled):
    answers_save(actor=enrolled.person.user, participant=enrolled, data=complete_answers())
    client.force_login(enrolled.person.user)
    form = client.get(reverse("participation_profile", args=[enrolled.pk])).context["form"]
    assert form.initial["goal"] == "Learn"
    assert form.initial["skills_offered"] == ["Python", "SQL"]
    assert form.initial["availability__day_0"] == "1"
    assert form.initial["availability__time_zone"] == "Europe/Paris"


# --- training ---------------------------------------------------------------------------------
def test_acknowledging_a_module_needs_the_box_ticked(client, enrolled):
    module = enrolled.program.training_modules.get(title="Being a good peer")
    client.force_login(enrolled.person.user)
    url = reverse("participation_training", args=[enrolled.pk, module.pk])
    assert "Read this before you are matched." in client.get(url).content.decode()
    assert client.post(url, {}).status_code == 200
    assert not TrainingCompletion.objects.exists()
    assert client.post(url, {"has_read": "on"}).status_code == 302
    assert TrainingCompletion.objects.filter(module=module).exists()


def test_a_failed_quiz_shows_the_score_and_the_wrong_answers(client, enrolled):
    module = enrolled.program.training_modules.get(title="Peer check")
    client.force_login(enrolled.person.user)
    url = reverse("participation_training", args=[enrolled.pk, module.pk])
    response = client.post(url, {"question_0": "1", "question_1": "1", "question_2": "0"})
    page = response.content.decode()
    assert response.status_code == 200
    assert "You scored 33%; the pass mark is 67%." in page
    assert page.count("This answer was wrong.") == 2
    assert not TrainingCompletion.objects.exists()

    response = client.post(url, {"question_0": "1", "question_1": "0", "question_2": "1"})
    assert response.status_code == 302
    assert TrainingCompletion.objects.get(module=module).score_percent == 100


def test_a_quiz_answer_outside_the_choices_is_a_field_error(client, enrolled):
    module = enrolled.program.training_modules.get(title="Peer check")
    client.force_login(enrolled.person.user)
    url = reverse("participation_training", args=[enrolled.pk, module.pk])
    response = client.post(url, {"question_0": "7", "question_1": "x"})
    assert response.status_code == 200
    assert set(response.context["form"].errors) == {"question_0", "question_1", "question_2"}


# --- my participation ---------------------------------------------------------------------------
def test_participation_page_shows_progress_and_answers_to_the_owner(client, enrolled):
    answers_save(actor=enrolled.person.user, participant=enrolled, data=complete_answers())
    client.force_login(enrolled.person.user)
    page = client.get(reverse("participation_detail", args=[enrolled.pk])).content.decode()
    assert "Finish your training" in page
    assert "0 of 3 done" in page
    assert "Python, SQL" in page
    assert "Tue 12:00 to 13:00 (Europe/Paris)" in page


def test_a_line_manager_sees_the_request_but_not_the_answers(client, program, employee):
    program.needs_manager_approval = True
    program.save()
    participant = participant_enroll(actor=employee.user, program=program)
    answers_save(actor=employee.user, participant=participant, data=complete_answers())
    client.force_login(employee.manager.user)
    url = reverse("participation_detail", args=[participant.pk])
    page = client.get(url).content.decode()
    assert "Approve this enrollment" in page
    assert "Python, SQL" not in page and "Skills you could share" not in page

    response = client.post(
        reverse("participation_decide", args=[participant.pk]),
        {"decision": "decline", "reason": ""},
    )
    assert response.status_code == 302
    participant.refresh_from_db()
    assert participant.status == "pending_approval"  # A decline needs a reason.
    client.post(
        reverse("participation_decide", args=[participant.pk]),
        {"decision": "decline", "reason": "Busy quarter"},
    )
    participant.refresh_from_db()
    assert participant.status == "declined"


def test_another_participant_never_sees_my_answers(client, enrolled):
    answers_save(actor=enrolled.person.user, participant=enrolled, data=complete_answers())
    other = ParticipantFactory(program=enrolled.program)
    client.force_login(other.person.user)
    for name in ("participation_detail", "participation_profile", "participation_withdraw"):
        response = client.get(reverse(name, args=[enrolled.pk]))
        assert response.status_code == 404
        assert "Python" not in response.content.decode()


def test_the_decide_form_returns_only_to_local_pages(client, personas):
    participant = personas.participant_record
    participant.status = "pending_approval"
    participant.save()
    client.force_login(personas.manager)
    url = reverse("participation_decide", args=[participant.pk])
    response = client.post(url, {"decision": "approve", "next": "https://evil.example/"})
    assert response["Location"] == reverse("participation_detail", args=[participant.pk])


def test_withdrawing_from_the_page(client, enrolled):
    client.force_login(enrolled.person.user)
    url = reverse("participation_withdraw", args=[enrolled.pk])
    assert client.post(url, {"reason": ""}).status_code == 302
    enrolled.refresh_from_db()
    assert enrolled.status == "withdrawn"
    assert client.post(url, {"reason": ""}).status_code == 200  # Already withdrawn: an error.


def test_a_manager_withdrawing_someone_must_give_a_reason(client, personas):
    client.force_login(personas.manager)
    url = reverse("participation_withdraw", args=[personas.participant_record.pk])
    response = client.post(url, {"reason": ""})
    assert response.status_code == 200 and "reason" in response.context["form"].errors


# --- the participant list -----------------------------------------------------------------------
def test_participant_list_shows_status_and_what_is_missing(client, program, program_manager):
    ProgramFactory()  # Another program's participants stay out.
    missing_all = ParticipantFactory(program=program, person__full_name="Alma Missing")
    almost = ParticipantFactory(program=program, person__full_name="Bea Almost")
    for question in program.questions.filter(is_required=True):
        AnswerFactory(participant=almost, question=question)
    for module in program.training_modules.filter(is_required=True)[:1]:
        TrainingCompletionFactory(participant=almost, module=module)
    ParticipantFactory(program=program, person__full_name="Cy Pending", status="pending_approval")
    client.force_login(program_manager)
    response = client.get(reverse("participant_list", args=[program.pk]))
    rows = {
        participant.person.full_name: missing for participant, missing in response.context["rows"]
    }
    assert rows["Alma Missing"] == [
        "Profile: 3 required questions unanswered",
        "Training: 2 of 2 modules left",
    ]
    assert rows["Bea Almost"] == ["Training: 1 of 2 modules left"]
    assert rows["Cy Pending"][0] == "Waiting for approval"
    assert missing_all.pk != almost.pk


def test_participant_list_filters(client, program, program_manager):
    ready = ParticipantFactory(
        program=program,
        person__full_name="Rita Ready",
        is_profile_complete=True,
        is_training_complete=True,
        ready_at=timezone.now(),
    )
    ParticipantFactory(program=program, person__full_name="Nora Notready")
    ParticipantFactory(program=program, person__full_name="Wes Gone", status="withdrawn")
    client.force_login(program_manager)
    url = reverse("participant_list", args=[program.pk])

    def names(**params):
        response = client.get(url, params)
        return [participant.person.full_name for participant, _ in response.context["rows"]]

    assert names() == ["Nora Notready", "Rita Ready", "Wes Gone"]
    assert names(readiness="ready") == ["Rita Ready"]
    assert names(readiness="not_ready", status="enrolled") == ["Nora Notready"]
    assert names(status="withdrawn") == ["Wes Gone"]
    assert names(search="rita") == [ready.person.full_name]
    assert names(status="bogus") == ["Nora Notready", "Rita Ready", "Wes Gone"]


def test_participant_list_queries_do_not_grow_with_participants(
    client, program, program_manager, django_assert_max_num_queries
):
    def add_participants(count):
        for _ in range(count):
            participant = ParticipantFactory(program=program, status="pending_approval")
            AnswerFactory(participant=participant, question=program.questions.first())
            TrainingCompletionFactory(
                participant=participant, module=program.training_modules.first()
            )

    client.force_login(program_manager)
    url = reverse("participant_list", args=[program.pk])
    add_participants(2)
    # 14 for the participants, 2 for the people invited who have not enrolled (count, page).
    with django_assert_max_num_queries(16) as few:
        client.get(url)
    add_participants(30)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(url)
    assert len(response.context["rows"]) == 32


def test_participant_list_paginates(client, program, program_manager):
    for _ in range(55):
        ParticipantFactory(program=program)
    client.force_login(program_manager)
    url = reverse("participant_list", args=[program.pk])
    assert len(client.get(url).context["rows"]) == 50
    second = client.get(url, {"page": 2, "status": "enrolled"})
    assert len(second.context["rows"]) == 5
    assert client.get(url, {"page": "last"}).status_code == 200


def test_approving_from_the_list_returns_to_it(client, program, program_manager):
    pending = ParticipantFactory(program=program, status="pending_approval")
    client.force_login(program_manager)
    list_url = reverse("participant_list", args=[program.pk]) + "?status=pending_approval"
    response = client.post(
        reverse("participation_decide", args=[pending.pk]),
        {"decision": "approve", "next": list_url},
    )
    assert response["Location"] == list_url
    pending.refresh_from_db()
    assert pending.status == "enrolled"


# --- invitations --------------------------------------------------------------------------------
def test_invite_page_previews_then_sends(
    client, program, program_manager, mailoutbox, django_capture_on_commit_callbacks
):
    sales = DepartmentFactory(name="Sales")
    for _ in range(3):
        PersonFactory(department=sales)
    PersonFactory()
    client.force_login(program_manager)
    url = reverse("program_invite", args=[program.pk])
    preview = client.post(url, {"departments": [sales.pk], "action": "preview"})
    assert "3 people will be invited." in preview.content.decode()
    assert "Send 3 invitations" in preview.content.decode()
    assert not Invitation.objects.exists()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"departments": [sales.pk], "action": "send"})
    assert response.status_code == 302
    assert Invitation.objects.count() == 3
    assert len(mailoutbox) == 3


def test_invite_page_reports_a_closed_program(client, program, program_manager):
    program.status = "matching"
    program.save()
    client.force_login(program_manager)
    url = reverse("program_invite", args=[program.pk])
    response = client.post(url, {"action": "send"})
    assert response.status_code == 409
    assert "Open enrollment before sending invitations." in response.content.decode()


def test_invite_form_refuses_unknown_filter_values(client, program, program_manager):
    client.force_login(program_manager)
    response = client.post(
        reverse("program_invite", args=[program.pk]),
        {"departments": ["999"], "levels": ["L99"], "action": "send"},
    )
    assert response.status_code == 200
    assert {"departments", "levels"} <= set(response.context["form"].errors)


# --- invitation links ---------------------------------------------------------------------------
def test_a_new_person_sets_a_password_and_lands_on_the_enroll_page(client, program):
    person = PersonFactory(email="newbie@example.org", full_name="New Bie")
    url = reverse(
        "invitation_accept",
        args=[invitation_token(InvitationFactory(program=program, person=person))],
    )
    page = client.get(url).content.decode()
    assert "Choose a password" in page
    response = client.post(
        url, {"new_password1": "a-long-secret-phrase", "new_password2": "a-long-secret-phrase"}
    )
    assert response["Location"] == reverse("program_enroll", args=[program.pk])
    person.refresh_from_db()
    assert person.user is not None
    assert client.get(reverse("program_enroll", args=[program.pk])).status_code == 200


def test_mismatched_passwords_are_a_field_error(client, program):
    invitation = InvitationFactory(program=program, person=PersonFactory())
    url = reverse("invitation_accept", args=[invitation_token(invitation)])
    response = client.post(url, {"new_password1": "a-long-secret-phrase", "new_password2": "x"})
    assert response.status_code == 200
    assert "new_password2" in response.context["form"].errors


def test_someone_with_a_password_is_sent_to_sign_in_first(client, program, employee):
    url = reverse(
        "invitation_accept",
        args=[invitation_token(InvitationFactory(program=program, person=employee))],
    )
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    client.post(reverse("login"), {"username": "ana@example.org", "password": PASSWORD})
    assert client.get(url)["Location"] == reverse("program_enroll", args=[program.pk])


def test_an_invitation_for_someone_else_is_refused(client, program, employee):
    invitation = InvitationFactory(program=program, person=PersonFactory())
    client.force_login(employee.user)
    response = client.get(reverse("invitation_accept", args=[invitation_token(invitation)]))
    assert response.status_code == 403


def test_bad_invitation_links(client, program, employee):
    assert client.get(reverse("invitation_accept", args=["garbage"])).status_code == 404


# --- home ---------------------------------------------------------------------------------------
def test_home_context_lists_my_programs_with_next_steps_and_open_programs(
    program, employee, django_assert_max_num_queries
):
    participant_enroll(actor=employee.user, program=program)
    eligible = ProgramFactory(name="Open to me")
    ProgramFactory(name="Not for me", eligibility={"levels": ["L9"]})
    ProgramFactory(name="Draft", status="draft")
    ProgramFactory(name="Invitation only", is_self_enrollment_open=False)
    invited_only = ProgramFactory(name="Invited", is_self_enrollment_open=False)
    InvitationFactory(program=invited_only, person=employee)
    ProfileQuestionFactory(program=eligible)

    with django_assert_max_num_queries(6):
        context = participant_home_context(user=employee.user)

    assert context["template"] == "enrollment/participant_home.html"
    assert [(item.program.name, step) for item, step in context["participations"]] == [
        ("Skills Exchange", "Complete your profile")
    ]
    assert sorted((item.program.name, item.is_invited) for item in context["open_programs"]) == [
        ("Invited", True),
        ("Open to me", False),
    ]


def test_home_lists_approvals_waiting_for_a_line_manager(client, program, employee):
    program.needs_manager_approval = True
    program.save()
    participant_enroll(actor=employee.user, program=program)
    context = participant_home_context(user=employee.manager.user)
    assert [item.person for item in context["approvals"]] == [employee]
    assert context["approvals_count"] == 1


def test_home_without_a_directory_entry_explains_why(client):
    context = participant_home_context(user=UserFactory())
    assert context["person"] is None and context["open_programs"] == []


def test_a_line_manager_cannot_open_a_report_s_enrollment_without_approval(
    client, program, employee
):
    # The program enrolls without a manager's approval: the line manager has no part in it.
    assert not program.needs_manager_approval
    participant = participant_enroll(actor=employee.user, program=program)
    client.force_login(employee.manager.user)
    for name in ("participation_detail", "participation_withdraw"):
        assert client.get(reverse(name, args=[participant.pk])).status_code == 404


def test_a_line_manager_sees_only_what_approval_needs(client, program, employee):
    program.needs_manager_approval = True
    program.save()
    TrainingModuleFactory(program=program, title="Listening well")
    participant = participant_enroll(actor=employee.user, program=program)
    client.force_login(employee.manager.user)
    page = client.get(reverse("participation_detail", args=[participant.pk])).content.decode()
    assert "Approve this enrollment" in page
    assert "Ana Example" in page
    # Training progress is between the participant and the program's managers.
    assert "Listening well" not in page


def test_participant_list_shows_people_invited_who_have_not_enrolled(
    client, program, program_manager, django_capture_on_commit_callbacks
):
    """Issue 12: 15 invited, 13 listed, and no way to send the invitation again."""
    from django.core import mail

    from peermentor.enrollment.models import Invitation
    from tests.factories import PersonFactory

    program.status = "enrolling"
    program.save()
    waiting = PersonFactory(full_name="Wendy Waiting")
    Invitation.objects.create(program=program, person=waiting)
    enrolled = ParticipantFactory(program=program)
    Invitation.objects.create(program=program, person=enrolled.person)
    client.force_login(program_manager)
    url = reverse("participant_list", args=[program.pk])

    page = client.get(url).content.decode()
    assert "Invited, not enrolled yet" in page and "Wendy Waiting" in page
    invited_only = client.get(url, {"status": "invited"})
    assert [i.person.full_name for i in invited_only.context["invited"]] == ["Wendy Waiting"]
    assert enrolled.person.full_name not in invited_only.content.decode()

    invitation = Invitation.objects.get(person=waiting)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("invitation_resend", args=[invitation.pk]))
    assert response.status_code == 302
    assert [message.to for message in mail.outbox] == [[waiting.email]]
