import pytest

from peermentor.core.models import AuditEvent
from peermentor.programs.models import Program
from tests.api.conftest import assert_error
from tests.factories import (
    DepartmentFactory,
    ParticipantFactory,
    ProgramFactory,
    ProgramManagerFactory,
)

pytestmark = pytest.mark.django_db

PROGRAMS = "/api/v1/programs"


def names(response):
    assert response.status_code == 200, response.content[:300]
    return [item["name"] for item in response.json()["items"]]


# --- list ------------------------------------------------------------------------------------
def test_each_viewer_lists_the_programs_they_may_see(api_as, personas):
    ProgramFactory(name="Hidden draft", status="draft")
    running = ProgramFactory(name="Running elsewhere", status="running")
    assert set(names(api_as(personas.admin).get(PROGRAMS))) == {
        "Skills Exchange",
        "Other Program",
        "Hidden draft",
        "Running elsewhere",
    }
    # Employees see what is open for enrollment, participants their own programs as well.
    ParticipantFactory(program=running, person=personas.participant_record.person)
    assert set(names(api_as(personas.participant).get(PROGRAMS))) == {
        "Skills Exchange",
        "Other Program",
        "Running elsewhere",
    }
    assert set(names(api_as(personas.outsider).get(PROGRAMS))) == {
        "Skills Exchange",
        "Other Program",
    }


def test_the_list_carries_counts_and_the_viewers_roles(api_as, personas):
    body = api_as(personas.manager).get(PROGRAMS, search="skills").json()
    assert body["count"] == 1
    item = body["items"][0]
    assert item["participant_count"] == 2 and item["ready_count"] == 0
    assert item["viewer_is_manager"] is True and item["viewer_is_participant"] is False


def test_the_list_filters_by_status(api_as, personas):
    ProgramFactory(name="Closed one", status="closed")
    assert names(api_as(personas.admin).get(PROGRAMS, status="closed")) == ["Closed one"]
    assert_error(api_as(personas.admin).get(PROGRAMS, status="finished"), 400, "status")


def test_the_list_runs_the_same_queries_for_more_programs(api_as, personas):
    api = api_as(personas.admin)
    few = api.queries(PROGRAMS)
    for _ in range(20):
        program = ProgramFactory()
        ParticipantFactory(program=program)
        ProgramManagerFactory(program=program)
    assert api.queries(PROGRAMS) == few <= 6


# --- one program -------------------------------------------------------------------------------
def test_managers_get_the_management_data_and_participants_do_not(api_as, personas):
    url = f"{PROGRAMS}/{personas.program.pk}"
    managed = api_as(personas.manager).get(url).json()
    assert managed["can_manage"] is True
    management = managed["management"]
    assert management["counts"]["participant_count"] == 2
    assert management["allowed_transitions"] == ["matching", "draft"]
    assert management["manager_emails"] == [personas.manager.email]
    seen = api_as(personas.participant).get(url).json()
    assert seen["is_participant"] is True and seen["management"] is None


def test_a_draft_is_hidden_from_everyone_but_its_managers(api_as, personas):
    draft = ProgramFactory(status="draft")
    ProgramManagerFactory(program=draft, user=personas.manager)
    url = f"{PROGRAMS}/{draft.pk}"
    for user in (personas.outsider, personas.participant, personas.other_manager):
        assert_error(api_as(user).get(url), 404)
    assert api_as(personas.manager).get(url).status_code == 200


