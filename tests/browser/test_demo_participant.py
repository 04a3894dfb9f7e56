"""The demo organisation in a real browser: the participant the README names enrolls."""

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
