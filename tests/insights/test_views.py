"""The pages as a manager uses them: filters (and bad filters), htmx swaps, exports, the PDF,
and query budgets that do not grow with the size of the program."""

import csv
import io
import re
import zlib
from datetime import timedelta

import openpyxl
import pytest
from django.db import connection as db_connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from peermentor.connections.models import Connection, ConnectionMember, Reflection
from peermentor.engagement.models import CheckIn, Meeting, Plan, PlanItem
from peermentor.enrollment.models import Participant
from peermentor.insights.pdf import PdfUnavailable
from peermentor.matches.models import UnmatchedEntry
from peermentor.people.models import JobChange
from tests.factories import (
    DepartmentFactory,
    MatchRunFactory,
    ParticipantFactory,
    PersonFactory,
    ProgramFactory,
    ProgramManagerFactory,
    SiteFactory,
    TrackFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def _csv(response):
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def test_dashboard_shows_figures_charts_and_tables(client, known):
    client.force_login(known.manager)
    response = client.get(reverse("insights_program", args=[known.program.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" in html
    assert 'role="img"' in html
    assert "Show the figures as a table" in html
    assert "Enrollment funnel" in html
    assert "Aim 70 %" in html
    assert re.search(r"Match rate</span>\s*<strong[^>]*>75 %", html)
    # Nobody is named on a dashboard.
    assert "Person A" not in html


def test_htmx_filter_returns_only_the_figures(client, known):
    client.force_login(known.manager)
    response = client.get(
        reverse("insights_program", args=[known.program.pk]),
        {"track": known.track.pk},
        HTTP_HX_REQUEST="true",
    )
    html = response.content.decode()
    assert "<html" not in html
    assert html.startswith('<div id="insights-body"')
    assert "for the track North" in html
    # The export links carry the filter, so the file matches what is on screen.
    assert f"funnel.csv?track={known.track.pk}" in html


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"start": "yesterday"}, "Enter a valid date."),
        ({"track": "999999"}, "Select a valid choice."),
        ({"start": "2026-05-10", "end": "2026-05-01"}, "The end date must be on or after"),
        ({"end": "9999-12-31"}, "Choose a day between 2000 and 2199."),
        ({"start": "0001-01-01"}, "Choose a day between 2000 and 2199."),
    ],
)
def test_bad_filters_are_explained_and_ignored(client, known, params, error):
    client.force_login(known.manager)
    response = client.get(reverse("insights_program", args=[known.program.pk]), params)
    assert response.status_code == 200
    html = response.content.decode()
    assert error in html
    # The figures are still there (without the bad filter).
    assert "Enrollment funnel" in html


def test_a_track_of_another_program_is_not_a_valid_filter(client, known):
    other_track = TrackFactory(program=ProgramFactory())
    client.force_login(known.manager)
    response = client.get(
        reverse("insights_export", args=[known.program.pk, "funnel", "csv"]),
        {"track": other_track.pk},
    )
    # Ignored: the whole program is exported.
    assert {row[0]: row[1] for row in _csv(response)[1:]}["Enrolled"] == "8"


def test_csv_export_of_the_funnel(client, known):
    client.force_login(known.manager)
    response = client.get(reverse("insights_export", args=[known.program.pk, "funnel", "csv"]))
    assert response["Content-Type"].startswith("text/csv")
    assert 'attachment; filename="known-program-funnel-' in response["Content-Disposition"]
    assert _csv(response) == [
        ["Stage", "People"],
        ["Invited", "6"],
        ["Enrolled", "8"],
        ["Ready", "7"],
        ["Matched", "6"],
    ]


def test_filtered_xlsx_export(client, known):
    client.force_login(known.manager)
    response = client.get(
        reverse("insights_export", args=[known.program.pk, "funnel", "xlsx"]),
        {"track": known.track.pk},
    )
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    assert [list(row) for row in sheet.iter_rows(values_only=True)] == [
        ["Stage", "People"],
        ["Invited", 2],
        ["Enrolled", 2],
        ["Ready", 2],
        ["Matched", 2],
    ]


