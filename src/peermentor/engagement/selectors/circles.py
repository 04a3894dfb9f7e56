"""Circle pages: the members' own page, and the list of open circles a participant may join."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import Count, F, Prefetch, Q
from django.http import Http404
from django.utils import timezone

from peermentor.accounts.models import User
from peermentor.connections.models import (
    Connection,
    ConnectionKind,
    ConnectionMember,
    ConnectionStatus,
)
from peermentor.core.pagination import PAGE_SIZE
from peermentor.core.timezones import zone_name_for
from peermentor.engagement.models import (
    Circle,
    CirclePost,
    CircleResource,
    CircleSession,
    Plan,
    PlanItem,
    SessionRsvp,
)
from peermentor.engagement.permissions import (
    can_cancel_session,
    can_remove_resource,
    can_set_circle_open,
    can_write,
    is_facilitator,
    member_for,
)
from peermentor.engagement.selectors._common import get_workspace_connection, members_prefetch
from peermentor.enrollment.models import Participant, ParticipantRole, ParticipantStatus
from peermentor.programs.models import Program
from peermentor.programs.permissions import can_manage_program

PAST_SESSIONS_SHOWN = 10
RESOURCES_SHOWN = 100


@dataclass
class SessionRow:
    session: CircleSession
    my_answer: bool | None
    may_cancel: bool
    may_answer: bool


@dataclass
class CirclePage:
    connection: Connection
    me: ConnectionMember
    members: list[ConnectionMember]
    facilitators: list[ConnectionMember]
    is_writable: bool
    is_open: bool
    capacity: int
    seated: int
    may_set_open: bool
    upcoming: list[SessionRow]
    past: list[CircleSession]
    posts: Page
    resources: list[tuple[CircleResource, bool]]
    agenda: list[PlanItem]
    my_zone: str

    @property
    def seats_left(self) -> int:
        return max(self.capacity - self.seated, 0)


def get_circle_for(*, viewer: User, pk: Any) -> tuple[Connection, ConnectionMember]:
    """A circle the viewer is a member of, or Http404 (for managers and admins too)."""
    connection, member = get_workspace_connection(viewer=viewer, pk=pk)
    if connection.kind != ConnectionKind.CIRCLE:
        raise Http404("No such circle.")
    return connection, member


def circle_page(
    *,
    viewer: User,
    connection: Connection,
    me: ConnectionMember,
    page_number: Any = None,
    now: datetime | None = None,
) -> CirclePage:
    """The circle as its member `me` sees it: members, sessions with their own RSVP, the
    discussion (one page, newest first), shared links and the session agenda."""
    now = now or timezone.now()
    writable = can_write(me, connection)
    members = [m for m in connection.members.all() if m.is_current]
    circle = Circle.objects.filter(connection=connection).first()
    seated = sum(1 for m in members if m.role == ParticipantRole.MEMBER)
    my_rsvps = SessionRsvp.objects.filter(participant_id=me.participant_id)
    upcoming_sessions = (
        CircleSession.objects.filter(connection=connection, starts_at__gte=now)
        .select_related("created_by")
        .prefetch_related(Prefetch("rsvps", queryset=my_rsvps, to_attr="my_rsvps"))
        .order_by("starts_at", "id")
    )
    upcoming = []
    for session in upcoming_sessions:
        answer = session.my_rsvps[0].is_attending if session.my_rsvps else None
        upcoming.append(
            SessionRow(
                session=session,
                my_answer=answer,
                may_cancel=writable
                and not session.is_cancelled
                and can_cancel_session(viewer, me, session),
                may_answer=writable and not session.is_cancelled,
            )
        )
    past = list(
        CircleSession.objects.filter(connection=connection, starts_at__lt=now).order_by(
            "-starts_at", "-id"
        )[:PAST_SESSIONS_SHOWN]
    )
    posts = Paginator(
        CirclePost.objects.filter(connection=connection)
        .select_related("author__person")
        .order_by("-created_at", "-id"),
        PAGE_SIZE,
    ).get_page(page_number)
    resources = [
        (resource, writable and can_remove_resource(me, resource))
        for resource in CircleResource.objects.filter(connection=connection)
        .select_related("added_by__person")
        .order_by("-created_at", "-id")[:RESOURCES_SHOWN]
    ]
    plan = Plan.objects.filter(connection=connection).first()
    agenda = list(PlanItem.objects.filter(plan=plan).order_by("position", "id")) if plan else []
    return CirclePage(
        connection=connection,
        me=me,
        members=members,
        facilitators=[m for m in members if is_facilitator(m)],
        is_writable=writable,
        is_open=bool(circle and circle.is_open),
        capacity=circle.capacity if circle else connection.program.group_size_max,
        seated=seated,
        may_set_open=writable and can_set_circle_open(viewer, connection, me),
        upcoming=upcoming,
        past=past,
        posts=posts,
        resources=resources,
        agenda=agenda,
        my_zone=zone_name_for(user=viewer, person=me.participant.person),
    )


@dataclass
class OpenCircles:
    program: Program
    page: Page
    # The viewer's participant record, and why they cannot join (empty when they can).
    participant: Participant | None
    cannot_join_because: str
    is_manager: bool


def _join_refusal(participant: Participant | None) -> str:
    if participant is None:
        return "Only participants of this program can join its circles."
    if participant.status != ParticipantStatus.ENROLLED or not participant.is_ready:
        return "Finish your profile and training first."
    if participant.role != ParticipantRole.MEMBER:
        return "You take part as a facilitator."
    return ""


def open_circles(*, viewer: User, program: Program, page_number: Any = None) -> OpenCircles:
    """For the program's participants: its active circles that are open to joiners and have a
    free seat. For its managers: every active circle, open or not (they open and close them).
    Raises Http404 for anyone else."""
    is_manager = can_manage_program(viewer, program)
    participant = (
        Participant.objects.filter(program=program, person__user_id=viewer.pk).first()
        if getattr(viewer, "is_authenticated", False)
        else None
    )
    if participant is None and not is_manager:
        raise Http404("No such program.")
    seated = Count(
        "members",
        filter=Q(members__is_current=True, members__role=ParticipantRole.MEMBER),
        distinct=True,
    )
    queryset = (
        Connection.objects.filter(
            program=program,
            kind=ConnectionKind.CIRCLE,
            status=ConnectionStatus.ACTIVE,
        )
        .select_related("circle", "track")
        .annotate(seated=seated)
        .prefetch_related(
            Prefetch(
                "members",
                queryset=ConnectionMember.objects.filter(is_current=True)
                .select_related("participant__person__department")
                .order_by("role", "id"),
            )
        )
        .order_by("-created_at", "-id")
    )
    if not is_manager:
        queryset = queryset.filter(circle__is_open=True, seated__lt=F("circle__capacity"))
    refusal = _join_refusal(participant)
    if not refusal and participant is not None:
        current = ConnectionMember.objects.filter(
            participant=participant, is_current=True, uses_capacity=False
        )
        if current.exists():
            refusal = "You already have a current connection in this program."
    return OpenCircles(
        program=program,
        page=Paginator(queryset, PAGE_SIZE).get_page(page_number),
        participant=participant,
        cannot_join_because=refusal,
        is_manager=is_manager,
    )


def _any_circle(pk: Any) -> Connection:
    try:
        return (
            Connection.objects.select_related("program")
            .prefetch_related(members_prefetch())
            .get(pk=pk, kind=ConnectionKind.CIRCLE)
        )
    except (Connection.DoesNotExist, ValueError, TypeError):
        raise Http404("No such circle.") from None


def get_circle_to_join(*, viewer: User, pk: Any) -> Connection:
    """A circle of a program the viewer takes part in (they may ask to join it), else 404."""
    connection = _any_circle(pk)
    is_participant = getattr(viewer, "is_authenticated", False) and (
        Participant.objects.filter(
            program_id=connection.program_id, person__user_id=viewer.pk
        ).exists()
    )
    if not is_participant:
        raise Http404("No such circle.")
    return connection


def get_circle_to_open(*, viewer: User, pk: Any) -> tuple[Connection, ConnectionMember | None]:
    """A circle whose openness the viewer may be asked about: its program's managers and its
    members (only the facilitator among them may change it: the service says 403). Else 404."""
    connection = _any_circle(pk)
    member = member_for(viewer, connection)
    if member is None and not can_manage_program(viewer, connection.program):
        raise Http404("No such circle.")
    return connection, member
