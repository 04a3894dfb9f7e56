"""Self-match in a real browser: a participant asks a recommended peer, the peer accepts, and
both see their connection and why they fit."""

import re

import pytest
from playwright.sync_api import expect

from peermentor.connections.models import Connection
from peermentor.selfmatch.models import MatchRequest
from tests.browser.axe import assert_accessible
from tests.factories import PASSWORD
from tests.selfmatch.world import self_match_world

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in(page, live_server, email):
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server.url}/")


def sign_out(page):
    page.get_by_role("button", name="Sign out").click()


def test_a_participant_asks_a_peer_who_accepts_and_both_see_the_connection(page, live_server):
    world = self_match_world(people=4)
    ana, ben = world.participants[0], world.participants[1]
    ana_name, ben_name = ana.person.full_name, ben.person.full_name

    sign_in(page, live_server, ana.person.user.email)
    page.goto(f"{live_server.url}/matches/programs/{world.program.pk}/recommendations/")
    expect(page.get_by_role("heading", name=f"Find a peer in {world.program.name}")).to_be_visible()
    assert_accessible(page)

    card = page.locator(f"#recommendation-{ben.pk}")
    expect(card.get_by_text("Why:")).to_be_visible()
    card.get_by_text(f"Ask {ben_name} to connect").click()
    card.get_by_label(f"Message to {ben_name} (optional)").fill("Python for your SQL?")
    assert_accessible(page)
    card.get_by_role("button", name=f"Send request to {ben_name}").click()
    expect(card.get_by_text("Request sent, waiting for their answer.")).to_be_visible()
    assert MatchRequest.objects.get().message == "Python for your SQL?"

    page.goto(f"{live_server.url}/matches/requests/?box=outgoing")
    expect(page.get_by_role("link", name=f"To {ben_name}")).to_be_visible()
    assert_accessible(page)
    sign_out(page)

    sign_in(page, live_server, ben.person.user.email)
    page.goto(f"{live_server.url}/matches/requests/")
    expect(page.get_by_text("Python for your SQL?")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("button", name=f"Accept the request from {ana_name}").click()
    expect(page.get_by_text(f"You are now connected with {ana_name}.")).to_be_visible()
    connection = Connection.objects.get()
    assert connection.status == "active" and connection.source == "self_match"

    page.get_by_role("link", name="Go to your connection").click()
    page.wait_for_url(re.compile(rf".*/connections/{connection.pk}/$"))
    page.goto(f"{live_server.url}/connections/")
    expect(page.get_by_text(ana_name).first).to_be_visible()
    expect(page.get_by_text(connection.reasons)).to_be_visible()
    sign_out(page)

    sign_in(page, live_server, ana.person.user.email)
    page.goto(f"{live_server.url}/connections/")
    expect(page.get_by_text(ben_name).first).to_be_visible()
    expect(page.get_by_text("Why you were matched:")).to_be_visible()
    # Ana is connected now: recommendations say so instead of listing people.
    page.goto(f"{live_server.url}/matches/programs/{world.program.pk}/recommendations/")
    expect(page.get_by_text("You already have a connection")).to_be_visible()
    assert_accessible(page)
