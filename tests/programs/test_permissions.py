"""Every program URL and every persona → status. A new URL fails `test_every_url_is_listed`
until it is added to ENDPOINTS."""

import pytest
from django.urls import get_resolver, reverse

from peermentor.programs import urls as program_urls
from peermentor.programs.models import Program, ProgramStatus
from peermentor.programs.permissions import can_create_program, can_manage_program
from tests.conftest import ROLES
from tests.factories import (
    ProfileQuestionFactory,
    ProgramManagerFactory,
    TrackFactory,
    TrainingModuleFactory,
    UserFactory,
)
from tests.urlnames import app_url_names

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"

# Who gets what, by kind of page, for a program open for enrollment.
OPEN = {"outsider": 200, "participant": 200, "other_manager": 200, "manager": 200, "admin": 200}
MANAGE = {"outsider": 403, "participant": 403, "other_manager": 403, "manager": 200, "admin": 200}
ADMIN_ONLY = {
    "outsider": 403,
    "participant": 403,
    "other_manager": 403,
    "manager": 403,
    "admin": 200,
}


def redirect_on_success(expected):
    """A successful POST redirects (302) where a GET would show the page (200)."""
    return {role: 302 if status == 200 else status for role, status in expected.items()}


def _objects(personas):
    program = personas.program
    return {
        "pk": program.pk,
        "track_pk": TrackFactory(program=program).pk,
        "question_pk": ProfileQuestionFactory(program=program).pk,
        "module_pk": TrainingModuleFactory(program=program).pk,
    }


# (url name, URL kwargs used, method, POST data, expected statuses by role)
ENDPOINTS = [
    ("program_list", [], "get", None, OPEN),
    ("program_create", [], "get", None, ADMIN_ONLY),
    (
        "program_create",
        [],
        "post",
        lambda p: {
            "goals": ["networking"],
            "name": "New",
            "format": "pairs",
            "group_size_min": 4,
            "group_size_max": 6,
            "default_capacity": 1,
            "anonymity_threshold": 5,
        },
        redirect_on_success(ADMIN_ONLY),
    ),
    ("program_defaults_preview", [], "get", None, ADMIN_ONLY),
    ("program_detail", ["pk"], "get", None, OPEN),
    ("program_edit", ["pk"], "get", None, MANAGE),
    (
        "program_edit",
        ["pk"],
        "post",
        lambda p: {
            "name": "Renamed",
            "goals": ["skill_learning"],
            "format": "pairs",
            "group_size_min": 4,
            "group_size_max": 6,
            "default_capacity": 1,
            "anonymity_threshold": 5,
        },
        redirect_on_success(MANAGE),
    ),
    (
        "program_transition",
        ["pk"],
        "post",
        lambda p: {"to_status": "matching", "reason": "Enrollment is over"},
        redirect_on_success(MANAGE),
    ),
    ("program_copy", ["pk"], "get", None, MANAGE),
    ("program_close", ["pk"], "get", None, MANAGE),
    ("program_track_complete", ["pk", "track_pk"], "get", None, MANAGE),
    ("program_copy", ["pk"], "post", lambda p: {"name": "Next"}, redirect_on_success(MANAGE)),
    ("program_history", ["pk"], "get", None, MANAGE),
    ("program_tracks", ["pk"], "get", None, MANAGE),
    ("program_tracks", ["pk"], "post", lambda p: {"name": "APAC"}, redirect_on_success(MANAGE)),
    ("program_track_edit", ["pk", "track_pk"], "get", None, MANAGE),
    (
        "program_track_edit",
        ["pk", "track_pk"],
        "post",
        lambda p: {"name": "EMEA"},
        redirect_on_success(MANAGE),
    ),
    ("program_track_delete", ["pk", "track_pk"], "get", None, MANAGE),
    ("program_track_delete", ["pk", "track_pk"], "post", lambda p: {}, redirect_on_success(MANAGE)),
    ("program_managers", ["pk"], "get", None, MANAGE),
    (
        "program_managers",
        ["pk"],
        "post",
        lambda p: {"email": UserFactory().email},
        {**redirect_on_success(MANAGE), "manager": 403},
    ),
    (
        "program_manager_remove",
        ["pk"],
        "post",
        lambda p: {"email": p.manager.email},
        {**redirect_on_success(MANAGE), "manager": 403},
    ),
    ("program_questions", ["pk"], "get", None, MANAGE),
    (
        "program_questions",
        ["pk"],
        "post",
        lambda p: {"label": "Team?", "key": "team", "kind": "text"},
        redirect_on_success(MANAGE),
    ),
    ("program_question_edit", ["pk", "question_pk"], "get", None, MANAGE),
    (
        "program_question_edit",
        ["pk", "question_pk"],
        "post",
        lambda p: {"label": "Team?", "key": "team", "kind": "text"},
        redirect_on_success(MANAGE),
    ),
    ("program_question_delete", ["pk", "question_pk"], "get", None, MANAGE),
    (
        "program_question_delete",
        ["pk", "question_pk"],
        "post",
        lambda p: {},
        redirect_on_success(MANAGE),
    ),
    (
        "program_question_move",
        ["pk", "question_pk"],
        "post",
        lambda p: {"direction": "up"},
        redirect_on_success(MANAGE),
    ),
    ("program_training", ["pk"], "get", None, MANAGE),
    (
        "program_training",
        ["pk"],
        "post",
        lambda p: {"title": "T", "kind": "acknowledge", "body": "B", "pass_mark_percent": 100},
        redirect_on_success(MANAGE),
    ),
    ("program_training_edit", ["pk", "module_pk"], "get", None, MANAGE),
    (
        "program_training_edit",
        ["pk", "module_pk"],
        "post",
        lambda p: {"title": "T", "kind": "acknowledge", "body": "B", "pass_mark_percent": 100},
        redirect_on_success(MANAGE),
    ),
    ("program_training_delete", ["pk", "module_pk"], "get", None, MANAGE),
    (
        "program_training_delete",
        ["pk", "module_pk"],
        "post",
        lambda p: {},
        redirect_on_success(MANAGE),
    ),
]


