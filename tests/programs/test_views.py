"""What people see and do on the program pages and the admin/manager home page."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from peermentor.core.models import AuditEvent
from peermentor.programs import services
from peermentor.programs.models import Goal, Program, ProgramStatus
from tests.factories import (
    ParticipantFactory,
    ProgramFactory,
    ProgramManagerFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def text(response):
    return response.content.decode()


# --- list -------------------------------------------------------------------------------------
def test_employees_see_open_programs_and_their_own_not_drafts_or_others(client, personas):
    ProgramFactory(name="Secret draft", status=ProgramStatus.DRAFT)
    ProgramFactory(name="Someone else's running", status=ProgramStatus.RUNNING)
    mine = ProgramFactory(name="My running", status=ProgramStatus.RUNNING)
    ParticipantFactory(program=mine, person=personas.participant.person)
    client.force_login(personas.participant)
    page = text(client.get(reverse("program_list")))
    assert "Skills Exchange" in page and "My running" in page
    assert "Secret draft" not in page and "Someone else&#x27;s running" not in page
    assert "You take part" in page
    assert "New program" not in page


def test_managers_see_their_drafts_with_counts_and_admins_see_everything(client, personas):
    draft = ProgramFactory(name="Next cohort draft", status=ProgramStatus.DRAFT)
    ProgramManagerFactory(program=draft, user=personas.manager)
    ProgramFactory(name="Unrelated draft", status=ProgramStatus.DRAFT)
    client.force_login(personas.manager)
    page = text(client.get(reverse("program_list")))
    assert "Next cohort draft" in page and "Unrelated draft" not in page
    assert "You manage it" in page
    client.force_login(personas.admin)
    response = client.get(reverse("program_list"))
    assert "Unrelated draft" in text(response)
    skills = next(p for p in response.context["page"].object_list if p.name == "Skills Exchange")
    assert (skills.participant_count, skills.ready_count, skills.pending_count) == (2, 0, 0)


def test_the_list_filters_by_status_and_name(client, personas):
    ProgramFactory(name="Circles of care", status=ProgramStatus.RUNNING)
    client.force_login(personas.admin)
    page = text(client.get(reverse("program_list"), {"status": "running"}))
    assert "Circles of care" in page and "Skills Exchange" not in page
    page = text(client.get(reverse("program_list"), {"q": "skills"}))
    assert "Skills Exchange" in page and "Circles of care" not in page
    # Nonsense filters show everything rather than failing.
    assert client.get(reverse("program_list"), {"status": "bogus", "page": "x"}).status_code == 200


def test_program_list_queries_do_not_grow_with_programs_or_participants(client, personas):
    client.force_login(personas.admin)

    def count_queries():
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse("program_list")).status_code == 200
        return len(queries)

    few = count_queries()
    for _ in range(12):
        program = ProgramFactory()
        ProgramManagerFactory(program=program)
        ParticipantFactory.create_batch(3, program=program)
    assert count_queries() == few
    assert few <= 8
    client.force_login(personas.participant)
    assert count_queries() <= 8


# --- create -----------------------------------------------------------------------------------
def test_creating_a_program_in_two_steps(client, personas):
    client.force_login(personas.admin)
    step1 = client.get(reverse("program_create"))
    assert "Cross-functional exposure" in text(step1)
    assert "shadowing a host" in text(step1)  # each goal is explained
    missing = client.get(reverse("program_create"), {"step": "2"})
    assert "Choose at least one goal." in text(missing)
    step2 = client.get(reverse("program_create"), {"step": "2", "goals": ["wellbeing"]})
    form = step2.context["form"]
    assert form["format"].value() == "circles"
    assert "Which themes would you like to talk about?" in text(step2)  # the preview
    response = client.post(
        reverse("program_create"),
        {
            "goals": ["wellbeing"],
            "name": "Support circles",
            "format": "circles",
            "theme": "Hybrid work",
            "group_size_min": 5,
            "group_size_max": 7,
            "has_facilitator": "on",
            "default_capacity": 1,
            "anonymity_threshold": 5,
            "enrollment_opens_on": "2026-03-01",
            "enrollment_closes_on": "2026-03-15",
        },
    )
    program = Program.objects.get(name="Support circles")
    assert response["Location"] == reverse("program_detail", args=[program.pk])
    assert program.status == ProgramStatus.DRAFT
    assert program.matching_policy["group_size"] == [5, 7]
    assert program.has_facilitator and program.theme == "Hybrid work"
    assert program.questions.filter(key="support_topics").exists()


def test_bad_settings_show_beside_the_field_and_keep_what_was_typed(client, personas):
    client.force_login(personas.admin)
    response = client.post(
        reverse("program_create"),
        {
            "goals": ["networking"],
            "name": "Coffee roulette",
            "format": "pairs",
            "description": "Meet someone new every month.",
            "group_size_min": 4,
            "group_size_max": 6,
            "default_capacity": 1,
            "anonymity_threshold": 5,
            "enrollment_opens_on": "2026-03-15",
            "enrollment_closes_on": "2026-03-01",
        },
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert form.errors["enrollment_closes_on"] == [
        "Enrollment must close on or after the day it opens."
    ]
    assert form["description"].value() == "Meet someone new every month."
    assert not Program.objects.filter(name="Coffee roulette").exists()


def test_the_preview_follows_the_format(client, personas):
    client.force_login(personas.admin)
    response = client.get(
        reverse("program_defaults_preview"),
        {"goals": ["networking"], "format": "shadowing"},
        headers={"HX-Request": "true"},
    )
    assert "Hosting and shadowing safely" in text(response)
    assert "<html" not in text(response)


# --- the program page -------------------------------------------------------------------------
def test_employees_see_the_public_page_with_an_enroll_button(client, personas):
    client.force_login(personas.outsider)
    page = text(client.get(reverse("program_detail", args=[personas.program.pk])))
    assert "Skill learning" in page
    assert f"/enrollment/programs/{personas.program.pk}/enroll/" in page
    assert "Move to" not in page and "What needs you now" not in page


def test_participants_see_that_they_take_part(client, personas):
    client.force_login(personas.participant)
    page = text(client.get(reverse("program_detail", args=[personas.program.pk])))
    assert "You take part in this program" in page


def test_managers_see_counts_next_step_and_transition_buttons(client, personas):
    client.force_login(personas.manager)
    page = text(client.get(reverse("program_detail", args=[personas.program.pk])))
    assert "What needs you now" in page
    assert "0 of 2 participants are ready to match." in page
    assert "Move to matching" in page and "Move to draft" in page
    assert f"/enrollment/programs/{personas.program.pk}/participants/" in page


def test_a_transition_through_the_page_records_the_reason(client, personas):
    client.force_login(personas.manager)
    url = reverse("program_transition", args=[personas.program.pk])
    response = client.post(url, {"to_status": "matching", "reason": ""})
    assert response.status_code == 200
    assert "Say why, so that others know later." in text(response)
    response = client.post(url, {"to_status": "closed", "reason": "Done"})
    assert "can&#x27;t move to closed" in text(response)
    assert "Done" in text(response)  # the reason typed is kept
    response = client.post(url, {"to_status": "matching", "reason": "Enrollment is over"})
    assert response.status_code == 302
    personas.program.refresh_from_db()
    assert personas.program.status == ProgramStatus.MATCHING
    history = text(client.get(reverse("program_history", args=[personas.program.pk])))
    assert "Enrollment is over" in history
    assert "enrolling → matching" in history


def test_editing_settings_goals_eligibility_and_metrics(client, personas):
    client.force_login(personas.manager)
    url = reverse("program_edit", args=[personas.program.pk])
    form = client.get(url).context["form"]
    assert form["name"].value() == "Skills Exchange"
    department = personas.participant.person.department
    response = client.post(
        url,
        {
            "name": "Skills Exchange 2026",
            "goals": ["skill_learning", "networking"],
            "format": "pairs",
            "group_size_min": 4,
            "group_size_max": 6,
            "default_capacity": 1,
            "anonymity_threshold": 7,
            "departments": [department.pk],
            "levels": ["L2"],
            "min_tenure_months": 3,
            "success_metrics": ["match_rate", "cross_team_ties"],
        },
    )
    assert response.status_code == 302
    program = Program.objects.get(pk=personas.program.pk)
    assert program.goals == ["skill_learning", "networking"]
    assert program.anonymity_threshold == 7
    assert program.eligibility == {
        "department_ids": [department.pk],
        "levels": ["L2"],
        "min_tenure_months": 3,
    }
    assert [m["key"] for m in program.success_metrics] == ["match_rate", "cross_team_ties"]


def test_changing_the_format_after_enrollment_is_refused_beside_the_field(client, personas):
    client.force_login(personas.manager)
    response = client.post(
        reverse("program_edit", args=[personas.program.pk]),
        {
            "name": "Skills Exchange",
            "goals": ["skill_learning"],
            "format": "shadowing",
            "group_size_min": 4,
            "group_size_max": 6,
            "default_capacity": 1,
            "anonymity_threshold": 5,
        },
    )
    assert "format" in response.context["form"].errors
    assert Program.objects.get(pk=personas.program.pk).format == "pairs"


def test_copying_leads_to_the_new_draft(client, personas):
    client.force_login(personas.manager)
    response = client.post(
        reverse("program_copy", args=[personas.program.pk]), {"name": "Skills Exchange II"}
    )
    copied = Program.objects.get(name="Skills Exchange II")
    assert response["Location"] == reverse("program_detail", args=[copied.pk])
    assert copied.status == ProgramStatus.DRAFT
    assert client.get(response["Location"]).status_code == 200  # the manager manages the copy


# --- set-up pages -------------------------------------------------------------------------------
@pytest.fixture
def defaults_program(personas):
    program = services.program_create(actor=personas.admin, name="Buddies", goals=[Goal.ONBOARDING])
    ProgramManagerFactory(program=program, user=personas.manager)
    return program


def test_questions_page_adds_edits_moves_and_deletes(client, personas, defaults_program):
    client.force_login(personas.manager)
    pk = defaults_program.pk
    url = reverse("program_questions", args=[pk])
    response = client.post(
        url, {"label": "Team size?", "key": "team_size", "kind": "single_choice", "choices": ""}
    )
    assert response.context["form"].errors["choices"] == ["Give at least two different choices."]
    response = client.post(
        url,
        {
            "label": "Team size?",
            "key": "team_size",
            "kind": "single_choice",
            "choices": "Small\nLarge\n",
            "is_required": "on",
        },
    )
    assert response.status_code == 302
    question = defaults_program.questions.get(key="team_size")
    assert question.choices == ["Small", "Large"]
    # Move it up with htmx: the list comes back as a fragment in the new order.
    response = client.post(
        reverse("program_question_move", args=[pk, question.pk]),
        {"direction": "up"},
        headers={"HX-Request": "true"},
    )
    assert 'id="question-list"' in text(response) and "<html" not in text(response)
    keys = list(defaults_program.questions.values_list("key", flat=True))
    assert keys.index("team_size") == len(keys) - 2
    response = client.post(
        reverse("program_question_edit", args=[pk, question.pk]),
        {"label": "How big is your team?", "key": "department", "kind": "text"},
    )
    assert "directory" in response.context["form"].errors["key"][0]
    response = client.post(reverse("program_question_delete", args=[pk, question.pk]))
    assert response.status_code == 302
    assert not defaults_program.questions.filter(key="team_size").exists()


def test_training_page_parses_the_quiz_and_shows_errors_by_line(client, personas, defaults_program):
    client.force_login(personas.manager)
    url = reverse("program_training", args=[defaults_program.pk])
    data = {
        "title": "Safety check",
        "kind": "quiz",
        "body": "Two questions.",
        "pass_mark_percent": 50,
        "is_required": "on",
        "quiz": "Q: Who can you call?\n- Nobody\n* Your manager\nQ: Second?\n- a\n- b",
    }
    response = client.post(url, data)
    assert response.context["form"].errors["quiz"] == [
        "Question 2 needs one of its answers marked as correct."
    ]
    response = client.post(url, {**data, "quiz": "- answer first"})
    assert response.context["form"].errors["quiz"][0].startswith("Line 1")
    response = client.post(url, {**data, "quiz": data["quiz"].replace("- b", "* b")})
    assert response.status_code == 302
    module = defaults_program.training_modules.get(title="Safety check")
    assert module.quiz[1] == {"question": "Second?", "choices": ["a", "b"], "answer": 1}
    edit = client.get(reverse("program_training_edit", args=[defaults_program.pk, module.pk]))
    assert "* Your manager" in edit.context["form"]["quiz"].value()


def test_tracks_and_managers_pages(client, personas, defaults_program):
    pk = defaults_program.pk
    client.force_login(personas.manager)
    assert client.post(reverse("program_tracks", args=[pk]), {"name": "EMEA"}).status_code == 302
    response = client.post(reverse("program_tracks", args=[pk]), {"name": "emea"})
    assert "already has a track" in response.context["form"].errors["name"][0]
    managers_page = text(client.get(reverse("program_managers", args=[pk])))
    assert "Only organisation admins choose managers." in managers_page
    assert "Add the manager" not in managers_page
    client.force_login(personas.admin)
    response = client.post(reverse("program_managers", args=[pk]), {"email": "nobody@example.com"})
    assert "invite them first" in response.context["form"].errors["email"][0]
    newcomer = UserFactory(email="newcomer@example.com")
    client.post(reverse("program_managers", args=[pk]), {"email": "newcomer@example.com"})
    assert defaults_program.manager_links.filter(user=newcomer).exists()
    client.post(reverse("program_manager_remove", args=[pk]), {"email": "newcomer@example.com"})
    assert not defaults_program.manager_links.filter(user=newcomer).exists()


def test_history_lists_changes_with_who_and_why(client, personas, defaults_program):
    services.program_transition(
        actor=personas.admin,
        program=defaults_program,
        to_status=ProgramStatus.ENROLLING,
        reason="Ready for the spring cohort",
    )
    client.force_login(personas.manager)
    page = text(client.get(reverse("program_history", args=[defaults_program.pk])))
    assert "Ready for the spring cohort" in page
    assert personas.admin.get_full_name() in page
    assert "program.created" in page


# --- home ----------------------------------------------------------------------------------------
def test_admin_home_shows_what_needs_them(client, personas):
    pending = ProgramFactory(name="Needs approvals")
    ParticipantFactory(program=pending, status="pending_approval")
    overdue = ProgramFactory(name="Overdue", status=ProgramStatus.RUNNING)
    Program.objects.filter(pk=overdue.pk).update(
        starts_on=datetime.date(2020, 1, 1), planned_end_on=datetime.date(2020, 6, 1)
    )
    ProgramFactory(name="Long closed", status=ProgramStatus.CLOSED)
    client.force_login(personas.admin)
    response = client.get(reverse("home"))
    page = text(response)
    assert "What needs you now" in page
    assert "Approve or decline 1 pending enrollment(s)." in page
    assert "The planned end has passed: close the program." in page
    assert "Long closed" not in page
    attention = [program.name for program, _step in response.context["needs_attention"]]
    assert attention == ["Needs approvals", "Overdue"]


def test_manager_home_shows_only_their_programs(client, personas):
    client.force_login(personas.manager)
    response = client.get(reverse("home"))
    names = [program.name for program, _step in response.context["rows"]]
    assert names == ["Skills Exchange"]
    assert "Other Program" not in text(response)


def test_participants_get_the_enrollment_home(client, personas):
    client.force_login(personas.participant)
    response = client.get(reverse("home"))
    assert response.status_code == 200
    assert "What needs you now" not in text(response)
    assert "Skills Exchange" in text(response)


@pytest.mark.parametrize("role", ["admin", "manager"])
def test_home_queries_do_not_grow_with_programs_or_participants(client, personas, role):
    user = personas.user(role)
    client.force_login(user)

    def count_queries():
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse("home")).status_code == 200
        return len(queries)

    few = count_queries()
    for index in range(10):
        program = ProgramFactory(status=ProgramStatus.ENROLLING if index % 2 else "matching")
        ProgramManagerFactory(program=program, user=personas.manager)
        ParticipantFactory.create_batch(3, program=program)
        ParticipantFactory(program=program, status="pending_approval")
    assert count_queries() == few
    assert few <= 8


def test_enrollment_dates_are_shown(client, personas):
    Program.objects.filter(pk=personas.program.pk).update(
        enrollment_opens_on=timezone.localdate(), enrollment_closes_on=datetime.date(2099, 1, 31)
    )
    client.force_login(personas.manager)
    assert "31 Jan 2099" in text(client.get(reverse("home")))
    assert AuditEvent.objects.count() == 0  # reading changes nothing
