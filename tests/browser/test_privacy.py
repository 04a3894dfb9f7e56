"""Data protection in a real browser, on the demo organisation: a participant downloads their
data, an admin erases someone and finds it in the audit log (docs/privacy.md)."""

import json
import re
from pathlib import Path

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from peermentor.connections.models import ConnectionMember
from peermentor.demo.builder import DEMO_PASSWORD, demo_load
from peermentor.demo.directory import ADMIN
from peermentor.people.models import Person
from tests.browser.axe import assert_accessible

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def demo(django_db_blocker):
    with django_db_blocker.unblock():
        demo_load()
    yield
    with django_db_blocker.unblock():
        call_command("flush", interactive=False, verbosity=0)


def _sign_in(page, live_server, email):
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server.url}/")


def test_the_demo_participant_downloads_their_data(demo, page, live_server):
    _sign_in(page, live_server, "ana@example.org")
    page.get_by_role("link", name="Ana Silva").click()
    page.get_by_role("link", name=re.compile("See and download everything")).click()
    expect(page.get_by_role("heading", name="Your data", exact=True)).to_be_visible()
    expect(page.get_by_role("heading", name="Connections", exact=True)).to_be_visible()
    assert_accessible(page)

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download as JSON").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".json")
    document = json.loads(Path(download.path()).read_text(encoding="utf-8"))
    assert document["directory_entry"][0]["email"] == "ana@example.org"
    assert document["is_complete"] is True


def test_the_demo_admin_erases_a_person_and_finds_it_in_the_audit_log(demo, page, live_server):
    # Someone who took part in a program whose connections have all ended.
    members = ConnectionMember.objects.filter(is_current=False).exclude(
        participant__person__user__email=ADMIN.email
    )
    current = ConnectionMember.objects.filter(is_current=True).values("participant__person")
    person = (
        Person.objects.filter(participations__connection_memberships__in=members)
        .exclude(pk__in=current)
        .exclude(user__is_org_admin=True)
        .order_by("pk")
        .first()
    )
    assert person is not None, "the demo has someone whose connections all ended"
    old_name = person.full_name

    _sign_in(page, live_server, ADMIN.email)
    page.goto(f"{live_server.url}/people/{person.pk}/")
    page.get_by_role("link", name="Erase this person").click()
    expect(page.get_by_role("heading", name=f"Erase {old_name}")).to_be_visible()
    expect(page.get_by_role("heading", name="What will happen")).to_be_visible()
    assert_accessible(page)
    page.get_by_label("Why is this person erased?").fill("Erasure request, ticket 1234")
    page.get_by_label("I understand that this cannot be undone.").check()
    page.get_by_role("button", name=f"Erase {old_name}").click()

    placeholder = f"Former employee #{person.pk}"
    expect(page.get_by_text(f"Erased: the directory now shows {placeholder}.")).to_be_visible()
    expect(page.get_by_role("heading", name=re.compile(placeholder))).to_be_visible()
    person.refresh_from_db()
    assert person.full_name == placeholder and not person.user.is_active

    page.get_by_role("link", name="Audit log").click()
    page.get_by_label("Action starts with").fill("person.erased")
    page.get_by_role("button", name="Filter").click()
    row = page.locator("tbody tr").first
    expect(row).to_contain_text("Erasure request, ticket 1234")
    expect(row).to_contain_text(f"people.person #{person.pk}")
    assert_accessible(page)
