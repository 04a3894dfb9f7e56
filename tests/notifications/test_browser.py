"""A manager sets a program's reminders; a participant reads and
clears their notifications. Every page passes axe-core (WCAG 2 AA)."""

import pytest
from playwright.sync_api import expect

from tests.browser.axe import assert_accessible
from tests.factories import (
    PASSWORD,
    NotificationFactory,
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


def test_reminder_settings_and_the_notification_centre(page, live_server):
    program = ProgramFactory(name="Skills Exchange", status="running")
    ProgramManagerFactory(program=program, user=UserFactory(email="mo@example.org"))
    ana = UserFactory(email="ana@example.org", full_name="Ana Example")
    NotificationFactory(recipient=ana, title="Time to meet Bea again", url="/connections/")
    NotificationFactory(recipient=ana, kind="check_in_due", title="How is it going with Bea?")

    sign_in(page, live_server, "mo@example.org")
    page.goto(f"{live_server.url}/notifications/programs/{program.pk}/reminders/")
    assert_accessible(page)
    page.get_by_label("Days without a meeting").fill("28")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Reminder settings saved.")).to_be_visible()
    expect(page.get_by_label("Days without a meeting")).to_have_value("28")

    sign_in(page, live_server, "ana@example.org")
    page.goto(f"{live_server.url}/notifications/")
    expect(page.get_by_text("2 unread.")).to_be_visible()
    page.get_by_role("button", name="Mark as read: How is it going with Bea?").click()
    expect(
        page.get_by_role("button", name="Mark as read: How is it going with Bea?")
    ).to_have_count(0)
    assert_accessible(page)
    page.get_by_role("button", name="Open: Time to meet Bea again").click()
    page.wait_for_url(f"{live_server.url}/connections/")
    page.goto(f"{live_server.url}/notifications/")
    expect(page.get_by_text("You are all caught up.")).to_be_visible()
    page.goto(f"{live_server.url}/notifications/unsubscribe/not-a-token/")
    expect(page.get_by_role("heading", name="This link is not valid")).to_be_visible()
    assert_accessible(page)
