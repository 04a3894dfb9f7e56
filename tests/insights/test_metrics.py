"""Every figure of the hand-built program (tests/insights/conftest.py) against the answer worked
out from how it was built, not from the implementation."""

from datetime import timedelta

import numpy as np
import pytest

from peermentor.insights.selectors import (
    program_dashboard,
    program_outcomes,
    program_report,
    program_ties,
    scope_for,
)
from peermentor.insights.selectors.outcomes import OutcomeFigures
from peermentor.insights.selectors.program import ProgramFigures
from peermentor.insights.tables import SUPPRESSED
from peermentor.people.models import JobChange, Person
from tests.factories import PersonFactory
from tests.insights.conftest import DAY0_AGO, build_known_program

pytestmark = pytest.mark.django_db


def _dashboard(known, **filters):
    scope = scope_for(viewer=known.manager, program=known.program, **filters)
    return program_dashboard(viewer=known.manager, scope=scope)


def _rows(table):
    return {row[0]: row[1:] for row in table.rows}


def _quantiles(values):
    return (
        round(float(np.percentile(values, 50)), 1),
        round(float(np.percentile(values, 75)), 1),
    )


def test_funnel_and_match_rate(known):
    dashboard = _dashboard(known)
    funnel = _rows(dashboard.tables["funnel"])
    assert funnel == {"Invited": [6], "Enrolled": [8], "Ready": [7], "Matched": [6]}
    assert "1 waiting for approval, 1 withdrawn, 1 not approved" in dashboard.tables["funnel"].note
    cards = {card["label"]: card["value"] for card in dashboard.cards}
    # 6 of the 8 enrolled people are in a connection that started; E is ready and waiting.
    assert cards["Match rate"] == 75.0
    assert cards["Waiting for a match"] == 1
    trend = dashboard.tables["match_rate"]
    assert trend.rows[-1][1:] == [8, 6, 75.0]
    assert trend.chart.aim == 70.0


def test_time_to_match_and_first_meeting(known):
    table = _rows(_dashboard(known).tables["time_to_match"])
    # Days from enrolling to the first connection: A 3, C 1, B 8, D 5, J 4, K 5.
    assert table["Enrollment to match"] == [6, *_quantiles([3, 1, 8, 5, 4, 5])]
    # Connection start to first meeting held: X 5-3, Y 14-8 (V never met).
    assert table["Match to first meeting"] == [2, *_quantiles([2, 6])]
    # Enrolling to one's first meeting held: A 5, C 3, B 14, D 11.
    assert table["Enrollment to first meeting"] == [4, *_quantiles([5, 3, 14, 11])]
    assert _quantiles([3, 1, 8, 5, 4, 5]) == (4.5, 5.0)


def test_meetings_plans_health_and_closure(known):
    tables = _dashboard(known).tables
    # Held meetings: X 2, Y 1, V 0; a scheduled or missed meeting does not count.
    assert _rows(tables["meetings"]) == {
        "None yet": [1],
        "1": [1],
        "2": [1],
        "3 to 5": [0],
        "6 or more": [0],
    }
    assert tables["meetings"].extra["average"] == 1.0
    assert _rows(tables["plan_progress"]) == {
        "All plan items": [6, 4, 66.7],
        "Items due by today": [3, 1, 33.3],
        "Milestones": [3, 2, 66.7],
    }
    # X is the only active connection; C's latest pulse is 2.
    assert _rows(tables["health"]) == {
        "On track": [0, 0.0],
        "Needs attention": [1, 100.0],
        "Too early to tell": [0, 0.0],
    }
    assert _rows(tables["closure_reasons"]) == {
        "Completed: Goals met": [1],
        "Closed early: No time": [1],
    }
    assert _rows(tables["connections"]) == {
        "Active": [1],
        "Completed": [1],
        "Closed early": [1],
        "Cancelled": [1],
    }


