"""Exploratory crawl of the demo organisation as each demo account.

The demo is loaded once for this module (as in test_demo.py). For each demo role the test client
signs in and follows every same-site link breadth-first from "/" with GET only: `<a href>`,
`hx-get` (fetched as htmx would, with the HX-Request header), redirect targets, and the GET
forms (filters, searches) as they stand and with each of their choices. It leaves alone the
logout, the Django admin, static files, unsubscribe links and other sites.

No page may answer 5xx, and a page someone is shown a link to may not answer 403 or 404; every
failure (URL, status, the end of the traceback) is collected so one run reports all of them.
Downloads (CSV, XLSX, ICS, PDF) must be 200 with their content type. The participant is also
sent straight to the directory and insights pages and must never get them.

Deterministic: the queue is sorted (see `_crawl`) and the demo is the same every time.
A deeper look: `CRAWL_MAX_PAGES=5000` visits everything the per-pattern limits allow.
"""

from __future__ import annotations

import heapq
import os
import traceback
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urlencode, urljoin, urlsplit, urlunsplit

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import Resolver404, resolve, reverse

from peermentor.accounts.models import User
from peermentor.demo.builder import demo_load
from peermentor.insights.selectors import EXPORTABLE
from peermentor.people.models import Person
from peermentor.programs.models import Program


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        summary = demo_load()
    yield summary
    with django_db_blocker.unblock():
        call_command("flush", interactive=False, verbosity=0)


pytestmark = pytest.mark.django_db

# Pages per role. The whole module (demo load included) should stay under ~90 s on the 2-core
# machine; lower this rather than let the crawl grow slow. On 2026-11-27 it took ~25 s: admin
# and sam reach the cap (of ~470 and ~450 pages the limits below allow), ana visits ~117. PDFs
# render fast enough (WeasyPrint, ~7 per manager) to be followed too.
MAX_PAGES = int(os.environ.get("CRAWL_MAX_PAGES", 300))
# Without these the cap is spent on hundreds of directory entries and filter combinations and the
# crawl never gets past the second level. Distinct pages per URL pattern (enough for each of the
# demo's seven programs), and query-string variants (filters, pages) per page.
MAX_PER_ROUTE = 8
MAX_PER_PATH = 6
MIN_PAGES = 20
SITE = "testserver"
SKIPPED_PREFIXES = (
    "/accounts/logout/",
    "/admin/",
    "/django-admin/",  # where the Django admin actually lives
    "/static/",
)
DOWNLOAD_TYPES = {
    ".csv": "text/csv",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".ics": "text/calendar",
    ".pdf": "application/pdf",
}


