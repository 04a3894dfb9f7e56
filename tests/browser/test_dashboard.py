"""A program manager opens the dashboard, filters it by track (htmx swap), downloads the funnel
as CSV and checks it, then reads the outcomes, ties and the report; axe checks each page."""

import csv
from pathlib import Path

import pytest

from tests.browser.axe import assert_accessible
from tests.factories import PASSWORD
from tests.insights.conftest import build_known_program

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in(page, base_url, email):
    page.goto(f"{base_url}/accounts/login/")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base_url}/")


def test_manager_filters_the_dashboard_and_downloads_the_csv(page, live_server, tmp_path: Path):
    known = build_known_program(threshold=2)
    base = f"{live_server.url}/insights/programs/{known.program.pk}"
    sign_in(page, live_server.url, known.manager.email)

    page.goto(f"{base}/")
    assert page.get_by_role("heading", name="Dashboard: Known program").is_visible()
    assert page.get_by_role("img", name="Enrollment funnel").is_visible()
    assert_accessible(page)

    # Choosing a track swaps the figures in place and puts the filter in the address.
    page.get_by_role("combobox", name="Track").select_option(label="North")
    page.get_by_text("for the track North").wait_for()
    assert f"track={known.track.pk}" in page.url
    funnel = page.get_by_role("region", name="Enrollment funnel")
    funnel.get_by_text("Show the figures as a table").click()
    enrolled = funnel.get_by_role("row", name="Enrolled")
    assert enrolled.get_by_role("cell").inner_text() == "2"
    assert_accessible(page)

    with page.expect_download() as download_info:
        funnel.get_by_role("link", name="CSV of Enrollment funnel").click()
    download = download_info.value
    assert download.suggested_filename.startswith("known-program-funnel-")
    target = tmp_path / download.suggested_filename
    download.save_as(target)
    with target.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows == [
        ["Stage", "People"],
        ["Invited", "2"],
        ["Enrolled", "2"],
        ["Ready", "2"],
        ["Matched", "2"],
    ]

    page.goto(f"{base}/outcomes/")
    assert page.get_by_text("Association, not cause.").first.is_visible()
    assert_accessible(page)
    page.goto(f"{base}/ties/")
    assert page.get_by_role("img", name="New ties between departments").is_visible()
    assert_accessible(page)

    page.goto(f"{base}/report/")
    assert page.get_by_role("heading", name="Known program: program report").is_visible()
    assert page.get_by_text("We met every fortnight and shared our dashboards.").is_visible()
    assert_accessible(page)