@pytest.mark.parametrize(
    "table",
    [
        "funnel",
        "match_rate",
        "unmatched",
        "connections",
        "time_to_match",
        "meetings",
        "plan_progress",
        "health",
        "satisfaction",
        "closure_reasons",
        "by_track",
        "by_department",
        "by_site",
        "satisfaction_by_track",
        "satisfaction_by_department",
        "satisfaction_by_site",
        "retention",
        "internal_moves",
        "pre_post",
        "ties",
        "ties_matrix",
        "goals",
    ],
)
def test_every_table_exports(client, known, table):
    client.force_login(known.manager)
    response = client.get(reverse("insights_export", args=[known.program.pk, table, "csv"]))
    assert response.status_code == 200
    assert len(_csv(response)[0]) >= 2


def test_the_ties_matrix_exports_as_shown(client, known):
    client.force_login(known.manager)
    response = client.get(reverse("insights_export", args=[known.program.pk, "ties_matrix", "csv"]))
    assert _csv(response) == [
        ["Department", "Eng", "Sales", "Ops"],
        ["Eng", "0", "1", "1"],
        ["Sales", "1", "0", "0"],
        ["Ops", "1", "0", "0"],
    ]


def test_outcomes_and_ties_pages(client, known):
    client.force_login(known.manager)
    outcomes = client.get(reverse("insights_outcomes", args=[known.program.pk])).content.decode()
    assert "Association, not cause." in outcomes
    assert "Internal moves: participants and similar colleagues" in outcomes
    ties = client.get(reverse("insights_ties", args=[known.program.pk])).content.decode()
    assert "New ties between departments" in ties
    assert 'class="chart chart-heatmap"' in ties


def test_internal_moves_show_with_an_accessible_table_and_export(client, known):
    start = known.program.starts_on
    hired = known.people["A"].hire_date
    movers = [known.people[key] for key in ("A", "B", "J")]
    # Eng colleagues: 3 of 6 moved; Sales colleagues: none of 4 (C and D did not move either).
    for department, count, moved in [("A", 6, 3), ("C", 4, 0)]:
        for number in range(count):
            colleague = PersonFactory(
                department=known.people[department].department, level="L2", hire_date=hired
            )
            if number < moved:
                movers.append(colleague)
    for person in movers:
        JobChange.objects.create(
            person=person, changed_on=start + timedelta(days=1), level_before="L1", level_after="L2"
        )
    client.force_login(known.manager)
    page = client.get(reverse("insights_outcomes", args=[known.program.pk])).content.decode()
    figure = page[page.index('id="figure-internal_moves"') :]
    figure = figure[: figure.index("</section>")]
    assert '<th scope="col">Moved internally (%)</th>' in figure
    # 3 of 5 participants moved; colleagues (3 x 50 % + 2 x 0 %) / 5.
    assert '<th scope="row">Participants</th><td>5</td><td>60</td>' in figure
    assert "<td>10</td><td>30</td>" in figure
    assert 'role="img"' in figure

    response = client.get(
        reverse("insights_export", args=[known.program.pk, "internal_moves", "csv"])
    )
    assert _csv(response) == [
        ["Group", "People", "Moved internally (%)"],
        ["Participants", "5", "60.0"],
        ["Similar colleagues who did not take part", "10", "30.0"],
    ]
    report = client.get(reverse("insights_report", args=[known.program.pk])).content.decode()
    assert "Internal moves: participants and similar colleagues" in report


def test_report_shows_goals_results_and_consented_quotes_without_names(client, known):
    client.force_login(known.manager)
    response = client.get(reverse("insights_report", args=[known.program.pk]))
    html = response.content.decode()
    assert "What happened against the goals" in html
    assert "Networking" in html
    assert "We met every fortnight and shared our dashboards." in html
    # D did not agree to be quoted; nobody is named.
    assert "Private" not in html
    assert "Person B" not in html
    assert "Download as PDF" in html