def test_ratings_are_hidden_below_the_threshold(known):
    rows = _rows(_dashboard(known).tables["satisfaction"])
    # 4 people gave a pulse and 3 reflected: fewer than the threshold of 5.
    assert rows["Check-in pulse (1 to 5)"] == [4, SUPPRESSED]
    assert rows["Closing reflection rating (1 to 5)"] == [3, SUPPRESSED]


def test_ratings_show_once_enough_people_answered(db):
    known = build_known_program(threshold=3)
    rows = _rows(_dashboard(known).tables["satisfaction"])
    assert rows["Check-in pulse (1 to 5)"] == [4, 3.5]  # (4 + 2 + 5 + 3) / 4
    assert rows["Closing reflection rating (1 to 5)"] == [3, 3.7]  # (5 + 4 + 2) / 3


def test_breakdown_by_department_combines_small_groups(db):
    # Eng has 4 enrolled (3 matched), Sales 2 (2), Ops 2 (1).
    known = build_known_program(threshold=3)
    table = _dashboard(known).tables["by_department"]
    assert table.rows == [
        ["Eng", 4, 3, 75.0],
        ["Smaller groups combined (2)", 4, 3, 75.0],
    ]
    assert table.hidden_groups == 2
    assert "fewer than 3 people" in table.note


def test_breakdown_shows_every_group_when_all_are_large_enough(db):
    known = build_known_program(threshold=2)
    table = _dashboard(known).tables["by_department"]
    assert table.rows == [["Eng", 4, 3, 75.0], ["Ops", 2, 1, 50.0], ["Sales", 2, 2, 100.0]]


def test_breakdown_hides_everything_in_a_program_smaller_than_the_threshold(known):
    table = _dashboard(known, track=known.track).tables["by_site"]
    # The North track has 2 enrolled people (A, C), both in London: under 5.
    assert table.rows == [["Smaller groups combined (1)", SUPPRESSED, SUPPRESSED, SUPPRESSED]]


def test_track_filter(known):
    dashboard = _dashboard(known, track=known.track)
    assert _rows(dashboard.tables["funnel"]) == {
        "Invited": [2],
        "Enrolled": [2],
        "Ready": [2],
        "Matched": [2],
    }
    assert _rows(dashboard.tables["connections"]) == {
        "Active": [1],
        "Completed": [0],
        "Closed early": [0],
    }


def test_date_filter_counts_people_enrolled_in_the_period(known):
    dashboard = _dashboard(known, start_on=known.day(2).date(), end_on=known.day(4).date())
    # Only C (day 2) and D (day 3) enrolled in days 2 to 4; both are matched.
    assert _rows(dashboard.tables["funnel"])["Enrolled"] == [2]
    assert {card["label"]: card["value"] for card in dashboard.cards}["Match rate"] == 100.0


def test_new_cross_team_ties(known):
    scope = scope_for(viewer=known.manager, program=known.program)
    tables = program_ties(scope=scope)
    summary = tables["ties"].extra
    # X (A-C) repeats an earlier pairing; Y (B-D: Eng/Berlin - Sales/London) and
    # V (J-K: Eng/London - Ops/London) are new.
    assert summary["ties"] == 2
    assert summary["cross_department"] == 2
    assert summary["cross_site"] == 1
    assert summary["connections"] == 2
    assert summary["matched_people"] == 6
    assert summary["people_other_department"] == 4  # B, D, J, K
    assert summary["people_other_site"] == 2  # B, D
    rows = _rows(tables["ties"])
    assert rows["People matched who gained a tie in another department"] == [4, 66.7]
    assert rows["People matched who gained a tie at another site"] == [2, 33.3]
    matrix = tables["ties_matrix"]
    assert matrix.columns == ["Department", "Eng", "Sales", "Ops"]
    assert matrix.rows == [["Eng", 0, 1, 1], ["Sales", 1, 0, 0], ["Ops", 1, 0, 0]]


def _colleague(department, *, hired, left=None):
    return PersonFactory(
        department=department,
        level="L2",
        hire_date=hired,
        leaving_date=left,
        is_active=left is None,
    )


