"""The API's endpoint catalogue and the world the permission matrix runs in.

`ENDPOINTS` lists every operation of /api/v1 with what each persona gets; `test_permissions`
fails when an operation exists that is not listed here, so a new endpoint can't ship without
its row.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone

from peermentor.api.main import api
from peermentor.api.services import api_token_create
from peermentor.matches.models import MatchRun, ProposalMember
from peermentor.people.services import people_import_preview
from tests.factories import (
    ConnectionFactory,
    ConnectionMemberFactory,
    MatchRunFactory,
    ProposalFactory,
    ReadyParticipantFactory,
)

ROLES = [
    "anonymous",
    "outsider",
    "participant",
    "other_participant",
    "other_manager",
    "manager",
    "admin",
]

HR_FILE = (
    b"external_id,full_name,email,department,site\n"
    b"H1,Ana Lima,ana.lima@example.com,Finance,Lyon\n"
    b"H2,Bo Chen,bo.chen@example.com,Sales,Lyon\n"
)


class World:
    """The personas' program in its matching phase, with what every endpoint needs:

    - an active connection between `participant` and `other_participant`
    - a finished, unpublished match run with one proposal of two other ready participants
    - an HR import ready to apply
    """

    def __init__(self, personas: Any) -> None:
        self.personas = personas
        self.program = personas.program
        self.program.status = "matching"
        self.program.save(update_fields=["status"])
        self.connection = ConnectionFactory(
            program=self.program, status="active", started_at=timezone.now()
        )
        for record in (personas.participant_record, personas.other_participant_record):
            ConnectionMemberFactory(connection=self.connection, participant=record)
        self.run = MatchRunFactory(program=self.program, status="succeeded", progress=1.0)
        self.proposal = ProposalFactory(run=self.run, score=0.7)
        self.proposed = [ReadyParticipantFactory(program=self.program) for _ in range(2)]
        for participant in self.proposed:
            ProposalMember.objects.create(
                proposal=self.proposal, run=self.run, participant=participant, role="peer"
            )
        self.batch = people_import_preview(
            actor=personas.admin, file_name="hr.csv", content=HR_FILE
        )
        self.person = personas.participant_record.person

    def queued_run(self) -> MatchRun:
        return MatchRunFactory(program=self.program, status="queued", progress=0.0)


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str  # as in the OpenAPI schema, e.g. "/api/v1/programs/{program_id}"
    expected: dict[str, int]
    body: Callable[[World], Any] | None = None
    # Changes the world first; returns extra path parameters (e.g. a fresh run's id).
    setup: Callable[[World], dict[str, Any]] | None = None
    is_multipart: bool = False
    path_ids: dict[str, Callable[[World], Any]] = field(default_factory=dict)

    @property
    def key(self) -> tuple[str, str]:
        return (self.method, self.path)

    def url(self, world: World, **overrides: Any) -> str:
        params = {name: get(world) for name, get in self.path_ids.items()}
        if self.setup is not None:
            params.update(self.setup(world))
        params.update(overrides)
        return self.path.format(**params)


def _statuses(anonymous: int = 401, **by_role: int) -> dict[str, int]:
    return {"anonymous": anonymous, **by_role}


SIGNED_IN = _statuses(
    outsider=200,
    participant=200,
    other_participant=200,
    other_manager=200,
    manager=200,
    admin=200,
)
ADMINS = _statuses(
    outsider=403,
    participant=403,
    other_participant=403,
    other_manager=403,
    manager=403,
    admin=200,
)
# The program is hidden from outsiders and other programs' managers (404); its participants
# see it but can't change it (403).
MANAGERS = _statuses(
    outsider=404,
    participant=403,
    other_participant=403,
    other_manager=404,
    manager=200,
    admin=200,
)
PROGRAM_READERS = _statuses(
    outsider=404,
    participant=200,
    other_participant=200,
    other_manager=404,
    manager=200,
    admin=200,
)
# The connection's members and the program's managers.
CONNECTION_READERS = PROGRAM_READERS


def _created(expected: dict[str, int]) -> dict[str, int]:
    return {role: 201 if status == 200 else status for role, status in expected.items()}


def _open_enrollment(world: World) -> dict[str, Any]:
    world.program.status = "enrolling"
    world.program.save(update_fields=["status"])
    return {}


def _queued_run(world: World) -> dict[str, Any]:
    return {"run_id": world.queued_run().pk}


PROGRAM = {"program_id": lambda w: w.program.pk}
RUN = {"run_id": lambda w: w.run.pk}
BATCH = {"batch_id": lambda w: w.batch.pk}
CONNECTION = {"connection_id": lambda w: w.connection.pk}

ENDPOINTS: list[Endpoint] = [
    Endpoint("GET", "/api/v1/me", SIGNED_IN),
    # people
    Endpoint("GET", "/api/v1/people", ADMINS),
    Endpoint(
        "GET", "/api/v1/people/{person_id}", ADMINS, path_ids={"person_id": lambda w: w.person.pk}
    ),
    Endpoint(
        "POST",
        "/api/v1/people/imports",
        _created(ADMINS),
        body=lambda w: {"file": ("hr.csv", HR_FILE)},
        is_multipart=True,
    ),
    Endpoint("GET", "/api/v1/people/imports/{batch_id}", ADMINS, path_ids=BATCH),
    Endpoint("GET", "/api/v1/people/imports/{batch_id}/errors", ADMINS, path_ids=BATCH),
    Endpoint(
        "POST",
        "/api/v1/people/imports/{batch_id}/apply",
        ADMINS,
        body=lambda w: {"deactivate_missing": False},
        path_ids=BATCH,
    ),
    # programs
    Endpoint("GET", "/api/v1/programs", SIGNED_IN),
    Endpoint(
        "POST",
        "/api/v1/programs",
        _created(ADMINS),
        body=lambda w: {"name": "Cross-team lunches", "goals": ["networking"]},
    ),
    Endpoint("GET", "/api/v1/programs/{program_id}", PROGRAM_READERS, path_ids=PROGRAM),
    Endpoint(
        "POST",
        "/api/v1/programs/{program_id}/transition",
        MANAGERS,
        body=lambda w: {"to_status": "running", "reason": "Everyone is matched."},
        path_ids=PROGRAM,
    ),
    Endpoint("GET", "/api/v1/programs/{program_id}/closure", MANAGERS, path_ids=PROGRAM),
    # enrollment
    Endpoint(
        "GET",
        "/api/v1/enrollment/programs/{program_id}/participants",
        MANAGERS,
        path_ids=PROGRAM,
    ),
    Endpoint("GET", "/api/v1/enrollment/participations/mine", SIGNED_IN),
    Endpoint(
        "POST",
        "/api/v1/enrollment/programs/{program_id}/enroll",
        # While it enrolls every employee sees the program. Outsiders join; participants are
        # in already (409); managers and admins without a directory entry can't (403).
        _statuses(
            outsider=201,
            participant=409,
            other_participant=409,
            other_manager=403,
            manager=403,
            admin=403,
        ),
        body=lambda w: {"role": "peer"},
        setup=_open_enrollment,
        path_ids=PROGRAM,
    ),
    # connections
    Endpoint("GET", "/api/v1/connections/mine", SIGNED_IN),
    Endpoint("GET", "/api/v1/connections/programs/{program_id}", MANAGERS, path_ids=PROGRAM),
    Endpoint("GET", "/api/v1/connections/{connection_id}", CONNECTION_READERS, path_ids=CONNECTION),
    Endpoint(
        "POST",
        "/api/v1/connections/{connection_id}/close",
        CONNECTION_READERS,
        body=lambda w: {"reason_code": "no_time"},
        path_ids=CONNECTION,
    ),
    # matches
    Endpoint("GET", "/api/v1/matches/programs/{program_id}/runs", MANAGERS, path_ids=PROGRAM),
    Endpoint(
        "POST",
        "/api/v1/matches/programs/{program_id}/runs",
        _created(MANAGERS),
        body=lambda w: {"seed": 7},
        path_ids=PROGRAM,
    ),
    Endpoint("GET", "/api/v1/matches/runs/{run_id}", MANAGERS, path_ids=RUN),
    Endpoint(
        "POST", "/api/v1/matches/runs/{run_id}/cancel", MANAGERS, body=None, setup=_queued_run
    ),
    Endpoint("GET", "/api/v1/matches/runs/{run_id}/proposals", MANAGERS, path_ids=RUN),
    Endpoint("GET", "/api/v1/matches/runs/{run_id}/unmatched", MANAGERS, path_ids=RUN),
    Endpoint("POST", "/api/v1/matches/runs/{run_id}/publish", MANAGERS, body=None, path_ids=RUN),
]


def operations() -> set[tuple[str, str]]:
    """Every (method, path) the API serves, found by walking its routers (the OpenAPI schema
    could leave out an operation marked include_in_schema=False; this cannot)."""
    found = set()
    for prefix, router in api._routers:
        for path, path_view in router.path_operations.items():
            for operation in path_view.operations:
                full = "/api/v1/" + "/".join(
                    part.strip("/") for part in (prefix, path) if part.strip("/")
                )
                for method in operation.methods:
                    found.add((method, full))
    return found


def token_for(user: Any) -> str:
    _token, raw = api_token_create(actor=user, name="tests")
    return raw


def call(client: Any, endpoint: Endpoint, url: str, body: Any, token: str | None) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    if endpoint.method == "GET":
        return client.get(url, headers=headers)
    if endpoint.is_multipart:
        from django.core.files.uploadedfile import SimpleUploadedFile

        files = {name: SimpleUploadedFile(*value) for name, value in (body or {}).items()}
        return client.post(url, files, headers=headers)
    data = json.dumps(body) if body is not None else ""
    return client.post(url, data, content_type="application/json", headers=headers)
