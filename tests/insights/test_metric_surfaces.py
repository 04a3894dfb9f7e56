"""One definition per figure: each success measure shows the same value on the dashboard, the
report page, the PDF, the goals export and the selector every one of them reads
(insights/selectors/metrics.py).

Issue 12 found likelihood to recommend as NPS 14.3 on the dashboard and "42.9 %" in the report,
satisfaction "hidden" in one place and from 7 answers in another, and new cross-team ties 5 on
one page and 6 on another. The program below reproduces those numbers: 7 survey answers, of
which 3 promoters, 2 passives and 2 detractors (NPS 14.3, 42.9 % promoters).
"""

import csv
import html
import io
import re

import pytest
from django.urls import reverse

from peermentor.insights import views as insight_views
from peermentor.insights.selectors import scope_for
from peermentor.insights.selectors.metrics import Sources, program_metric
from peermentor.insights.selectors.program import ProgramFigures
from peermentor.insights.templatetags.insights import figure, figure_in
from peermentor.surveys.services import survey_answer, survey_close
from tests.factories import PersonFactory, SurveyInvitationFactory, UserFactory
from tests.insights.conftest import build_known_program
from tests.surveys.conftest import ANSWERS, build_survey

pytestmark = pytest.mark.django_db

MEASURES = (
    "match_rate",
    "meetings_per_connection",
    "cross_team_ties",
    "satisfaction",
    "likelihood_to_recommend",
    "internal_moves",
)
# (satisfaction, recommend) of the seven people who answered the program's survey.
SURVEY_ANSWERS = [(5, 10), (5, 10), (4, 9), (4, 8), (3, 7), (2, 3), (3, 2)]


@pytest.fixture
def program_with_survey():
    known = build_known_program()
    known.program.success_metrics = [{"key": key} for key in MEASURES]
    known.program.save(update_fields=["success_metrics"])
    survey = build_survey(known.manager, known.program)
    for satisfaction, recommend in SURVEY_ANSWERS:
        participant = known.participants["A"].__class__.objects.create(
            program=known.program,
            person=PersonFactory(user=UserFactory()),
            status="enrolled",
        )
        invitation = SurveyInvitationFactory(survey=survey, participant=participant)
        survey_answer(
            actor=participant.person.user,
            invitation=invitation,
            answers={**ANSWERS, "satisfaction": satisfaction, "recommend": recommend},
        )
    # Closing releases the last batch of answers (they are released five at a time).
    survey_close(actor=known.manager, survey=survey)
    return known


def _text(content: bytes) -> str:
    page = re.sub(r"<svg.*?</svg>", " ", content.decode(), flags=re.S)
    page = re.sub(r"<[^>]+>", " ", page)
    return re.sub(r"\s+", " ", html.unescape(page))


def _row(text: str, label: str) -> str:
    """What follows `label` in a page's text, up to the next 80 characters."""
    assert label in text, f"{label!r} is not on the page"
    start = text.index(label) + len(label)
    return text[start : start + 80]


def test_each_measure_is_the_same_on_every_surface(client, program_with_survey, monkeypatch):
    known = program_with_survey
    program = known.program
    scope = scope_for(viewer=known.manager, program=program)
    sources = Sources(ProgramFigures(scope, viewer=known.manager))
    metrics = {key: program_metric(key, sources) for key in MEASURES}
    # The numbers: NPS from 7 answers, never the share of promoters.
    assert metrics["likelihood_to_recommend"].value == 14.3
    assert metrics["likelihood_to_recommend"].people == 7
    assert metrics["satisfaction"].value == 3.7
    assert metrics["cross_team_ties"].value == 2

    client.force_login(known.manager)
    dashboard = _text(client.get(reverse("insights_program", args=[program.pk])).content)
    report = _text(client.get(reverse("insights_report", args=[program.pk])).content)
    pdf_pages: list[str] = []
    monkeypatch.setattr(
        insight_views, "render_pdf", lambda html: pdf_pages.append(html) or b"%PDF-1.7"
    )
    assert client.get(reverse("insights_report_pdf", args=[program.pk])).status_code == 200
    pdf = _text(pdf_pages[0].encode())
    export = client.get(reverse("insights_export", args=[program.pk, "goals", "csv"]))
    exported = {row[0]: row for row in csv.reader(io.StringIO(export.content.decode("utf-8-sig")))}

    for key, metric in metrics.items():
        shown = figure(metric.value)
        # Report and PDF: the goals table's row (measure, target, result, unit, ...).
        for page in (report, pdf):
            goals = page[page.index("What happened against the goals") : page.index("Key figures")]
            assert f" {shown} {metric.unit} " in _row(goals, metric.label) + " ", key
        # The export writes the same value, unformatted.
        assert exported[metric.label][2] == ("" if metric.value is None else str(metric.value))
        assert exported[metric.label][3] == metric.unit

    # Dashboard cards and the report's key figures.
    for key in ("match_rate", "meetings_per_connection"):
        metric = metrics[key]
        assert f"{metric.label} {figure_in(metric.value, metric.unit)}" in dashboard
    for key in ("match_rate", "meetings_per_connection", "cross_team_ties"):
        metric = metrics[key]
        for page in (report, pdf):
            assert f"{metric.label} {figure_in(metric.value, metric.unit)}" in page
    # The dashboard's satisfaction table: the same two survey figures, with their answers.
    assert "Satisfaction, from surveys (1 to 5) 7 3.7" in dashboard
    assert "Likelihood to recommend (NPS, -100 to 100) 7 14.3" in dashboard
    # The ties page and the report's ties table name the measure's figure the same way.
    ties = _text(client.get(reverse("insights_ties", args=[program.pk])).content)
    for page in (ties, report, pdf):
        assert "New cross-team ties (across departments or sites) 2 " in page
    assert "42.9" not in report + pdf


def test_outcomes_of_a_program_that_has_not_started_are_not_measured(client, db):
    known = build_known_program()
    program = known.program
    program.starts_on = program.created_at.date().replace(year=program.created_at.year + 1)
    program.success_metrics = [{"key": "internal_moves"}, {"key": "retention"}]
    program.save(update_fields=["starts_on", "success_metrics"])
    client.force_login(known.manager)
    report = _text(client.get(reverse("insights_report", args=[program.pk])).content)
    assert "this is measured from then" in report
    assert "the program has not started" in report
    outcomes = _text(client.get(reverse("insights_outcomes", args=[program.pk])).content)
    assert "Moved internally (%)" not in outcomes
