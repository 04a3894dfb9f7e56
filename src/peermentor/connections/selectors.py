"""Reads of connections for pages, the API and match runs. Each takes the viewer (except the
two that feed match runs) and runs a fixed number of queries whatever the number of rows."""

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, cast

from django.core.exceptions import PermissionDenied
from django.core.paginator import Page, Paginator
from django.db.models import (
    Avg,
    Case,
    Count,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.http import Http404
from django.urls import reverse
from django.utils import timezone

from peermentor.accounts.models import User
from peermentor.connections.models import (
    CAPACITY_ROLES,
    CURRENT_STATUSES,
    MET_STATUSES,
    Block,
    Connection,
    ConnectionKind,
    ConnectionMember,
    ConnectionStatus,
    Reflection,
    Report,
    ReportStatus,
)
from peermentor.connections.permissions import (
    can_manage_program,
    can_review_report,
    member_for,
)
from peermentor.core.models import AuditEvent
from peermentor.core.pagination import PAGE_SIZE
from peermentor.enrollment.models import Participant, ParticipantStatus
from peermentor.enrollment.selectors import next_step as enrollment_next_step
from peermentor.programs.models import Program, ProgramManager, ProgramStatus


def _members_prefetch() -> Prefetch:
    return Prefetch(
        "members",
        queryset=ConnectionMember.objects.select_related(
            "participant__person__department", "participant__person__site"
        ).order_by("role", "id"),
    )


def next_step(connection: Connection, *, has_reflected: bool) -> str:
    """What the member should do next, in one sentence (engagement will refine it)."""
    if connection.status == ConnectionStatus.PROPOSED:
        return "Wait for the program team to confirm this match."
    if connection.status == ConnectionStatus.ACTIVE:
        if connection.planned_end_on and connection.planned_end_on < timezone.localdate():
            return "The planned end has passed: complete the connection or ask for more time."
        return "Schedule your first meeting."
    if connection.is_ended and not has_reflected:
        return "Share your reflection: what went well and what you learned."
    return "Nothing to do. Thank you for taking part!"


@dataclass(frozen=True)
class ConnectionBrief:
    """One of a participation's connections as its member sees it on their home page."""

    connection: Connection
    partner_names: list[str]
    has_reflected: bool

    @property
    def partners_text(self) -> str:
        return _names_text(self.partner_names)

    @property
    def workspace_url(self) -> str:
        name = "circle_detail" if self.connection.kind == ConnectionKind.CIRCLE else "workspace"
        return reverse(name, args=[self.connection.pk])


@dataclass(frozen=True)
class ParticipationState:
    """A participation with its connections and the one next step that follows from both."""

    participant: Participant
    connections: list[ConnectionBrief]
    next_step: str

    @property
    def current(self) -> list[ConnectionBrief]:
        return [brief for brief in self.connections if brief.connection.is_current]


def _names_text(names: list[str]) -> str:
    if not names:
        return "your partner"
    if len(names) <= 2:
        return " and ".join(names)
    return f"{', '.join(names[:-1])} and {names[-1]}"


def participation_next_step(participant: Participant, connections: list[ConnectionBrief]) -> str:
    """What the participant should do next in this program, from their connections first and
    their enrollment otherwise: the one rule the home page, "my programs" and the API share."""
    if participant.status not in (ParticipantStatus.PENDING_APPROVAL, ParticipantStatus.ENROLLED):
        return enrollment_next_step(participant)
    active = [b for b in connections if b.connection.status == ConnectionStatus.ACTIVE]
    if active:
        brief = active[0]
        if brief.connection.planned_end_on and brief.connection.planned_end_on < (
            timezone.localdate()
        ):
            return (
                f"Your connection with {brief.partners_text} has passed its planned end: "
                "complete it or ask for more time."
            )
        return f"Meet {brief.partners_text}: plan your next meeting in your workspace."
    proposed = [b for b in connections if b.connection.status == ConnectionStatus.PROPOSED]
    if proposed:
        return (
            f"You are proposed to meet {proposed[0].partners_text}: "
            "the program team confirms it soon."
        )
    unreflected = [b for b in connections if b.connection.is_ended and not b.has_reflected]
    if unreflected:
        return (
            f"Your connection with {unreflected[0].partners_text} has ended: share your reflection."
        )
    if participant.program.status == ProgramStatus.CLOSED:
        return "The program has ended. Thank you for taking part!"
    if connections and participant.ready_at is not None:
        return "Ready — you can be matched again in the next match run."
    return enrollment_next_step(participant)


def participation_states(participants: list[Participant]) -> list[ParticipationState]:
    """Each participation (with its program loaded) with its connections, most recent first,
    and its next step. Three queries however many participations and connections."""
    ids = [participant.pk for participant in participants]
    mine = list(
        ConnectionMember.objects.filter(participant_id__in=ids)
        .exclude(connection__status=ConnectionStatus.CANCELLED)
        .select_related("connection")
        .order_by("-connection__created_at", "-connection_id")
    )
    connection_ids = {member.connection_id for member in mine}
    partners: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for connection_id, participant_id, name in (
        ConnectionMember.objects.filter(connection_id__in=connection_ids)
        .order_by("id")
        .values_list("connection_id", "participant_id", "participant__person__full_name")
    ):
        partners[connection_id].append((participant_id, name))
    reflected = set(
        Reflection.objects.filter(participant_id__in=ids).values_list(
            "participant_id", "connection_id"
        )
    )
    by_participant: dict[int, list[ConnectionBrief]] = defaultdict(list)
    for member in mine:
        names = [
            name for pid, name in partners[member.connection_id] if pid != member.participant_id
        ]
        by_participant[member.participant_id].append(
            ConnectionBrief(
                connection=member.connection,
                partner_names=names,
                has_reflected=(member.participant_id, member.connection_id) in reflected,
            )
        )
    return [
        ParticipationState(
            participant=participant,
            connections=by_participant[participant.pk],
            next_step=participation_next_step(participant, by_participant[participant.pk]),
        )
        for participant in participants
    ]


@dataclass
class ConnectionRow:
    """One connection as its member sees it in "My connections"."""

    connection: Connection
    me: ConnectionMember
    partners: list[ConnectionMember]
    has_reflected: bool
    next_step: str

    @property
    def may_reflect(self) -> bool:
        return self.connection.is_ended and not self.has_reflected


def my_connections(*, viewer: User, page_number: Any = None) -> Page:
    """The viewer's connections (current first, then the most recent), one page of rows.

    Dropped proposals are left out: they never became anything the viewer took part in.
    """
    if not getattr(viewer, "is_authenticated", False):
        return Paginator(Connection.objects.none(), PAGE_SIZE).get_page(1)
    mine = ConnectionMember.objects.filter(
        connection=OuterRef("pk"), participant__person__user_id=viewer.pk
    )
    reflected = Reflection.objects.filter(
        connection=OuterRef("pk"), participant__person__user_id=viewer.pk
    )
    queryset = (
        Connection.objects.filter(Exists(mine))
        .exclude(status=ConnectionStatus.CANCELLED)
        .annotate(
            has_reflected=Exists(reflected),
            is_current_first=Case(
                When(status__in=CURRENT_STATUSES, then=Value(1)),
                default=Value(0),
                output_field=IntegerField(),
            ),
        )
        .select_related("program", "track")
        .prefetch_related(_members_prefetch())
        .order_by("-is_current_first", "-created_at", "-id")
    )
    # The page's connections are replaced by their rows.
    page: Page[Any] = Paginator(queryset, PAGE_SIZE).get_page(page_number)
    rows = []
    for connection in page.object_list:
        # The query keeps the viewer's own connections only, so they are a member of each.
        me = cast(ConnectionMember, member_for(viewer, connection))
        partners = [m for m in connection.members.all() if m is not me]
        rows.append(
            ConnectionRow(
                connection=connection,
                me=me,
                partners=partners,
                has_reflected=connection.has_reflected,
                next_step=next_step(connection, has_reflected=connection.has_reflected),
            )
        )
    page.object_list = rows
    return page


@dataclass
class ConnectionDetail:
    """A connection as the viewer may see it: members their own side, managers the workflow."""

    connection: Connection
    me: ConnectionMember | None
    partners: list[ConnectionMember]
    is_manager: bool
    my_reflection: Reflection | None
    reflections_count: int
    next_step: str
    history: list[AuditEvent] = field(default_factory=list)

    @property
    def is_member(self) -> bool:
        return self.me is not None

    @property
    def may_reflect(self) -> bool:
        return self.is_member and self.connection.is_ended and self.my_reflection is None

    @property
    def may_end(self) -> bool:
        return self.connection.status == ConnectionStatus.ACTIVE

    @property
    def may_extend(self) -> bool:
        return self.is_manager and self.connection.is_current


def get_connection_for(
    *, viewer: User, pk: Any
) -> tuple[Connection, ConnectionMember | None, bool]:
    """The connection `pk` with its members, the viewer's own membership and whether the viewer
    manages its program. Raises Http404 unless the viewer is a member or a manager."""
    try:
        connection = (
            Connection.objects.select_related("program", "track")
            .prefetch_related(_members_prefetch())
            .get(pk=pk)
        )
    except (Connection.DoesNotExist, ValueError, TypeError):
        raise Http404("No such connection.") from None
    me = member_for(viewer, connection)
    is_manager = can_manage_program(viewer, connection.program)
    if me is None and not is_manager:
        raise Http404("No such connection.")
    return connection, me, is_manager


def connection_detail(*, viewer: User, pk: Any) -> ConnectionDetail:
    """Members see the partners, why they were matched, and their own reflection; managers and
    organisation admins see the same workflow data but never a reflection's text."""
    connection, me, is_manager = get_connection_for(viewer=viewer, pk=pk)
    my_reflection = (
        Reflection.objects.filter(connection=connection, participant_id=me.participant_id).first()
        if me is not None
        else None
    )
    reflections_count = (
        Reflection.objects.filter(connection=connection).count() if is_manager else 0
    )
    return ConnectionDetail(
        connection=connection,
        me=me,
        partners=[m for m in connection.members.all() if m is not me],
        is_manager=is_manager,
        my_reflection=my_reflection,
        reflections_count=reflections_count,
        next_step=next_step(connection, has_reflected=my_reflection is not None),
    )


def connection_history(*, viewer: User, pk: Any) -> ConnectionDetail:
    """Every change of the connection (who, when, why), for its program's managers only.
    Members get PermissionDenied (they may see the connection, not its trail)."""
    connection, me, is_manager = get_connection_for(viewer=viewer, pk=pk)
    if not is_manager:
        raise PermissionDenied("Only the program's managers see a connection's history.")
    history = list(
        AuditEvent.objects.filter(target_type=Connection._meta.label_lower, target_id=connection.pk)
        .select_related("actor")
        .order_by("created_at", "id")
    )
    return ConnectionDetail(
        connection=connection,
        me=me,
        partners=[m for m in connection.members.all() if m is not me],
        is_manager=True,
        my_reflection=None,
        reflections_count=0,
        next_step="",
        history=history,
    )


@dataclass
class ProgramConnections:
    program: Program
    page: Page
    # (status, label, how many), in the order of the state machine.
    status_counts: list[tuple[str, str, int]]
    reflections_count: int
    # None while fewer reflections than the program's anonymity threshold exist.
    average_rating: float | None


def connection_list(
    *,
    viewer: User,
    program: Program,
    status: str | None = None,
    track_id: int | None = None,
    kind: str | None = None,
    search: str = "",
    condition: Q | None = None,
    page_number: Any = None,
) -> ProgramConnections:
    """One page of the program's connections for its managers, newest first, with counts by
    status and the program's average reflection rating (only once enough people reflected that
    no one's rating can be told apart)."""
    if not can_manage_program(viewer, program):
        raise PermissionDenied("Only the program's managers see all its connections.")
    queryset = Connection.objects.filter(program=program)
    # A condition from an app above (engagement's health and activity filters).
    if condition is not None:
        queryset = queryset.filter(condition)
    if track_id:
        queryset = queryset.filter(track_id=track_id)
    if kind:
        queryset = queryset.filter(kind=kind)
    if search:
        queryset = queryset.filter(
            Exists(
                ConnectionMember.objects.filter(
                    connection=OuterRef("pk"),
                    participant__person__full_name__icontains=search,
                )
            )
        )
    counts = dict(
        queryset.order_by().values_list("status").annotate(n=Count("pk")).values_list("status", "n")
    )
    if status:
        queryset = queryset.filter(status=status)
    queryset = (
        queryset.select_related("track")
        .prefetch_related(_members_prefetch())
        .order_by("-created_at", "-id")
    )
    page = Paginator(queryset, PAGE_SIZE).get_page(page_number)
    ratings = Reflection.objects.filter(connection__program=program).aggregate(
        n=Count("pk"), average=Avg("rating")
    )
    enough = ratings["n"] >= program.anonymity_threshold
    return ProgramConnections(
        program=program,
        page=page,
        status_counts=[
            (value, label, counts.get(value, 0)) for value, label in ConnectionStatus.choices
        ],
        reflections_count=ratings["n"],
        average_rating=round(ratings["average"], 1) if enough and ratings["average"] else None,
    )


def rematch_candidates(*, program: Program, track_id: int | None = None) -> QuerySet[Participant]:
    """Enrolled, ready participants of `program` who have room for a connection: no current one
    (never matched, closed early, completed, or their proposal was dropped) or, for hosts and
    buddies, fewer current ones than their capacity. For match runs, which take no viewer."""
    current = (
        ConnectionMember.objects.filter(participant=OuterRef("pk"), is_current=True)
        .order_by()
        .values("participant")
        .annotate(n=Count("pk"))
        .values("n")
    )
    queryset = (
        Participant.objects.filter(
            program=program, status=ParticipantStatus.ENROLLED, ready_at__isnull=False
        )
        .annotate(current_places=Coalesce(Subquery(current, output_field=IntegerField()), 0))
        .filter(Q(current_places=0) | Q(role__in=CAPACITY_ROLES, current_places__lt=F("capacity")))
    )
    if track_id:
        queryset = queryset.filter(track_id=track_id)
    return queryset.order_by("pk")


def past_pairs(*, program: Program | None = None) -> set[tuple[int, int]]:
    """Person-id pairs (smaller id first) who were in one connection that really happened
    (active, completed or closed early), in `program` or, without one, in any program.
    Match runs treat them as forbidden pairs unless repeats are allowed."""
    members = ConnectionMember.objects.filter(connection__status__in=MET_STATUSES)
    if program is not None:
        members = members.filter(connection__program=program)
    people_by_connection: dict[int, list[int]] = defaultdict(list)
    for connection_id, person_id in members.values_list(
        "connection_id", "participant__person_id"
    ).iterator(chunk_size=5000):
        people_by_connection[connection_id].append(person_id)
    pairs: set[tuple[int, int]] = set()
    for people in people_by_connection.values():
        people.sort()
        for position, first in enumerate(people):
            for second in people[position + 1 :]:
                pairs.add((first, second))
    return pairs


def blocked_pairs(*, person_ids: list[int] | None = None) -> set[tuple[int, int]]:
    """Person-id pairs (smaller id first) where either blocked the other: never proposed.
    With `person_ids`, only blocks touching those people (asked in slices of 900 ids, so a
    20,000-person run stays within SQLite's limit on query parameters)."""
    if person_ids is None:
        rows = Block.objects.values_list("blocker_id", "blocked_id").iterator(chunk_size=5000)
        return {(min(a, b), max(a, b)) for a, b in rows}
    ids = sorted(set(person_ids))
    pairs: set[tuple[int, int]] = set()
    for start in range(0, len(ids), 900):
        chunk = ids[start : start + 900]
        for a, b in Block.objects.filter(
            Q(blocker_id__in=chunk) | Q(blocked_id__in=chunk)
        ).values_list("blocker_id", "blocked_id"):
            pairs.add((min(a, b), max(a, b)))
    return pairs


def report_list(
    *, viewer: User, status: str | None = ReportStatus.OPEN, page_number: Any = None
) -> Page:
    """Safety reports the viewer may review: all for organisation admins, those from their own
    programs for program managers. Anyone else gets PermissionDenied."""
    if not getattr(viewer, "is_authenticated", False):
        raise PermissionDenied("Sign in first.")
    reports = Report.objects.select_related(
        "reporter", "reported", "program", "connection", "reviewed_by"
    )
    if not viewer.is_org_admin:
        managed = ProgramManager.objects.filter(user_id=viewer.pk).values("program_id")
        if not managed.exists():
            raise PermissionDenied("Only organisation admins and program managers read reports.")
        reports = reports.filter(program_id__in=managed)
    if status:
        reports = reports.filter(status=status)
    return Paginator(reports.order_by("-created_at", "-id"), PAGE_SIZE).get_page(page_number)


def get_report_for(*, viewer: User, pk: Any) -> Report:
    """A report the viewer may review; 404 for anyone else (they must not learn it exists)."""
    try:
        report = Report.objects.select_related("program", "reporter", "reported").get(pk=pk)
    except (Report.DoesNotExist, ValueError, TypeError):
        raise Http404("No such report.") from None
    if not can_review_report(viewer, report):
        raise Http404("No such report.")
    return report


def program_tracks(*, program: Program) -> list[tuple[int, str]]:
    """The program's tracks as (id, name), for filters."""
    return list(program.tracks.order_by("name").values_list("pk", "name"))


@dataclass
class Quote:
    """A reflection its author agreed to share, without who wrote it."""

    went_well: str
    learned: str
    kind: str


def quotable_reflections(*, viewer: User, program: Program, limit: int = 50) -> list[Quote]:
    """Reflections of `program` whose authors agreed to be quoted (newest first), for the
    program report; never a name, and nothing from anyone who did not agree."""
    if not can_manage_program(viewer, program):
        raise PermissionDenied("Only the program's managers prepare its report.")
    rows = (
        Reflection.objects.filter(connection__program=program, may_quote=True)
        .order_by("-created_at", "-id")
        .values_list("went_well", "learned", "connection__kind")[:limit]
    )
    return [Quote(went_well=w, learned=lesson, kind=kind) for w, lesson, kind in rows]
