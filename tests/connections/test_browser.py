"""A participant sees why they were matched, closes early and reflects; the manager follows it.
Every page on the way passes axe-core (WCAG 2 AA)."""

import pytest
from playwright.sync_api import expect

from peermentor.connections.services import connection_activate, connection_propose
from tests.browser.axe import assert_accessible
from tests.factories import (
    PASSWORD,
    DepartmentFactory,
    ParticipantFactory,
    PersonFactory,
    ProgramFactory,
    ProgramManagerFactory,
    SiteFactory,
    UserFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in(page, live_server, email):
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server.url}/")


def test_participant_closes_early_and_reflects_manager_reads_the_history(page, live_server):
    program = ProgramFactory(name="Skills Exchange", format="pairs", status="running")
    manager = ProgramManagerFactory(
        program=program, user=UserFactory(email="mo@example.org", full_name="Mo Manager")
    ).user
    ana = ParticipantFactory(
        program=program,
        person=PersonFactory(
            full_name="Ana Example",
            user=UserFactory(email="ana@example.org", full_name="Ana Example"),
        ),
    )
    bea = ParticipantFactory(
        program=program,
        person=PersonFactory(
            full_name="Bea Partner",
            job_title="Data analyst",
            department=DepartmentFactory(name="Finance"),
            site=SiteFactory(name="Leeds"),
            user=UserFactory(email="bea@example.org"),
        ),
    )
    connection = connection_propose(
        actor=manager,
        program=program,
        members=[(ana, "peer"), (bea, "peer")],
        kind="pair",
        score=0.82,
        reasons="Bea can teach the SQL Ana wants; different departments.",
        source="match_run",
    )
    connection_activate(actor=manager, connection=connection)

    sign_in(page, live_server, "ana@example.org")
    page.goto(f"{live_server.url}/connections/")
    expect(page.get_by_role("heading", name="Peer pair with Bea Partner")).to_be_visible()
    expect(page.get_by_text("Bea can teach the SQL Ana wants")).to_be_visible()
    assert_accessible(page)

    page.get_by_role("link", name="Peer pair with Bea Partner").click()
    expect(page.get_by_text("Data analyst")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("link", name="Close early").click()
    # With htmx the form opens in the page; without it, on its own page: both have the field.
    page.get_by_label("Why is it closing early?").select_option("no_time")
    page.get_by_label("In a few words").fill("New role this quarter.")
    assert_accessible(page)
    page.get_by_role("button", name="Close early").click()
    expect(page.get_by_text("Connection closed.")).to_be_visible()
    expect(page.get_by_text("No time: New role this quarter.")).to_be_visible()

    page.get_by_role("link", name="Reflect on it").click()
    page.get_by_label("What went well?").fill("Weekly SQL sessions.")
    page.get_by_label("What did you learn?").fill("Window functions.")
    page.get_by_label("4: Good").check()
    assert_accessible(page)
    page.get_by_role("button", name="Share reflection").click()
    expect(page.get_by_text("Thank you for your reflection.")).to_be_visible()
    expect(page.get_by_text("Window functions.")).to_be_visible()

    page.context.clear_cookies()
    sign_in(page, live_server, "mo@example.org")
    page.goto(f"{live_server.url}/connections/programs/{program.pk}/")
    expect(page.get_by_role("link", name="Ana Example, Bea Partner")).to_be_visible()
    assert_accessible(page)
    page.get_by_label("Status").select_option("active")
    expect(page.get_by_text("No connections match these filters.")).to_be_visible()
    page.goto(f"{live_server.url}/connections/{connection.pk}/history/")
    expect(page.get_by_role("cell", name="New role this quarter.")).to_be_visible()
    expect(page.get_by_text("Window functions.")).to_have_count(0)
    assert_accessible(page)