def _page_count(pdf: bytes) -> int:
    """Page objects in a PDF, looking inside its compressed object streams too."""
    texts = [pdf]
    for stream in re.findall(rb"stream\r?\n(.*?)\r?\nendstream", pdf, flags=re.S):
        try:
            texts.append(zlib.decompress(stream))
        except zlib.error:
            continue
    return sum(len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", text)) for text in texts)


def test_report_pdf_is_a_real_pdf(client, known):
    client.force_login(known.manager)
    response = client.get(reverse("insights_report_pdf", args=[known.program.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    assert response.content.rstrip().endswith(b"%%EOF")
    assert _page_count(response.content) >= 2


def test_report_pdf_says_when_it_cannot_be_made(client, known, monkeypatch):
    def unavailable(html):
        raise PdfUnavailable("PDF export needs WeasyPrint and the Pango library on the server.")

    monkeypatch.setattr("peermentor.insights.views.render_pdf", unavailable)
    client.force_login(known.manager)
    response = client.get(reverse("insights_report_pdf", args=[known.program.pk]))
    assert response.status_code == 503
    assert b"Pango" in response.content


def test_organisation_overview_links_each_program(client, known):
    client.force_login(UserFactory(is_org_admin=True))
    html = client.get(reverse("insights_organisation")).content.decode()
    assert reverse("insights_program", args=[known.program.pk]) in html
    assert "Programs at a glance" in html


# --- query budgets ----------------------------------------------------------------------------
def _grow(program, pairs, *, start_index=0):
    """`pairs` more active pairs with meetings, pulses, plans, reflections, tracks, several
    departments and sites, and a match run that left some people out."""
    now = timezone.now()
    track = TrackFactory(program=program)
    run = MatchRunFactory(program=program)
    for index in range(start_index, start_index + pairs):
        department = DepartmentFactory(name=f"Dept {index % 7}")
        site = SiteFactory(name=f"Site {index % 3}")
        members = [
            Participant.objects.create(
                program=program,
                person=PersonFactory(department=department, site=site, hire_date=now.date()),
                status="enrolled",
                track=track,
                is_profile_complete=True,
                is_training_complete=True,
                ready_at=now,
            )
            for _ in range(2)
        ]
        status = "active" if index % 2 else "completed"
        connection = Connection.objects.create(
            program=program,
            kind="pair",
            source="manual",
            status=status,
            track=track,
            started_at=now - timedelta(days=40),
            ended_at=now if status == "completed" else None,
            end_reason="goals_met" if status == "completed" else "",
        )
        for member in members:
            ConnectionMember.objects.create(
                connection=connection, participant=member, role="peer", is_current=False
            )
            CheckIn.objects.create(connection=connection, participant=member, period=0, rating=4)
        Meeting.objects.create(
            connection=connection,
            title="m",
            time_zone="UTC",
            status="held",
            starts_at=now - timedelta(days=30),
            outcome_logged_at=now,
        )
        plan = Plan.objects.create(connection=connection)
        PlanItem.objects.create(plan=plan, kind="milestone", title="t", due_on=now.date())
        Reflection.objects.create(
            connection=connection,
            participant=members[0],
            went_well="Good",
            learned="Much",
            rating=4,
            may_quote=True,
        )
        UnmatchedEntry.objects.create(
            run=run,
            participant=ParticipantFactory(program=program),
            reason=f"reason {index % 3}",
        )


def _queries(client, url):
    with CaptureQueriesContext(db_connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize(
    "name", ["insights_program", "insights_outcomes", "insights_ties", "insights_report"]
)
def test_query_count_does_not_grow_with_the_program(client, name):
    program = ProgramFactory(anonymity_threshold=2)
    manager = ProgramManagerFactory(program=program).user
    client.force_login(manager)
    url = reverse(name, args=[program.pk])
    _grow(program, 2)
    client.get(url)  # warm up per-process caches (content types, sessions)
    small = _queries(client, url)
    _grow(program, 12, start_index=2)
    assert _queries(client, url) == small
    assert small <= 60


def test_organisation_query_count_does_not_grow_with_programs(client):
    client.force_login(UserFactory(is_org_admin=True))
    url = reverse("insights_organisation")
    _grow(ProgramFactory(), 2)
    client.get(url)
    small = _queries(client, url)
    for _ in range(4):
        _grow(ProgramFactory(), 3)
    assert _queries(client, url) == small
    assert small <= 10


def test_export_reads_only_its_own_table(client, known, django_assert_max_num_queries):
    client.force_login(known.manager)
    url = reverse("insights_export", args=[known.program.pk, "funnel", "csv"])
    client.get(url)
    # Session, user, program, manager check, tracks form, funnel (2).
    with django_assert_max_num_queries(8):
        client.get(url)
