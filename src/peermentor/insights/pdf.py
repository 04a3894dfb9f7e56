"""The program report as PDF, rendered from the same template with WeasyPrint.

WeasyPrint needs Pango from the system (Debian: libpango-1.0-0 libpangoft2-1.0-0). If it cannot
load, `PdfUnavailable` says so and the view answers 503 with a plain message instead of failing.
The stylesheets are inlined and the renderer may fetch nothing at all: a URL someone typed into
a program's description can never make the server reach out to the network.
"""

from __future__ import annotations

import logging
from functools import cache
from pathlib import Path
from typing import Any

from django.contrib.staticfiles import finders

STYLESHEETS = ("peermentor/app.css", "peermentor/charts.css")
# WeasyPrint logs every layout step at INFO; only its warnings are worth a log line.
logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)


class PdfUnavailable(RuntimeError):
    pass


@cache
def inline_stylesheets() -> str:
    """The report's stylesheets as one string, for a <style> element in the PDF's HTML."""
    parts = []
    for name in STYLESHEETS:
        found = finders.find(name)
        if found:
            parts.append(Path(str(found)).read_text(encoding="utf-8"))
    return "\n".join(parts)


def render_pdf(html: str) -> bytes:
    try:
        import weasyprint
        from weasyprint.urls import URLFetcher
    except (ImportError, OSError) as error:  # OSError: Pango missing from the system
        raise PdfUnavailable(
            "PDF export needs WeasyPrint and the Pango library on the server."
        ) from error

    class NoFetching(URLFetcher):
        def fetch(self, url: str, headers: Any = None) -> Any:
            raise ValueError(f"The report does not load {url!r}.")

    return weasyprint.HTML(string=html, url_fetcher=NoFetching()).write_pdf()
