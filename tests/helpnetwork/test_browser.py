"""Ana asks for help, invites a peer from another team and site, who offers; Ana takes the
offer up and thanks her. Every page on the way, the notification centre and the e-mail
preferences pass axe-core (WCAG 2 AA)."""

import pytest
from playwright.sync_api import expect

from peermentor.notifications.tokens import unsubscribe_token
from tests.browser.axe import assert_accessible
from tests.factories import (
    PASSWORD,
    AnswerFactory,
    DepartmentFactory,
    ParticipantFactory,
    PersonFactory,
    ProfileQuestionFactory,
    ProgramFactory,
    SiteFactory,
    SkillFactory,
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


def _peer(program, name, email, department, site):
    return ParticipantFactory(
        program=program,
        person=PersonFactory(
            full_name=name,
            department=DepartmentFactory(name=department),
            site=SiteFactory(name=site),
            user=UserFactory(email=email, full_name=name),
        ),
    )


def test_ask_invite_offer_take_up_and_thank(page, live_server):
    program = ProgramFactory(name="Ask a Peer", format="help_network", status="running")
    question = ProfileQuestionFactory(
        program=program, key="skills_offered", kind="skills_offered", choices=[]
    )
    SkillFactory(name="Python")
    _peer(program, "Ana Asker", "ana@example.org", "Engineering", "London")
    fay = _peer(program, "Fay Finance", "fay@example.org", "Finance", "Leeds")
    AnswerFactory(participant=fay, question=question, value=["Python"])

    sign_in(page, live_server, "ana@example.org")
    page.goto(f"{live_server.url}/help/")
    assert_accessible(page)
    page.get_by_role("link", name="Ask for help in Ask a Peer").click()
    assert_accessible(page)
    page.get_by_label("Topic").select_option(label="Python")
    page.get_by_label("What do you need help with?").fill("How do I profile a slow pandas job?")
    page.get_by_role("button", name="Ask for help").click()
    expect(
        page.get_by_text("Works in Finance, Leeds — outside your team and site.")
    ).to_be_visible()
    assert_accessible(page)
    page.get_by_role("button", name="Invite Fay Finance").click()
    expect(page.get_by_text("Fay Finance is invited to look at your ask.")).to_be_visible()

    sign_in(page, live_server, "fay@example.org")
    # The header's unread count, fetched by htmx once the page has loaded.
    expect(page.get_by_role("link", name="Notifications 1 unread")).to_be_visible()
    page.goto(f"{live_server.url}/help/programs/{program.pk}/asks/")
    expect(page.get_by_role("link", name="Python")).to_be_visible()
    assert_accessible(page)
    page.goto(f"{live_server.url}/notifications/")
    expect(page.get_by_text("Ana Asker asks for your help with Python", exact=True)).to_be_visible()
    assert_accessible(page)
    page.get_by_role("button", name="Open: Ana Asker asks for your help with Python").click()
    page.get_by_label("A note to the asker (optional)").fill("I profile pandas every week.")
    page.get_by_role("button", name="Offer to help").click()
    expect(page.get_by_role("button", name="Withdraw my offer")).to_be_visible()
    assert_accessible(page)
    page.goto(f"{live_server.url}/notifications/preferences/")
    assert_accessible(page)
    page.get_by_label("Once a week").check()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Your notification preferences are saved.")).to_be_visible()

    sign_in(page, live_server, "ana@example.org")
    page.goto(f"{live_server.url}/help/")
    page.get_by_role("link", name="Python").click()
    page.get_by_role("button", name="Take up this offer from Fay Finance").click()
    expect(
        page.get_by_text("You and Fay Finance are connected for a flash meeting.")
    ).to_be_visible()
    page.go_back()
    page.reload()
    page.get_by_role("link", name="Say thank you").click()
    assert_accessible(page)
    page.get_by_label("Your thank-you").fill("That saved my week!")
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_text("That saved my week!")).to_be_visible()
    assert_accessible(page)

    page.context.clear_cookies()
    user = fay.person.user
    page.goto(f"{live_server.url}/notifications/unsubscribe/{unsubscribe_token(user)}/")
    assert_accessible(page)
    page.get_by_role("button", name="Stop e-mails").click()
    expect(page.get_by_role("heading", name="E-mails stopped")).to_be_visible()
