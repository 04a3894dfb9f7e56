"""Connections over the API: my connections, one connection, a program's connections for its
managers (closing one early is a flow: flows/api.py). Members and the program's managers see a
connection; everyone else gets 404 (`get_connection_for`)."""

from __future__ import annotations

import datetime
from typing import Any

from ninja import Field, Query, Router, Schema

from peermentor.accounts.http import AuthenticatedHttpRequest
from peermentor.connections import selectors
from peermentor.connections.models import ConnectionKind, ConnectionStatus, EndReason
from peermentor.core.api import (
    READ_ERRORS,
    FixedPageQuery,
    Id,
    Page,
    Ref,
    Text,
    page_body,
    require_page,
)
from peermentor.enrollment.models import ParticipantRole
from peermentor.programs.permissions import get_program_for

router = Router()


# Output fields the database does not constrain to a set of values are plain strings, so that
# an unexpected stored value is shown rather than turned into a 500; the values are documented.
ROLE = Field(description="One of: " + ", ".join(ParticipantRole.values) + ".")


class MemberOut(Schema):
    participant_id: int
    person_id: int
    full_name: str
    role: str = ROLE
    job_title: str
    department: str | None
    site: str | None

    @staticmethod
    def resolve_person_id(member: Any) -> int:
        return member.participant.person_id

    @staticmethod
    def resolve_full_name(member: Any) -> str:
        return member.participant.person.full_name

    @staticmethod
    def resolve_job_title(member: Any) -> str:
        return member.participant.person.job_title

    @staticmethod
    def resolve_department(member: Any) -> str | None:
        department = member.participant.person.department
        return department.name if department else None

    @staticmethod
    def resolve_site(member: Any) -> str | None:
        site = member.participant.person.site
        return site.name if site else None


class ConnectionOut(Schema):
    id: int
    program: Ref
    track: Ref | None
    kind: str = Field(description="One of: " + ", ".join(ConnectionKind.values) + ".")
    status: str = Field(description="One of: " + ", ".join(ConnectionStatus.values) + ".")
    reasons: str = Field(description="Why these people were matched, in plain language.")
    started_at: datetime.datetime | None
    planned_end_on: datetime.date | None
    ended_at: datetime.datetime | None
    end_reason: str | None = Field(description="One of: " + ", ".join(EndReason.values) + ".")

    @staticmethod
    def resolve_end_reason(connection: Any) -> str | None:
        return connection.end_reason or None


class MyConnectionOut(ConnectionOut):
    my_role: str = ROLE
    partners: list[MemberOut]
    has_reflected: bool
    next_step: str


@router.get(
    "/mine",
    response={200: Page[MyConnectionOut], **READ_ERRORS},
    summary="My connections: current ones first, with partners and why we were matched",
)
def my_connections(
    request: AuthenticatedHttpRequest, page: Query[FixedPageQuery]
) -> dict[str, Any]:
    result = selectors.my_connections(viewer=request.user, page_number=page.page)
    require_page(result, page.page)
    items = []
    for row in result.object_list:
        connection = row.connection
        connection.my_role = row.me.role
        connection.partners = row.partners
        connection.next_step = row.next_step
        items.append(connection)
    return page_body(result, items)


class ManagedConnectionOut(ConnectionOut):
    source: str
    score: float | None
    created_at: datetime.datetime
    end_reason_text: str
    members: list[MemberOut]

    @staticmethod
    def resolve_members(connection: Any) -> list[Any]:
        return list(connection.members.all())


class StatusCountOut(Schema):
    status: str
    label: str
    count: int


class ProgramConnectionPage(Page[ManagedConnectionOut]):
    status_counts: list[StatusCountOut] = Field(description="Under the other filters.")
    reflections_count: int
    average_rating: float | None = Field(
        description="Null until enough members reflected that no rating can be told apart."
    )


class ConnectionFilters(Schema):
    status: ConnectionStatus | None = None
    kind: ConnectionKind | None = None
    track_id: Id | None = None
    search: Text = Field("", max_length=100, description="Words in a member's name.")


@router.get(
    "/programs/{program_id}",
    response={200: ProgramConnectionPage, **READ_ERRORS},
    summary="A program's connections, newest first (its managers)",
)
def program_connections(
    request: AuthenticatedHttpRequest,
    program_id: int,
    filters: Query[ConnectionFilters],
    page: Query[FixedPageQuery],
) -> dict[str, Any]:
    program = get_program_for(request.user, program_id, write=True)
    result = selectors.connection_list(
        viewer=request.user,
        program=program,
        status=filters.status.value if filters.status else None,
        kind=filters.kind.value if filters.kind else None,
        track_id=filters.track_id,
        search=filters.search.strip(),
        page_number=page.page,
    )
    require_page(result.page, page.page)
    items = list(result.page.object_list)
    for connection in items:
        # Every row is of this program: share the object rather than load it once per row.
        connection.program = program
    return page_body(
        result.page,
        items,
        status_counts=[
            {"status": status, "label": label, "count": count}
            for status, label, count in result.status_counts
        ],
        reflections_count=result.reflections_count,
        average_rating=result.average_rating,
    )


class ConnectionDetailOut(ConnectionOut):
    is_manager: bool
    my_role: str | None = ROLE
    partners: list[MemberOut] = Field(description="Everyone in it but the viewer.")
    next_step: str


def detail_body(detail: selectors.ConnectionDetail) -> Any:
    # The schema reads attributes; the selector's extras ride on the connection itself.
    connection: Any = detail.connection
    connection.is_manager = detail.is_manager
    connection.my_role = detail.me.role if detail.me else None
    connection.partners = detail.partners
    connection.next_step = detail.next_step
    return connection


@router.get(
    "/{connection_id}",
    response={200: ConnectionDetailOut, **READ_ERRORS},
    summary="One connection (its members and the program's managers)",
)
def connection_get(request: AuthenticatedHttpRequest, connection_id: int) -> Any:
    return detail_body(selectors.connection_detail(viewer=request.user, pk=connection_id))
