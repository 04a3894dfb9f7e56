"""The demo organisation in a real browser: the participant the README names enrolls."""

import re

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from peermentor.demo.builder import DEMO_PASSWORD, demo_load
from peermentor.enrollment.models import Participant
from tests.browser.axe import assert_accessible

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def demo(django_db_blocker):
    with django_db_blocker.unblock():
        demo_load()
    yield
    with django_db_blocker.unblock():
        call_command("flush", interactive=False, verbosity=0)


def test_the_demo_participant_signs_in_and_enrolls_in_an_open_program(demo, page, live_server):
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("E-mail").fill("ana@example.org")
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server.url}/")
    expect(page.get_by_role("heading", name="Welcome, Ana Silva")).to_be_visible()
    assert_accessible(page)

    page.get_by_role("link", name="See and enroll in Wellbeing Circles").click()
    assert_accessible(page)
    page.get_by_label("Circle member").check()
    page.get_by_role("button", name="Enroll").click()

    expect(page.get_by_role("heading", name="Your profile for Wellbeing Circles")).to_be_visible()
    assert_accessible(page)
    assert Participant.objects.filter(
        person__email="ana@example.org", program__name="Wellbeing Circles", status="enrolled"
    ).exists()


def test_the_demo_manager_matches_a_program_and_a_participant_sees_why(demo, page, live_server):
    from peermentor.connections.models import Connection
    from peermentor.matches.models import Proposal
    from peermentor.programs.models import Program

    program = Program.objects.get(name="Skills Exchange 2026")
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("E-mail").fill("sam@example.org")
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server.url}/")
    page.goto(f"{live_server.url}/matches/programs/{program.pk}/runs/")
    page.get_by_role("button", name="Start matching").click()
    expect(page.get_by_role("heading", name=re.compile("Status: Finished"))).to_be_visible()
    assert_accessible(page)

    page.locator("tbody tr").first.get_by_role("button", name=re.compile("^Lock")).click()
    expect(page.locator("tbody tr").first.get_by_text("Locked", exact=True)).to_be_visible()
    page.get_by_role("link", name="Publish…").click()
    page.get_by_role("button", name="Publish and notify").click()
    expect(page.get_by_text(re.compile(r"Published \d+ connections"))).to_be_visible()
    assert Proposal.objects.filter(run__program=program, is_locked=True).count() == 1

    # Ana is the README's participant; if the run left her out, any matched participant will do.
    connections = Connection.objects.filter(program=program, status="active")
    mine = connections.filter(members__participant__person__email="ana@example.org").first()
    connection = mine or connections.order_by("pk").first()
    me, partner = [m.participant.person for m in connection.members.order_by("pk")][:2]
    if mine and me.email != "ana@example.org":
        me, partner = partner, me
    page.get_by_role("button", name="Sign out").click()
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("E-mail").fill(me.email)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server.url}/")
    page.goto(f"{live_server.url}/connections/")
    expect(page.get_by_text(partner.full_name).first).to_be_visible()
    expect(page.get_by_text("Why you were matched:").first).to_be_visible()
    assert_accessible(page)
