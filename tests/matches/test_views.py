"""The matching pages: every URL and role, settings with preview, runs, review and publishing."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from peermentor.matches import services
from peermentor.matches.models import MatchRun, Proposal, ProposalMember
from tests.conftest import ROLES
from tests.factories import MatchRunFactory, ProposalFactory
from tests.matches.conftest import MatchingWorld

pytestmark = pytest.mark.django_db


def text(response):
    return response.content.decode()


# --- permissions: every URL and role --------------------------------------------------------------
def _urls(program, run, proposal):
    return [
        ("get", reverse("match_settings", args=[program.pk])),
        ("post", reverse("match_settings", args=[program.pk])),
        ("get", reverse("match_run_list", args=[program.pk])),
        ("post", reverse("match_run_list", args=[program.pk])),
        ("get", reverse("match_run_detail", args=[run.pk])),
        ("get", reverse("match_run_status", args=[run.pk])),
        ("post", reverse("match_run_cancel", args=[run.pk])),
        ("post", reverse("match_run_rerun", args=[run.pk])),
        ("get", reverse("match_run_publish", args=[run.pk])),
        ("post", reverse("match_run_publish", args=[run.pk])),
        ("get", reverse("match_run_unmatched", args=[run.pk])),
        ("get", reverse("match_manual_pair", args=[run.pk])),
        ("post", reverse("match_manual_pair", args=[run.pk])),
        ("get", reverse("match_manual_pair_check", args=[run.pk])),
        ("get", reverse("match_manual_pair_search", args=[run.pk]) + "?field=first&first_q=a"),
        ("post", reverse("match_proposal_lock", args=[proposal.pk])),
        ("post", reverse("match_proposal_exclude", args=[proposal.pk])),
    ]


EXPECTED = {
    "anonymous": {302},
    "outsider": {404},
    "other_manager": {404},
    "participant": {403},
    "manager": {200, 302},
    "admin": {200, 302},
}


@pytest.mark.parametrize("role", ROLES)
def test_every_matching_url_by_role(client, personas, role):
    program = personas.program
    program.status = "matching"
    program.save()
    run = MatchRunFactory(program=program)
    proposal = ProposalFactory(run=run)
    user = personas.user(role)
    if user is not None:
        client.force_login(user)
    for method, url in _urls(program, run, proposal):
        response = getattr(client, method)(url)
        assert response.status_code in EXPECTED[role], (role, method, url, response.status_code)
        if role == "anonymous":
            assert "/accounts/login/" in response["Location"]


def test_outsiders_of_another_program_get_404_for_its_runs(client, personas):
    run = MatchRunFactory(program=personas.other_program)
    client.force_login(personas.manager)
    assert client.get(reverse("match_run_detail", args=[run.pk])).status_code in (403, 404)
    assert client.get(reverse("match_run_detail", args=[999999])).status_code == 404


# --- settings -------------------------------------------------------------------------------
def _settings_data(world, **overrides):
    data = {
        "objective": "quality",
        "min_score": "0.1",
        "criteria-TOTAL_FORMS": "2",
        "criteria-INITIAL_FORMS": "0",
        "criteria-MIN_NUM_FORMS": "0",
        "criteria-MAX_NUM_FORMS": "30",
        "criteria-0-kind": "complement",
        "criteria-0-offer": "skills_offered",
        "criteria-0-want": "skills_wanted",
        "criteria-0-weight": "3",
        "criteria-1-kind": "",
        "constraints-TOTAL_FORMS": "1",
        "constraints-INITIAL_FORMS": "0",
        "constraints-MIN_NUM_FORMS": "0",
        "constraints-MAX_NUM_FORMS": "30",
        "constraints-0-kind": "must_differ",
        "constraints-0-field": "department",
    }
    data.update(overrides)
    return data


def test_settings_page_shows_the_goal_defaults(client, world):
    world.program.matching_policy = {}
    world.program.save()
    client.force_login(world.manager)
    page = text(client.get(reverse("match_settings", args=[world.program.pk])))
    assert "Matching settings" in page
    assert 'value="complement" selected' in page
    assert "Skills you offer (question)" in page
    assert "Preview" in page


def test_settings_save_and_errors_beside_fields(client, world):
    client.force_login(world.manager)
    url = reverse("match_settings", args=[world.program.pk])
    response = client.post(url, _settings_data(world))
    assert response.status_code == 302
    world.program.refresh_from_db()
    assert world.program.matching_policy["min_score"] == 0.1
    assert world.program.matching_policy["constraint"] == [
        {"kind": "must_differ", "field": "department"}
    ]

    bad = _settings_data(
        world,
        **{"criteria-1-kind": "near", "criteria-1-field": "department", "criteria-1-weight": "1"},
        min_score="4",
    )
    response = client.post(url, bad)
    assert response.status_code == 200
    page = text(response)
    assert "A near criterion needs a number attribute." in page
    assert "A near criterion needs a scale above 0." in page
    assert "less than or equal to 1" in page
    # What was typed is still there.
    assert 'name="min_score" value="4"' in page
    world.program.refresh_from_db()
    assert world.program.matching_policy["min_score"] == 0.1


def test_preview_shows_counts_and_pairs_without_saving(client, world):
    client.force_login(world.manager)
    before = world.program.matching_policy
    response = client.post(
        reverse("match_settings", args=[world.program.pk]),
        _settings_data(world, action="preview"),
    )
    page = text(response)
    assert response.status_code == 200
    assert "Preview (nothing saved)" in page
    assert "6 people who are ready" in page
    assert "3 matches, 6 people placed, 0 left out" in page
    world.program.refresh_from_db()
    assert world.program.matching_policy == before
    assert not MatchRun.objects.exists()


# --- runs -----------------------------------------------------------------------------------
def test_start_a_run_then_review_it(client, world, django_capture_on_commit_callbacks):
    client.force_login(world.manager)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("match_run_list", args=[world.program.pk]), {})
    run = MatchRun.objects.get()
    assert response["Location"] == reverse("match_run_detail", args=[run.pk])
    page = text(client.get(response["Location"]))
    assert "Finished" in page
    assert "Person 00" in page
    assert "Re-run for the rest" in page
    listing = text(client.get(reverse("match_run_list", args=[world.program.pk])))
    assert f"Run {run.pk}" in listing


def test_a_program_not_matched_by_runs_offers_no_settings_link(client, db):
    # The settings page answers 404 for such a program; the runs page used to link to it.
    world = MatchingWorld(format="help_network", goals=[], people=0)
    client.force_login(world.manager)
    listing = text(client.get(reverse("match_run_list", args=[world.program.pk])))
    assert "programs are not matched by match runs" in listing
    assert reverse("match_settings", args=[world.program.pk]) not in listing
    assert client.get(reverse("match_settings", args=[world.program.pk])).status_code == 404


def test_a_queued_run_polls_and_can_be_cancelled(client, world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        run = services.match_run_start(actor=world.manager, program=world.program)
    client.force_login(world.manager)
    page = text(client.get(reverse("match_run_detail", args=[run.pk])))
    assert 'hx-trigger="every 2s"' in page
    assert "Cancel the run" in page
    status = client.get(reverse("match_run_status", args=[run.pk]), HTTP_HX_REQUEST="true")
    assert "HX-Refresh" not in status
    response = client.post(reverse("match_run_cancel", args=[run.pk]))
    assert response.status_code == 302
    run.refresh_from_db()
    assert run.status == "cancelled"
    status = client.get(reverse("match_run_status", args=[run.pk]), HTTP_HX_REQUEST="true")
    assert status["HX-Refresh"] == "true"
    assert 'hx-trigger="every 2s"' not in text(status)


def test_a_failed_run_says_why(client, world):
    run = MatchRunFactory(
        program=world.program, status="failed", error_message="The minimum score is 4."
    )
    client.force_login(world.manager)
    page = text(client.get(reverse("match_run_detail", args=[run.pk])))
    assert "The run failed: The minimum score is 4." in page


@pytest.fixture
def finished_run(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        run = services.match_run_start(actor=world.manager, program=world.program)
    run.refresh_from_db()
    return run


def test_lock_with_htmx_returns_the_row(client, world, finished_run):
    proposal = Proposal.objects.filter(run=finished_run).first()
    client.force_login(world.manager)
    response = client.post(
        reverse("match_proposal_lock", args=[proposal.pk]),
        {"value": "on"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert f'id="proposal-{proposal.pk}"' in text(response)
    assert "Locked" in text(response) and "Unlock" in text(response)
    proposal.refresh_from_db()
    assert proposal.is_locked
    # Without JavaScript: a plain post redirects back, keeping the filters.
    back = reverse("match_run_detail", args=[finished_run.pk]) + "?state=locked"
    response = client.post(
        reverse("match_proposal_exclude", args=[proposal.pk]), {"value": "on", "next": back}
    )
    assert response["Location"] == back
    proposal.refresh_from_db()
    assert not proposal.is_excluded  # locked proposals can't be excluded


def test_proposals_filter_by_state_department_and_warnings(client, world, finished_run):
    proposals = list(Proposal.objects.filter(run=finished_run).order_by("id"))
    services.proposal_set_locked(actor=world.manager, proposal=proposals[0], is_locked=True)
    client.force_login(world.manager)
    url = reverse("match_run_detail", args=[finished_run.pk])
    response = client.get(url, {"state": "locked"})
    assert list(response.context["page"].object_list) == [proposals[0]]
    department = proposals[1].members.first().participant.person.department
    response = client.get(url, {"department": department.pk, "sort": "score"})
    listed = response.context["page"].object_list
    assert proposals[1] in listed
    for proposal in listed:
        assert department.pk in [m.participant.person.department_id for m in proposal.members.all()]
    assert list(client.get(url, {"warnings": "yes"}).context["page"].object_list) == []
    assert client.get(url, {"department": "x", "sort": "nonsense", "page": "-1"}).status_code == 200


def test_proposals_page_queries_do_not_grow_with_proposals(client, world, finished_run):
    client.force_login(world.manager)
    url = reverse("match_run_detail", args=[finished_run.pk])

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    few = count()
    participants = [world.add(100 + index) for index in range(40)]
    for index in range(0, 40, 2):
        proposal = ProposalFactory(run=finished_run)
        for participant in participants[index : index + 2]:
            ProposalMember.objects.create(
                proposal=proposal, run=finished_run, participant=participant, role="peer"
            )
    assert Proposal.objects.filter(run=finished_run).count() == 23
    assert count() == few


def test_manual_pair_live_check_and_confirm(client, world, finished_run):
    boss, report = world.participants[0], world.participants[1]
    report.person.manager = boss.person
    report.person.save()
    client.force_login(world.manager)
    check = client.get(
        reverse("match_manual_pair_check", args=[finished_run.pk]),
        {"first": boss.pk, "second": report.pk},
        HTTP_HX_REQUEST="true",
    )
    assert "Score" in text(check)
    assert "reporting line" in text(check)
    response = client.post(
        reverse("match_manual_pair", args=[finished_run.pk]),
        {"first": boss.pk, "second": report.pk, "action": "confirm"},
    )
    assert response.status_code == 302
    proposal = Proposal.objects.get(run=finished_run, is_manual=True)
    assert proposal.has_warnings and proposal.is_locked
    # Bad input: nobody chosen, or the same person twice.
    response = client.post(
        reverse("match_manual_pair", args=[finished_run.pk]), {"action": "confirm"}
    )
    assert response.status_code == 200 and "This field is required." in text(response)
    response = client.post(
        reverse("match_manual_pair", args=[finished_run.pk]),
        {"first": boss.pk, "second": boss.pk, "action": "confirm"},
    )
    assert "Choose two different people." in text(response)


def _search(client, run, field="first", **params):
    return client.get(
        reverse("match_manual_pair_search", args=[run.pk]),
        {"field": field, **params},
        HTTP_HX_REQUEST="true",
    )


def _choices(response):
    """The people offered by a picker, as (participant id, checked)."""
    html = text(response)
    return [
        (int(part.split('value="')[1].split('"')[0]), " checked" in part.split(">")[0])
        for part in html.split('<input type="radio"')[1:]
    ]


def test_manual_pair_search_is_for_the_runs_managers_only(client, personas):
    personas.program.status = "matching"
    personas.program.save()
    run = MatchRunFactory(program=personas.program)
    url = reverse("match_manual_pair_search", args=[run.pk])
    params = {"field": "first", "first_q": "a"}
    for role, status in [
        ("participant", 403),
        ("outsider", 404),
        ("other_manager", 404),
        ("manager", 200),
        ("admin", 200),
    ]:
        client.force_login(personas.user(role))
        assert client.get(url, params).status_code == status, role
    client.logout()
    assert "/accounts/login/" in client.get(url, params)["Location"]
    client.force_login(personas.manager)
    assert client.get(url, {"first_q": "a"}).status_code == 400
    assert client.get(reverse("match_manual_pair_search", args=[999999]), params).status_code == 404


def test_manual_pair_page_lists_nobody_until_searched(client, world, finished_run):
    client.force_login(world.manager)
    page = text(client.get(reverse("match_manual_pair", args=[finished_run.pk])))
    assert "<select" not in page
    assert 'type="search"' in page and "Search by name or e-mail" in page
    for participant in world.participants:
        assert participant.person.full_name not in page
    assert "Type part of a name or e-mail, then choose." in page
    # A link naming one person shows them chosen, without "required" errors for the other.
    ana = world.participants[0]
    page = text(client.get(reverse("match_manual_pair", args=[finished_run.pk]), {"first": ana.pk}))
    assert f'value="{ana.pk}" checked' in page and "This field is required." not in page


def test_manual_pair_search_by_name_or_email_shows_at_most_twenty(client, world, finished_run):
    from peermentor.matches.models import UnmatchedEntry

    many = [world.add(200 + index, full_name=f"Zed Many {index:02d}") for index in range(25)]
    for participant in many:
        UnmatchedEntry.objects.create(run=finished_run, participant=participant, reason="late")
    not_in_run = world.add(300, full_name="Zed Outside")
    client.force_login(world.manager)

    response = _search(client, finished_run, first_q="  zed   many ")
    offered = [pk for pk, _ in _choices(response)]
    assert offered == [p.pk for p in many[:20]]
    assert not_in_run.pk not in offered
    assert "More than 20 people match “zed many”" in text(response)

    ana = world.participants[0]
    by_email = _search(client, finished_run, "second", second_q=ana.person.email.upper())
    assert _choices(by_email) == [(ana.pk, False)]
    assert "1 match “" in text(by_email)
    assert 'name="second"' in text(by_email)

    # The person already chosen stays first and checked while the search changes.
    # (By e-mail: "03" alone could also match other people's generated e-mail addresses.)
    kept = _search(client, finished_run, first=ana.pk, first_q=many[3].person.email)
    assert _choices(kept) == [(ana.pk, True), (many[3].pk, False)]
    # Someone outside the run, or nonsense, is never offered as chosen.
    assert _choices(_search(client, finished_run, first=not_in_run.pk, first_q="")) == []
    assert "Nobody else in this run matches" in text(
        _search(client, finished_run, first_q="nobody-like-this")
    )
    assert _choices(_search(client, finished_run, first="x", first_q="")) == []


def test_manual_pair_search_queries_do_not_grow_with_people(client, world, finished_run):
    from peermentor.matches.models import UnmatchedEntry

    client.force_login(world.manager)

    def count(query):
        with CaptureQueriesContext(connection) as queries:
            response = _search(client, finished_run, first=world.participants[0].pk, first_q=query)
            assert response.status_code == 200
        return len(queries), len(_choices(response))

    few, offered_few = count("Person")
    for index in range(40):
        participant = world.add(400 + index, full_name=f"Person Extra {index:02d}")
        UnmatchedEntry.objects.create(run=finished_run, participant=participant, reason="late")
    many, offered_many = count("Person")
    assert (offered_few, offered_many) == (6, 21)
    assert many == few


def test_manual_pair_works_without_javascript(client, world, finished_run):
    ana, ben = world.participants[:2]
    client.force_login(world.manager)
    url = reverse("match_manual_pair", args=[finished_run.pk])
    # Enter in a search field submits "Search": the page comes back with the matches.
    response = client.post(url, {"action": "search", "first_q": ana.person.full_name})
    page = text(response)
    assert response.status_code == 200
    assert f'value="{ana.pk}"' in page and "This field is required." not in page
    response = client.post(url, {"action": "search", "first": ana.pk, "second_q": ben.person.email})
    assert _choices(response) == [(ana.pk, True), (ben.pk, False)]
    response = client.post(url, {"action": "search", "first": ana.pk, "second": ben.pk})
    assert "Score" in text(response)
    response = client.post(url, {"first": ana.pk, "second": ben.pk, "action": "confirm"})
    assert response.status_code == 302
    assert Proposal.objects.filter(run=finished_run, is_manual=True).exists()


def test_publish_page_then_publish(
    client, world, finished_run, mailoutbox, django_capture_on_commit_callbacks
):
    client.force_login(world.manager)
    url = reverse("match_run_publish", args=[finished_run.pk])
    assert "Publish and notify" in text(client.get(url))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url)
    assert response.status_code == 302
    finished_run.refresh_from_db()
    assert finished_run.is_published
    assert len(mailoutbox) == 6
    page = text(client.get(reverse("match_run_detail", args=[finished_run.pk])))
    assert "Published" in page and "Publish…" not in page


def test_unmatched_page_lists_reasons(client, world, django_capture_on_commit_callbacks):
    world.add(9, full_name="Odd One")
    with django_capture_on_commit_callbacks(execute=True):
        run = services.match_run_start(actor=world.manager, program=world.program)
    from peermentor.matches.models import UnmatchedEntry

    left_out = UnmatchedEntry.objects.select_related("participant__person").get(run=run)
    client.force_login(world.manager)
    page = text(client.get(reverse("match_run_unmatched", args=[run.pk])))
    assert left_out.participant.person.full_name in page
    assert left_out.reason in page


def test_run_list_and_unmatched_pages_have_bounded_queries(client, world):
    from peermentor.matches.models import UnmatchedEntry

    client.force_login(world.manager)
    runs_url = reverse("match_run_list", args=[world.program.pk])
    first = MatchRunFactory(program=world.program, created_by=world.manager)
    unmatched_url = reverse("match_run_unmatched", args=[first.pk])

    def count(url):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    few_runs, few_unmatched = count(runs_url), count(unmatched_url)
    for _ in range(8):
        MatchRunFactory(program=world.program, created_by=world.manager, status="failed")
    for participant in world.participants:
        UnmatchedEntry.objects.create(run=first, participant=participant, reason="No partner.")
    assert count(runs_url) == few_runs
    assert count(unmatched_url) <= few_unmatched + 1  # + the page's row query once non-empty
    assert "No partner." in text(client.get(unmatched_url))


def test_an_edit_swaps_the_summary_with_the_new_figures(client, world, finished_run):
    """Issue 12: counts and total follow each edit without a reload, and the page says when the
    proposals are no longer the certified result."""
    proposal = Proposal.objects.filter(run=finished_run).order_by("-score", "id").first()
    client.force_login(world.manager)
    response = client.post(
        reverse("match_proposal_exclude", args=[proposal.pk]),
        {"value": "on"},
        HTTP_HX_REQUEST="true",
    )
    page = response.content.decode()
    assert f'id="proposal-{proposal.pk}"' in page
    assert 'id="run-summary" hx-swap-oob="true"' in page
    finished_run.refresh_from_db()
    assert finished_run.unmatched_count == 2
    assert "<dt>Left out</dt>" in page and ">2<span" in page
    assert "no longer the set the engine certified" in page
    assert (
        f"{finished_run.total_score:.2f}, {finished_run.gap_text} below the best possible "
        f"{finished_run.upper_bound:.2f}"
    ) in page

    detail = client.get(reverse("match_run_detail", args=[finished_run.pk])).content.decode()
    assert "no longer the set the engine certified" in detail
    assert f"{finished_run.total_score:.2f}, {finished_run.gap_text} below" in detail
