"""axe-core on one page of every URL pattern each demo account can reach.

The other browser tests check the main pages as a story goes through them; this sweep covers
the rest. For each demo role the Django test client crawls the demo as tests/demo/test_crawl.py
does (links, hx-get and GET forms from "/", its per-pattern limits and page cap, deterministic
order) and keeps the first URL of each URL pattern that answered a whole HTML page: downloads
(CSV, XLSX, ICS, PDF) and htmx fragments (no `<html>`) are left out. Chromium then signs in
through the login form as that role, opens each of those URLs, waits for the htmx requests the
page starts on load, and runs axe (WCAG 2 A and AA). Every violation (role, URL, rule, impact,
an element) is collected and the test fails once listing them all.

On 2026-11-27 the crawl's 300-page cap reached every pattern a 2,000-page crawl did: 53 for the
admin, 48 for sam, 30 for ana, so ~130 pages and ~75 s in all. MAX_AXE_PAGES caps the pages per
role should the site grow (the crawl's order puts every pattern's first page first); pages past
it are not checked and the test says how many.
Only the page as loaded is checked: not menus or dialogs opened later, nor forms with errors.
"""

import os

import pytest
from django.core.management import call_command
from django.test import Client

from peermentor.accounts.models import User
from peermentor.demo.builder import DEMO_PASSWORD, demo_load
from tests.browser.axe import AXE_SCRIPT, WCAG_AA
from tests.demo.test_crawl import _crawl

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ROLES = ["admin@example.org", "sam@example.org", "ana@example.org"]
MAX_AXE_PAGES = int(os.environ.get("AXE_SWEEP_PAGES", 80))
MIN_PAGES = 20  # per role: fewer means the crawl or the sign-in broke, not a cleaner site


@pytest.fixture
def demo(django_db_blocker):
    with django_db_blocker.unblock():
        demo_load()
    yield
    with django_db_blocker.unblock():
        call_command("flush", interactive=False, verbosity=0)


def _pages_to_check(email: str) -> list[str]:
    """One URL per URL pattern the role reaches, in the crawl's (deterministic) order."""
    client = Client()
    client.force_login(User.objects.get(email=email))
    return list(_crawl(client, ["/"]).full_pages.values())


def _violations(page) -> list[str]:
    result = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG_AA
    )
    return [
        f"{item['id']} ({item['impact']}): {item['help']} — {node['target'][0]}"
        for item in result["violations"]
        for node in item["nodes"]
    ]


def test_every_kind_of_page_the_demo_accounts_reach_is_accessible(demo, browser, live_server):
    found: list[str] = []
    checked: list[str] = []
    for email in ROLES:
        urls = _pages_to_check(email)
        context = browser.new_context()
        # axe goes into every page through the DevTools protocol, so the strict CSP holds.
        context.add_init_script(path=AXE_SCRIPT)
        page = context.new_page()
        page.set_default_timeout(30_000)
        page.goto(f"{live_server.url}/accounts/login/")
        page.get_by_label("E-mail").fill(email)
        page.get_by_label("Password").fill(DEMO_PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(f"{live_server.url}/")
        for url in urls[:MAX_AXE_PAGES]:
            response = page.goto(f"{live_server.url}{url}")
            if response is None or response.status != 200:
                found.append(f"{email} {url}: answered {response and response.status}")
                continue
            # The notification badge (hx-trigger="load") and the like: cheaper than networkidle.
            page.wait_for_function("() => !document.querySelector('.htmx-request')")
            found += [f"{email} {url}: {violation}" for violation in _violations(page)]
        context.close()
        skipped = max(0, len(urls) - MAX_AXE_PAGES)
        checked.append(f"{email}: {min(len(urls), MAX_AXE_PAGES)} pages ({skipped} over the cap)")
        assert len(urls) > MIN_PAGES, f"{email} reached only {urls}"

    summary = ", ".join(checked)
    print(f"axe sweep checked {summary}")  # shown with -s
    assert not found, f"axe found {len(found)} violations ({summary}):\n" + "\n".join(found)
