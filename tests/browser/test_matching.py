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


def test_admin_pairs_two_people_by_hand_with_search(page, live_server):
    world = MatchingWorld(people=6)
    world.save_policy()
    first, second = world.participants[0].person, world.participants[3].person

    sign_in(page, live_server, world.admin.email)
    page.goto(f"{live_server.url}/matches/programs/{world.program.pk}/runs/")
    page.get_by_role("button", name="Start matching").click()
    page.wait_for_url(re.compile(r".*/matches/runs/\d+/$"))
    expect(page.get_by_role("heading", name=re.compile("Status: Finished"))).to_be_visible()
    run_url = page.url

    page.goto(f"{run_url}manual/")
    assert_accessible(page)
    pickers = page.locator("fieldset.person-picker")
    # Typing searches as you go (htmx); the matches appear as radio buttons to choose from.
    pickers.nth(0).get_by_label("Search by name or e-mail").fill(first.email)
    pickers.nth(0).get_by_label(re.compile(re.escape(first.full_name))).check()
    pickers.nth(1).get_by_label("Search by name or e-mail").fill(second.email)
    pickers.nth(1).get_by_label(re.compile(re.escape(second.full_name))).check()
    # Choosing both shows their live score before anything is saved.
    expect(page.locator("#pair-check")).to_contain_text(re.compile(r"[Ss]core"))
    assert_accessible(page)
    page.get_by_role("button", name="Confirm").click()
    page.wait_for_url(run_url)
    proposal = Proposal.objects.get(members__participant__person=first)
    assert set(proposal.members.values_list("participant__person", flat=True)) == {
        first.pk,
        second.pk,
    }
    assert proposal.is_locked