def test_retention_against_similar_colleagues(known):
    people = known.people
    start = known.program.starts_on
    today = known.day(DAY0_AGO).date()
    hired = people["A"].hire_date
    eng, sales = people["A"].department, people["C"].department
    # D, a participant, has left since.
    Person.objects.filter(pk=people["D"].pk).update(
        leaving_date=today - timedelta(days=5), is_active=False
    )
    # Similar colleagues: Eng L2 1-3 years: 4, two of whom left; Sales: 2, both still here.
    for left in (None, None, today - timedelta(days=3), today - timedelta(days=1)):
        _colleague(eng, hired=hired, left=left)
    for _ in range(2):
        _colleague(sales, hired=hired)
    # Not comparable: hired after the start, or gone before it, or another level.
    _colleague(eng, hired=start + timedelta(days=3))
    _colleague(eng, hired=hired, left=start - timedelta(days=1))
    PersonFactory(department=eng, level="L5", hire_date=hired)

    scope = scope_for(viewer=known.manager, program=known.program)
    table = program_outcomes(viewer=known.manager, scope=scope)["retention"]
    figures = table.extra
    # Participants compared: A, B, J (Eng) and C, D (Sales); K (Ops) has no similar colleague.
    assert figures["participants"] == 5
    assert figures["left_out"] == 1
    assert figures["participant_rate"] == 80.0  # D left
    # Weighted by participants per cell: (3 x 50 % + 2 x 100 %) / 5.
    assert figures["comparison_rate"] == 70.0
    assert figures["comparison_people"] == 6
    assert figures["difference"] == 10.0
    assert table.rows == [
        ["Participants", 5, 80.0],
        ["Similar colleagues who did not take part", 6, 70.0],
    ]
    assert "association, not a cause" in table.note


def test_retention_is_hidden_when_a_side_is_too_small(known):
    # No colleague is similar to any participant.
    scope = scope_for(viewer=known.manager, program=known.program)
    table = program_outcomes(viewer=known.manager, scope=scope)["retention"]
    assert table.rows == []
    assert table.extra["left_out"] == 6
    assert table.empty_message == (
        "No participant has a similar colleague to compare with (6 left out)."
    )


def _job_change(person, day):
    return JobChange.objects.create(
        person=person, changed_on=day, job_title_before="Before", job_title_after="After"
    )


def _moves_world(known):
    """Participants A, B, J (Eng) and C, D (Sales) with similar colleagues; K has none.

    Moves from the start to today: participants A (twice) and C; B moved before the start.
    Colleagues: Eng 1 of 4 (another moves only next week), Sales 1 of 2.
    """
    people = known.people
    start = known.program.starts_on
    today = known.day(DAY0_AGO).date()
    hired = people["A"].hire_date
    eng, sales = people["A"].department, people["C"].department
    _job_change(people["A"], start)
    _job_change(people["A"], start + timedelta(days=20))
    _job_change(people["B"], start - timedelta(days=1))
    _job_change(people["C"], today)
    eng_colleagues = [_colleague(eng, hired=hired) for _ in range(4)]
    _job_change(eng_colleagues[0], start + timedelta(days=5))
    _job_change(eng_colleagues[1], today + timedelta(days=7))
    _job_change(eng_colleagues[2], start - timedelta(days=30))
    sales_colleagues = [_colleague(sales, hired=hired) for _ in range(2)]
    _job_change(sales_colleagues[0], start + timedelta(days=40))
    # Not comparable: hired after the start (their move does not count anywhere).
    _job_change(_colleague(eng, hired=start + timedelta(days=3)), start + timedelta(days=10))
    return eng_colleagues, sales_colleagues