class _Links(HTMLParser):
    """`<a href>`, `hx-get` and the URLs the page's GET forms submit (filters, searches)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.hrefs: list[str] = []
        self.hx_gets: list[str] = []
        self.forms: list[str] = []
        self._form: dict | None = None
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = {name: value or "" for name, value in attrs}
        if tag == "a" and attr.get("href"):
            self.hrefs.append(attr["href"])
        if attr.get("hx-get"):
            self.hx_gets.append(attr["hx-get"])
        if tag == "form":
            if attr.get("method", "get").lower() == "get":
                action = attr.get("action") or attr.get("hx-get") or ""
                self._form = {"action": action, "defaults": {}, "choices": {}}
            return
        if self._form is None or "disabled" in attr:
            return
        if tag == "option" and self._select:
            value = attr.get("value", "")
            self._form["choices"].setdefault(self._select, []).append(value)
            if "selected" in attr or self._select not in self._form["defaults"]:
                self._form["defaults"][self._select] = value
        if not attr.get("name"):
            return
        name, kind = attr["name"], attr.get("type", "text").lower()
        if tag == "select":
            self._select = name
        elif tag == "input" and kind in ("radio", "checkbox"):
            self._form["choices"].setdefault(name, []).append(attr.get("value", "on"))
            if "checked" in attr:
                self._form["defaults"][name] = attr.get("value", "on")
        elif tag == "input" and kind not in ("submit", "button", "image", "reset", "file"):
            self._form["defaults"][name] = attr.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None
        elif tag == "form" and self._form is not None:
            form, self._form = self._form, None
            # The form as it stands, then each choice of each field on its own.
            variants = [form["defaults"]]
            for name, values in sorted(form["choices"].items()):
                variants += [{**form["defaults"], name: value} for value in values if value]
            for fields in variants:
                query = urlencode(sorted((k, v) for k, v in fields.items() if v))
                self.forms.append(f"{form['action']}?{query}" if query else form["action"])


def _normalise(base: str, link: str) -> str | None:
    """The site-relative URL a link points at, or None if the crawl leaves it alone."""
    link = link.strip()
    if not link or link.startswith("#"):
        return None
    parts = urlsplit(urljoin(f"http://{SITE}{base}", link))
    if parts.scheme not in ("http", "https") or parts.netloc != SITE:
        return None
    path = parts.path or "/"
    if path.startswith(SKIPPED_PREFIXES) or "unsubscribe" in path:
        return None
    return urlunsplit(("", "", path, parts.query, ""))


def _route(url: str) -> str:
    path = urlsplit(url).path
    try:
        return resolve(path).route
    except Resolver404:
        return path


def _download_type(url: str) -> str | None:
    path = urlsplit(url).path
    for suffix, content_type in DOWNLOAD_TYPES.items():
        if path.endswith(suffix):
            return content_type
    return None


@dataclass
class Crawl:
    statuses: dict[tuple[str, bool], int] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    left_over: int = 0
    repeats: int = 0
    # The first URL of each URL pattern that answered a whole HTML page (not a download, not an
    # htmx fragment); tests/browser/test_axe_sweep.py runs axe on these.
    full_pages: dict[str, str] = field(default_factory=dict)


def _crawl(client: Client, seeds: list[str], probes: Sequence[str] = ()) -> Crawl:
    """Breadth-first from `seeds`, pages of URL patterns visited least so far first.

    `probes` are visited too but are not links on a page. The queue is a heap ordered by (pages
    of this URL pattern visited, depth, has a query string, URL), so the cap is spent on every
    kind of page the role can reach before it is spent on more of the same; a strict
    breadth-first order ran out of pages before reaching run or survey details.
    """
    crawl = Crawl()
    per_route: Counter[str] = Counter()
    per_path: Counter[str] = Counter()

    def key(url: str, htmx: bool, depth: int) -> tuple:
        return (per_route[_route(url)], depth, "?" in url, url, htmx)

    # A queue entry is (url, fetched as htmx?): hx-get targets may answer a fragment.
    queue = [key(url, False, 0) for url in sorted({*seeds, *probes})]
    heapq.heapify(queue)
    seen = {(url, False) for url in [*seeds, *probes]}
    while queue:
        entry = heapq.heappop(queue)
        _, depth, _, url, htmx = entry
        if (current := key(url, htmx, depth)) != entry:
            heapq.heappush(queue, current)  # its pattern was visited meanwhile: wait longer
            continue
        path, route = urlsplit(url).path, _route(url)
        if url not in probes and (
            per_path[path] >= MAX_PER_PATH
            or (not per_path[path] and per_route[route] >= MAX_PER_ROUTE)
        ):
            crawl.repeats += 1
            continue
        if len(crawl.statuses) >= MAX_PAGES:
            crawl.left_over += 1
            continue
        per_route[route] += not per_path[path]
        per_path[path] += 1
        for link in sorted(_visit(client, crawl, url, htmx, is_probe=url in probes) - seen):
            seen.add(link)
            heapq.heappush(queue, key(*link, depth + 1))
    return crawl


def _visit(
    client: Client, crawl: Crawl, url: str, htmx: bool, *, is_probe: bool
) -> set[tuple[str, bool]]:
    """GET one page, record how it answered, and return the links on it."""
    label = f"{url} (htmx)" if htmx else url
    headers = {"HX-Request": "true"} if htmx else {}
    try:
        response = client.get(url, headers=headers)
    except Exception:
        crawl.statuses[url, htmx] = 500
        lines = traceback.format_exc().strip().splitlines()
        crawl.failures.append(f"{label} raised:\n    " + "\n    ".join(lines[-8:]))
        return set()
    status = crawl.statuses[url, htmx] = response.status_code
    content_type = response.get("Content-Type", "")
    expected_type = None if is_probe else _download_type(url)
    if status >= 500:
        body = response.content[:300].decode(errors="replace")
        crawl.failures.append(f"{label} answered {status}: {body}")
    elif expected_type and (status != 200 or expected_type not in content_type):
        crawl.failures.append(
            f"{label} (linked download) answered {status} {content_type!r}, "
            f"expected 200 {expected_type!r}"
        )
    elif status in (403, 404) and not is_probe:
        crawl.failures.append(f"{label} is linked but answered {status}")
    links: set[tuple[str, bool]] = set()
    if 300 <= status < 400:
        if target := _normalise(url, response["Location"]):
            links.add((target, False))
    elif status == 200 and content_type.startswith("text/html"):
        html = response.content.decode(response.charset or "utf-8")
        if not htmx and not is_probe and "<html" in html:
            crawl.full_pages.setdefault(_route(url), url)
        parser = _Links()
        parser.feed(html)
        links.update((u, False) for h in parser.hrefs if (u := _normalise(url, h)))
        links.update((u, True) for h in parser.hx_gets if (u := _normalise(url, h)))
        links.update((u, False) for h in parser.forms if (u := _normalise(url, h)))
    return links


def _report(email: str, crawl: Crawl) -> str:
    return (
        f"{email}: visited {len(crawl.statuses)} pages (cap {MAX_PAGES}, "
        f"{crawl.left_over} left in the queue, {crawl.repeats} skipped as repeats of a URL "
        f"pattern or page), {len(crawl.failures)} failures:\n" + "\n".join(crawl.failures)
    )


def _participant_probes() -> list[str]:
    """Directory and insights pages a participant never sees a link to but might type in."""
    probes = [
        reverse("person_list"),
        reverse("people_import"),
        reverse("people_import_template"),
        reverse("insights_organisation"),
    ]
    ana = Person.objects.get(email="ana@example.org")
    other = Person.objects.exclude(pk=ana.pk).order_by("pk").first()
    probes += [reverse("person_detail", args=[ana.pk]), reverse("person_detail", args=[other.pk])]
    for pk in Program.objects.order_by("pk").values_list("pk", flat=True):
        probes += [
            reverse(name, args=[pk])
            for name in (
                "insights_program",
                "insights_outcomes",
                "insights_ties",
                "insights_report",
                "insights_report_pdf",
            )
        ]
        probes.append(reverse("insights_export", args=[pk, EXPORTABLE[0], "csv"]))
    return probes


@pytest.mark.parametrize(
    "email", ["admin@example.org", "sam@example.org", "ana@example.org"], ids=str
)
def test_no_page_the_demo_accounts_can_reach_fails(demo, email):
    client = Client()
    client.force_login(User.objects.get(email=email))
    probes = _participant_probes() if email == "ana@example.org" else []
    crawl = _crawl(client, ["/"], probes)
    print(_report(email, crawl))  # shown with -s: how far the crawl got

    assert not crawl.failures, _report(email, crawl)
    assert len(crawl.statuses) > MIN_PAGES, _report(email, crawl)
    if email == "ana@example.org":
        leaked = sorted(
            url
            for (url, _), status in crawl.statuses.items()
            if status == 200 and url.startswith(("/insights/", "/people/"))
        )
        assert not leaked, f"the participant may open: {leaked}"
