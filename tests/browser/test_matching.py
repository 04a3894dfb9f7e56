"""An admin runs matching on a program, locks one proposal and publishes; a participant then
sees the connection and why they were matched."""

import re

import pytest
from playwright.sync_api import expect

from peermentor.connections.models import Connection
from peermentor.matches.models import Proposal
from tests.browser.axe import assert_accessible
from tests.factories import PASSWORD
from tests.matches.conftest import MatchingWorld

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in(page, live_server, email):
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server.url}/")


def test_admin_runs_locks_publishes_and_the_participant_sees_why(page, live_server):
    world = MatchingWorld(people=6)
    world.save_policy()
    participant = world.participants[0]

    sign_in(page, live_server, world.admin.email)
    page.goto(f"{live_server.url}/matches/programs/{world.program.pk}/runs/")
    assert_accessible(page)
    page.get_by_role("button", name="Start matching").click()
    page.wait_for_url(re.compile(r".*/matches/runs/\d+/$"))
    expect(page.get_by_role("heading", name=re.compile("Status: Finished"))).to_be_visible()
    assert_accessible(page)

    first_row = page.locator("tbody tr").first
    first_row.get_by_role("button", name=re.compile("^Lock")).click()
    expect(page.locator("tbody tr").first.get_by_text("Locked", exact=True)).to_be_visible()
    assert Proposal.objects.filter(is_locked=True).count() == 1

    page.get_by_role("link", name="Publish…").click()
    assert_accessible(page)
    page.get_by_role("button", name="Publish and notify").click()
    expect(page.get_by_text("Published 3 connections")).to_be_visible()
    assert Connection.objects.filter(status="active").count() == 3

    connection = Connection.objects.get(members__participant=participant)
    partner = connection.members.exclude(participant=participant).get().participant.person

    page.get_by_role("button", name="Sign out").click()
    sign_in(page, live_server, participant.person.user.email)
    page.goto(f"{live_server.url}/connections/")
    expect(page.get_by_text(partner.full_name).first).to_be_visible()
    expect(page.get_by_text("Why you were matched:")).to_be_visible()
    expect(page.get_by_text(connection.reasons)).to_be_visible()