def test_internal_moves_against_similar_colleagues(known):
    _moves_world(known)
    scope = scope_for(viewer=known.manager, program=known.program)
    tables = program_outcomes(viewer=known.manager, scope=scope)
    table = tables["internal_moves"]
    figures = table.extra

    assert figures["participants"] == 5 and figures["left_out"] == 1
    assert figures["participants_moved"] == 2  # A once, however many changes, and C
    assert figures["participant_rate"] == 40.0
    # Weighted by participants per cell: (3 x 25 % + 2 x 50 %) / 5.
    assert figures["comparison_rate"] == 35.0
    assert figures["comparison_people"] == 6
    assert figures["difference"] == 5.0
    assert table.columns == ["Group", "People", "Moved internally (%)"]
    assert table.rows == [
        ["Participants", 5, 40.0],
        ["Similar colleagues who did not take part", 6, 35.0],
    ]
    assert "association, not a cause" in table.note
    assert "job history" in table.note
    # Retention reads the same two queries; nobody has left here.
    assert tables["retention"].extra["participant_rate"] == 100.0


def test_internal_moves_are_hidden_when_a_side_is_too_small(known):
    sales = known.people["C"].department
    colleague = _colleague(sales, hired=known.people["C"].hire_date)
    _job_change(colleague, known.program.starts_on + timedelta(days=1))
    scope = scope_for(viewer=known.manager, program=known.program)
    table = program_outcomes(viewer=known.manager, scope=scope)["internal_moves"]

    # Only C and D have a similar colleague: 2 participants against 1, under the threshold of 5.
    assert table.rows == [
        ["Participants", 2, SUPPRESSED],
        ["Similar colleagues who did not take part", 1, SUPPRESSED],
    ]
    assert table.extra["difference"] is None and not table.extra["shown"]
    assert "Hidden: fewer than 5 people" in table.note


def test_internal_moves_without_anyone_matched_is_empty():
    from tests.factories import ProgramFactory, ProgramManagerFactory

    program = ProgramFactory()
    manager = ProgramManagerFactory(program=program).user
    scope = scope_for(viewer=manager, program=program)
    table = program_outcomes(viewer=manager, scope=scope)["internal_moves"]
    assert table.rows == [] and table.empty_message == "Nobody has been matched yet."


def test_outcome_comparisons_take_two_queries_whatever_the_directory(
    known, django_assert_num_queries
):
    _moves_world(known)
    eng = known.people["A"].department
    for number in range(40):
        colleague = _colleague(eng, hired=known.people["A"].hire_date)
        _job_change(colleague, known.program.starts_on + timedelta(days=number))
    scope = scope_for(viewer=known.manager, program=known.program)
    figures = OutcomeFigures(scope, viewer=known.manager)
    with django_assert_num_queries(2):
        figures.retention_table()
        figures.internal_moves_table()
        assert figures.is_internal_moves_shown and figures.is_retention_shown


def test_report_shows_internal_moves_against_their_target(known):
    _moves_world(known)
    scope = scope_for(viewer=known.manager, program=known.program)
    report = program_report(viewer=known.manager, scope=scope)
    success = {row[0]: row[1:] for row in report.success.rows}
    # Target (none set), result, unit, target met, how measured.
    assert success["Internal moves"] == [None, 40.0, "%", "—", "similar colleagues: 35.0 %"]
    assert report.internal_moves["participant_rate"] == 40.0
    assert "internal_moves" in report.tables


def test_report_goals_against_results_and_quotes(known):
    scope = scope_for(viewer=known.manager, program=known.program)
    report = program_report(viewer=known.manager, scope=scope)
    success = {row[0]: row[1:] for row in report.success.rows}
    assert success["Match rate"][:2] == [70, 75.0]
    assert success["Match rate"][3] == "Yes"
    assert success["Time to match"][:2] == [3, 4.5]
    assert success["Time to match"][3] == "Not yet"  # fewer days is better
    assert success["Meetings per connection"][3] == "Not yet"
    assert success["New cross-team ties"][1] == 2
    assert success["Internal moves"][1] is None
    assert [quote.went_well for quote in report.quotes] == [
        "We met every fortnight and shared our dashboards."
    ]


def test_figures_are_computed_once_per_dashboard(known, django_assert_max_num_queries):
    scope = scope_for(viewer=known.manager, program=known.program)
    figures = ProgramFigures(scope, viewer=known.manager)
    figures.funnel()
    with django_assert_max_num_queries(0):
        figures.funnel()
        assert figures.match_rate == 75.0
