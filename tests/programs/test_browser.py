"""An admin sets a program up in a real browser; every page passes axe (WCAG 2 AA)."""

import pytest

from peermentor.programs.models import Program
from tests.browser.axe import assert_accessible
from tests.factories import PASSWORD, DepartmentFactory, PersonFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in(page, live_server, email):
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server.url}/")


def test_admin_creates_and_sets_up_a_program(page, live_server):
    UserFactory(email="admin@example.org", full_name="Ada Admin", is_org_admin=True)
    PersonFactory(department=DepartmentFactory(name="Finance"), level="L3")
    sign_in(page, live_server, "admin@example.org")
    assert_accessible(page)  # the admin home

    page.get_by_role("link", name="New program").first.click()
    assert_accessible(page)
    page.get_by_label("Cross-functional exposure").check()
    page.get_by_role("button", name="Next: settings").click()
    assert page.get_by_label("Format").input_value() == "shadowing"
    assert page.get_by_text("Hosting and shadowing safely").is_visible()
    assert_accessible(page)
    # htmx swaps the preview when the format changes.
    page.get_by_label("Format").select_option("circles")
    page.get_by_text("Taking part in a circle").wait_for()
    page.get_by_label("Name:", exact=True).fill("Finance meets Engineering")
    page.get_by_role("button", name="Create the program as a draft").click()
    page.get_by_role("heading", name="Finance meets Engineering").wait_for()
    assert_accessible(page)
    program = Program.objects.get(name="Finance meets Engineering")
    assert program.format == "circles"

    page.get_by_label("Why?").fill("Questions and training reviewed")
    page.get_by_role("button", name="Move to enrolling").click()
    page.get_by_text("The program is now enrolling.").wait_for()

    page.get_by_role("link", name="Questions", exact=True).click()
    assert_accessible(page)
    first = page.locator("#question-list tbody tr").first.locator("td").first.inner_text()
    page.get_by_role("button", name="Down").first.click()
    page.wait_for_function(
        "first => document.querySelector('#question-list tbody tr td').innerText !== first",
        arg=first,
    )

    for link in ["Training", "Tracks", "Managers", "Settings", "History"]:
        page.get_by_role("link", name=link, exact=True).click()
        page.get_by_role("heading", level=1).wait_for()
        assert_accessible(page)

    page.get_by_role("link", name="Programs", exact=True).click()
    assert page.get_by_role("link", name="Finance meets Engineering").is_visible()
    assert_accessible(page)
