"""The directory and import pages in a real browser: usable by label and WCAG 2 AA clean."""

import pytest

from peermentor.people.models import Person
from tests.browser.axe import assert_accessible
from tests.factories import PASSWORD, PersonFactory, UserFactory
from tests.people.files import csv_bytes, person_row

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_admin_imports_a_file_and_browses_the_directory(page, live_server, tmp_path):
    UserFactory(email="hr@example.org", full_name="Hana HR", is_org_admin=True)
    PersonFactory(external_id="LEAVER", full_name="Lee Leaver")
    bad = tmp_path / "bad.csv"
    bad.write_bytes(csv_bytes([person_row("E1"), person_row("E2", email="nope")]))
    good = tmp_path / "good.csv"
    good.write_bytes(
        csv_bytes([person_row("E1", full_name="Ana Lima"), person_row("E2", manager_id="E1")])
    )

    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("E-mail").fill("hr@example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server.url}/")

    page.goto(f"{live_server.url}/people/import/")
    assert_accessible(page)
    page.get_by_label("HR export").set_input_files(str(bad))
    page.get_by_role("button", name="Check the file").click()
    page.get_by_role("heading", name="1 problem").wait_for()
    assert page.get_by_role("cell", name='"nope" is not a valid e-mail address.').is_visible()
    assert_accessible(page)

    page.goto(f"{live_server.url}/people/import/")
    page.get_by_label("HR export").set_input_files(str(good))
    page.get_by_role("button", name="Check the file").click()
    page.get_by_role("button", name="Apply the import").wait_for()
    assert_accessible(page)
    page.get_by_label("Deactivate active people who are not in this file").check()
    page.get_by_role("button", name="Apply the import").click()
    page.get_by_text("Imported: 2 created, 0 updated, 0 unchanged, 1 deactivated.").wait_for()
    assert_accessible(page)
    assert not Person.objects.get(external_id="LEAVER").is_active

    page.goto(f"{live_server.url}/people/")
    page.get_by_label("Search").fill("ana lima")
    page.get_by_role("button", name="Filter").click()
    page.get_by_role("link", name="Ana Lima").first.wait_for()
    assert_accessible(page)
    page.get_by_role("link", name="Ana Lima").first.click()
    page.get_by_role("heading", name="Direct reports (1)").wait_for()
    assert_accessible(page)