# --- create ----------------------------------------------------------------------------------
def test_an_admin_creates_a_draft_program_from_its_goals(api_as, personas):
    response = api_as(personas.admin).post(
        PROGRAMS,
        {
            "name": "  New joiners  ",
            "goals": ["onboarding"],
            "enrollment_opens_on": "2030-01-01",
            "enrollment_closes_on": "2030-01-31",
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    program = Program.objects.get(pk=body["id"])
    assert program.name == "New joiners" and program.status == "draft"
    assert body["format"] == "buddies" == program.format
    assert body["questions"] and body["training_modules"]
    assert body["management"]["allowed_transitions"] == ["enrolling"]
    assert AuditEvent.objects.filter(action="program.created", target_id=program.pk).exists()


def test_a_chosen_format_and_eligibility_are_kept(api_as, personas):
    finance = DepartmentFactory(name="Finance")
    response = api_as(personas.admin).post(
        PROGRAMS,
        {
            "name": "Circles",
            "goals": ["wellbeing"],
            "format": "circles",
            "group_size_min": 3,
            "group_size_max": 5,
            "eligibility": {"department_ids": [finance.pk]},
        },
    )
    assert response.status_code == 201, response.content
    program = Program.objects.get(pk=response.json()["id"])
    assert (program.format, program.group_size_min, program.group_size_max) == ("circles", 3, 5)
    assert program.eligibility == {"department_ids": [finance.pk]}


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"name": "X", "goals": []}, "goals"),
        ({"name": "X", "goals": ["world_peace"]}, "goals"),
        ({"name": "X", "goals": "networking"}, "goals"),
        ({"name": "   ", "goals": ["networking"]}, "name"),
        ({"goals": ["networking"]}, "name"),
        ({"name": "X", "goals": ["networking"], "format": "speed_dating"}, "format"),
        (
            {
                "name": "X",
                "goals": ["networking"],
                "enrollment_opens_on": "2030-02-01",
                "enrollment_closes_on": "2030-01-01",
            },
            "enrollment_closes_on",
        ),
        ({"name": "X", "goals": ["networking"], "starts_on": "next week"}, "starts_on"),
        (
            {"name": "X", "goals": ["networking"], "group_size_min": 5, "group_size_max": 3},
            "group_size_max",
        ),
        ({"name": "X", "goals": ["networking"], "anonymity_threshold": 1}, "anonymity_threshold"),
        (
            {"name": "X", "goals": ["networking"], "eligibility": {"department_ids": [999999]}},
            "eligibility",
        ),
        (
            {"name": "X", "goals": ["networking"], "eligibility": {"department_ids": ["a"]}},
            "eligibility.department_ids",
        ),
        ({"name": "X" * 201, "goals": ["networking"]}, "name"),
    ],
)
def test_bad_settings_are_refused_beside_their_field(api_as, personas, payload, field):
    before = Program.objects.count()
    assert_error(api_as(personas.admin).post(PROGRAMS, payload), 400, field)
    assert Program.objects.count() == before


def test_only_organisation_admins_create_programs(api_as, personas):
    assert_error(
        api_as(personas.manager).post(PROGRAMS, {"name": "X", "goals": ["networking"]}), 403
    )


# --- status ----------------------------------------------------------------------------------
def test_a_manager_moves_the_program_on_with_a_reason(api_as, personas):
    url = f"{PROGRAMS}/{personas.program.pk}/transition"
    response = api_as(personas.manager).post(
        url, {"to_status": "matching", "reason": "Enrollment closed on Friday."}
    )
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "matching"
    event = AuditEvent.objects.get(action="program.status_changed")
    assert (event.from_state, event.to_state, event.actor) == (
        "enrolling",
        "matching",
        personas.manager,
    )
    assert event.reason == "Enrollment closed on Friday."


def test_a_move_the_status_does_not_allow_is_a_conflict(api_as, personas):
    url = f"{PROGRAMS}/{personas.program.pk}/transition"
    body = assert_error(
        api_as(personas.manager).post(url, {"to_status": "closed", "reason": "Done"}),
        409,
        "to_status",
    )
    assert "can move to" in body["message"]
    personas.program.refresh_from_db()
    assert personas.program.status == "enrolling"


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"to_status": "matching", "reason": "   "}, "reason"),
        ({"to_status": "matching"}, "reason"),
        ({"to_status": "archived", "reason": "Why not"}, "to_status"),
        ({"reason": "Why not"}, "to_status"),
    ],
)
def test_a_move_needs_a_known_status_and_a_reason(api_as, personas, payload, field):
    url = f"{PROGRAMS}/{personas.program.pk}/transition"
    assert_error(api_as(personas.manager).post(url, payload), 400, field)
    personas.program.refresh_from_db()
    assert personas.program.status == "enrolling"