def endpoint_id(endpoint):
    return f"{endpoint[2].upper()} {endpoint[0]}"


def request(client, personas, role, endpoint, objects):
    name, kwarg_names, method, data, _expected = endpoint
    user = personas.user(role)
    if user is not None:
        client.force_login(user)
    url = reverse(name, kwargs={key: objects[key] for key in kwarg_names})
    if method == "get":
        return client.get(url)
    return client.post(url, data(personas) if data else {})


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=endpoint_id)
@pytest.mark.parametrize("role", ROLES)
def test_every_url_and_role_on_a_program_open_for_enrollment(client, personas, role, endpoint):
    objects = _objects(personas)
    response = request(client, personas, role, endpoint, objects)
    if role == "anonymous":
        assert response.status_code == 302
        assert response["Location"].startswith(LOGIN)
        return
    assert response.status_code == endpoint[4][role], response.content[:500]


HIDDEN_IN_DRAFT = {"outsider": 404, "participant": 404, "other_manager": 404}


@pytest.mark.parametrize("endpoint", [e for e in ENDPOINTS if "pk" in e[1]], ids=endpoint_id)
@pytest.mark.parametrize("role", ["outsider", "participant", "other_manager", "manager", "admin"])
def test_drafts_are_invisible_to_everyone_but_their_managers(client, personas, role, endpoint):
    Program.objects.filter(pk=personas.program.pk).update(status=ProgramStatus.DRAFT)
    objects = _objects(personas)
    if endpoint[0] == "program_transition":
        # A draft can only open enrollment.
        endpoint = (
            *endpoint[:3],
            lambda p: {"to_status": "enrolling", "reason": "Ready"},
            endpoint[4],
        )
    response = request(client, personas, role, endpoint, objects)
    assert response.status_code == HIDDEN_IN_DRAFT.get(role, endpoint[4][role])


@pytest.mark.parametrize(
    ("status", "role", "expected"),
    [
        (ProgramStatus.RUNNING, "participant", 200),
        (ProgramStatus.RUNNING, "outsider", 404),
        (ProgramStatus.CLOSED, "participant", 200),
        (ProgramStatus.CLOSED, "other_manager", 404),
        (ProgramStatus.MATCHING, "manager", 200),
    ],
)
def test_running_programs_are_seen_by_their_people_only(client, personas, status, role, expected):
    Program.objects.filter(pk=personas.program.pk).update(status=status)
    client.force_login(personas.user(role))
    assert client.get(reverse("program_detail", args=[personas.program.pk])).status_code == expected


def test_objects_of_another_program_are_not_found_through_this_one(client, personas):
    client.force_login(personas.manager)
    foreign_track = TrackFactory(program=personas.other_program)
    foreign_question = ProfileQuestionFactory(program=personas.other_program)
    foreign_module = TrainingModuleFactory(program=personas.other_program)
    pk = personas.program.pk
    for url in [
        reverse("program_track_edit", args=[pk, foreign_track.pk]),
        reverse("program_question_edit", args=[pk, foreign_question.pk]),
        reverse("program_training_edit", args=[pk, foreign_module.pk]),
    ]:
        assert client.get(url).status_code == 404
    assert (
        client.post(reverse("program_track_delete", args=[pk, foreign_track.pk])).status_code == 404
    )
    foreign_track.refresh_from_db()


def test_a_program_that_does_not_exist_is_not_found(client, personas):
    client.force_login(personas.admin)
    assert client.get(reverse("program_detail", args=[999999])).status_code == 404


def test_action_urls_refuse_get(client, personas):
    client.force_login(personas.admin)
    pk = personas.program.pk
    question = ProfileQuestionFactory(program=personas.program)
    for url in [
        reverse("program_transition", args=[pk]),
        reverse("program_manager_remove", args=[pk]),
        reverse("program_question_move", args=[pk, question.pk]),
    ]:
        assert client.get(url).status_code == 405


def test_every_url_is_listed():
    names = app_url_names(program_urls, "programs/")
    assert names == {endpoint[0] for endpoint in ENDPOINTS}
    assert all(name.startswith("program_") for name in names)
    assert get_resolver()  # the URLconf loads


def test_predicates(personas):
    inactive_admin = UserFactory(is_org_admin=True, is_active=False)
    assert can_create_program(personas.admin)
    assert not can_create_program(personas.manager)
    assert not can_create_program(inactive_admin)
    assert can_manage_program(personas.manager, personas.program)
    assert not can_manage_program(personas.other_manager, personas.program)
    assert not can_manage_program(inactive_admin, personas.program)
    other = ProgramManagerFactory(program=personas.other_program).user
    assert can_manage_program(other, personas.other_program)
