import re
from datetime import date

import pytest
from playwright.sync_api import expect

from tests.browser.axe import assert_accessible
from tests.factories import (
    PASSWORD,
    PersonFactory,
    ProfileQuestionFactory,
    ProgramFactory,
    SkillFactory,
    TrainingModuleFactory,
    UserFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def open_program():
    program = ProgramFactory(
        name="Skills Exchange", description="Swap skills with a peer.", format="pairs"
    )
    SkillFactory(name="Python")
    SkillFactory(name="Negotiation")
    ProfileQuestionFactory(
        program=program,
        key="goal",
        label="What do you want most?",
        kind="single_choice",
        choices=["Learn something new", "Teach what I know"],
    )
    ProfileQuestionFactory(
        program=program,
        key="skills_wanted",
        label="Skills you want to learn",
        kind="skills_wanted",
        choices=[],
    )
    ProfileQuestionFactory(
        program=program,
        key="availability",
        label="When are you free?",
        kind="availability",
        choices=[],
    )
    TrainingModuleFactory(program=program, title="Being a good peer", position=1)
    TrainingModuleFactory(
        program=program,
        title="Peer check",
        position=2,
        kind="quiz",
        pass_mark_percent=100,
        quiz=[
            {
                "question": "Who sets the agenda?",
                "choices": ["Only the mentor", "Both of you together"],
                "answer": 1,
            }
        ],
    )
    return program


def test_an_employee_enrolls_answers_trains_and_is_ready(page, live_server):
    open_program()
    PersonFactory(
        full_name="Ana Example",
        email="ana@example.org",
        hire_date=date(2021, 5, 1),
        time_zone="Europe/Lisbon",
        user=UserFactory(email="ana@example.org", full_name="Ana Example"),
    )

    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("E-mail").fill("ana@example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server.url}/")

    page.get_by_role("link", name="See and enroll in Skills Exchange").click()
    expect(page.get_by_role("heading", name="What happens when you enroll")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("button", name="Enroll").click()

    expect(page.get_by_role("heading", name="Your profile for Skills Exchange")).to_be_visible()
    assert_accessible(page)
    page.get_by_label("Learn something new").check()
    page.get_by_label("Python").check()
    expect(page.get_by_label("Your time zone")).to_have_value("Europe/Lisbon")
    page.get_by_label("Day, slot 1").select_option("Thursday")
    page.get_by_label("From, slot 1").fill("12:30")
    page.get_by_label("Until, slot 1").fill("13:30")
    page.get_by_role("button", name="Save profile").click()

    expect(page.get_by_role("heading", name="Being a good peer")).to_be_visible()
    page.get_by_label("I have read and understood this module").check()
    page.get_by_role("button", name="Mark as done").click()

    expect(page.get_by_role("heading", name="Peer check")).to_be_visible()
    page.get_by_label("Only the mentor").check()
    page.get_by_role("button", name="Check my answers").click()
    expect(page.get_by_text("You scored 0%; the pass mark is 100%.")).to_be_visible()
    page.get_by_label("Both of you together").check()
    page.get_by_role("button", name="Check my answers").click()

    expect(page.get_by_text("Ready — waiting for a match")).to_be_visible()
    expect(page.get_by_text("Ready to match").first).to_be_visible()
    expect(page.get_by_text(re.compile(r"Thu 12:30 to 13:30 \(Europe/Lisbon\)"))).to_be_visible()

    page.get_by_role("link", name="Home").click()
    expect(page.get_by_text("Ready — waiting for a match")).to_be_visible()
