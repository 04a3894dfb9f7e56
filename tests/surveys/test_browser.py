"""A manager adds the closing survey from a template and opens it; a participant answers it and
changes an answer; the manager reads totals (hidden below the threshold, shown from it). Every
page on the way passes axe-core (WCAG 2 AA)."""

import pytest
from playwright.sync_api import expect

from peermentor.surveys.models import Survey
from peermentor.surveys.schedules import surveys_send_due
from peermentor.surveys.services import survey_answer
from tests.browser.axe import assert_accessible
from tests.factories import (
    PASSWORD,
    ParticipantFactory,
    PersonFactory,
    ProgramFactory,
    ProgramManagerFactory,
    UserFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in(page, live_server, email):
    page.context.clear_cookies()
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server.url}/")


def test_manager_builds_participant_answers_manager_reads_totals(page, live_server):
    program = ProgramFactory(name="Skills Exchange", format="help_network", status="running")
    ProgramManagerFactory(program=program, user=UserFactory(email="mo@example.org"))
    ana = ParticipantFactory(
        program=program,
        person=PersonFactory(
            full_name="Ana Example",
            user=UserFactory(email="ana@example.org", full_name="Ana Example"),
        ),
    )
    others = [
        ParticipantFactory(program=program, person=PersonFactory(user=UserFactory()))
        for _ in range(4)
    ]

    sign_in(page, live_server, "mo@example.org")
    page.goto(f"{live_server.url}/surveys/programs/{program.pk}/")
    assert_accessible(page)
    page.get_by_label("Template").select_option("closing")
    page.get_by_label("Date to send it on").fill("2020-01-01")
    page.get_by_role("button", name="Add as a draft").click()
    expect(page.get_by_role("heading", name="Closing survey")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("button", name="Open the survey").click()
    expect(page.get_by_text("Survey open")).to_be_visible()

    surveys_send_due()
    sign_in(page, live_server, "ana@example.org")
    page.goto(f"{live_server.url}/surveys/")
    assert_accessible(page)
    page.get_by_role("link", name="Answer “Closing survey”").click()
    expect(page.get_by_text("Anonymous.")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("button", name="Send my answers").click()
    expect(page.get_by_text("This field is required.").first).to_be_visible()
    satisfaction = page.get_by_role("group", name="Overall, how satisfied are you")
    satisfaction.get_by_label("4").check()
    page.get_by_role("group", name="How likely are you to recommend").get_by_label("9").check()
    page.get_by_label("Getting help quickly").check()
    page.get_by_label("In your own words").fill("Quick answers from people I did not know.")
    assert_accessible(page)
    page.get_by_role("button", name="Send my answers").click()
    expect(page.get_by_text("Thank you: your answers are saved.")).to_be_visible()
    expect(page.get_by_text("Quick answers from people I did not know.")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("link", name="Change my answers").click()
    page.get_by_role("group", name="Overall, how satisfied are you").get_by_label("5").check()
    page.get_by_role("button", name="Save my changes").click()
    expect(page.get_by_text("Thank you: your answers are saved.")).to_be_visible()

    survey = Survey.objects.get(program=program)
    sign_in(page, live_server, "mo@example.org")
    page.goto(f"{live_server.url}/surveys/{survey.pk}/results/")
    expect(page.get_by_text("Fewer than 5 responses").first).to_be_visible()
    assert_accessible(page)
    for participant in others:
        invitation = participant.survey_invitations.get()
        survey_answer(
            actor=participant.person.user,
            invitation=invitation,
            answers={"satisfaction": 4, "recommend": 8},
        )
    page.get_by_label("Break down by").select_option("department")
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_text("Mean 4.20")).to_be_visible()
    expect(page.get_by_text("Ana Example")).to_have_count(0)
    assert_accessible(page)
    assert ana.survey_invitations.get().answered_at is not None
