"""The connection workspace as one member sees it, in a fixed number of queries."""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Q
from django.utils import timezone

from peermentor.accounts.models import User
from peermentor.connections.models import (
    Connection,
    ConnectionKind,
    ConnectionMember,
    ConnectionStatus,
)
from peermentor.core.timezones import (
    Availability,
    day_of,
    suggest_times,
    zone,
    zone_name_for,
)
from peermentor.core.timezones import (
    today as utc_today,
)
from peermentor.engagement.health import (
    CHECK_IN_EVERY_DAYS,
    FIRST_CHECK_IN_AFTER_DAYS,
    check_in_period,
    next_check_in_on,
)
from peermentor.engagement.models import (
    CheckIn,
    CircleSession,
    EngagementSettings,
    Meeting,
    MeetingStatus,
    Note,
    NoteVisibility,
    Plan,
    PlanItem,
    PlanItemKind,
)
from peermentor.engagement.permissions import can_write, is_host, is_shadow
from peermentor.enrollment.answers import question_choices
from peermentor.enrollment.models import Answer
from peermentor.programs.models import QuestionKind

NOTES_SHOWN = 50
PAST_MEETINGS_SHOWN = 10
CHECK_INS_SHOWN = 10
CHOICE_KINDS = (QuestionKind.SINGLE_CHOICE, QuestionKind.MULTIPLE_CHOICE)
SKILL_KINDS = (QuestionKind.SKILLS_OFFERED, QuestionKind.SKILLS_WANTED)


@dataclass
class PartnerProfile:
    member: ConnectionMember
    time_zone: str
    local_now: datetime
    # (question, values both gave) for choice and skill questions.
    shared: list[tuple[str, list[str]]] = field(default_factory=list)
    offers_you_want: list[str] = field(default_factory=list)
    wants_you_offer: list[str] = field(default_factory=list)
    has_availability: bool = False

    @property
    def person(self) -> Any:
        return self.member.participant.person


@dataclass
class MeetingRow:
    meeting: Meeting
    options: list[Any]
    may_answer: bool
    may_cancel: bool
    may_reschedule: bool
    may_log_outcome: bool

    @property
    def awaits_outcome(self) -> bool:
        return self.may_log_outcome and self.meeting.status == MeetingStatus.SCHEDULED


@dataclass
class PlanRow:
    item: PlanItem
    is_overdue: bool
    may_toggle: bool
    may_remove: bool
    may_reflect: bool
    may_give_feedback: bool


@dataclass
class CheckInState:
    is_open: bool
    period: int
    due_on: Any
    next_on: Any
    mine: list[CheckIn]
    partners_answered: int


@dataclass
class Workspace:
    connection: Connection
    me: ConnectionMember
    partners: list[PartnerProfile]
    is_writable: bool
    my_zone: str
    upcoming: list[MeetingRow]
    past: list[MeetingRow]
    plan: Plan | None
    plan_rows: list[PlanRow]
    shared_notes: list[Note]
    my_notes: list[Note]
    check_in: CheckInState
    suggestions: list[datetime]
    without_availability: list[str]
    sessions: list[CircleSession]
    next_steps: list[str] = field(default_factory=list)

    @property
    def is_circle(self) -> bool:
        return self.connection.kind == ConnectionKind.CIRCLE

    @property
    def is_shadowing(self) -> bool:
        return self.connection.kind == ConnectionKind.SHADOWING

    @property
    def is_host(self) -> bool:
        return is_host(self.me)

    @property
    def needs_plan(self) -> bool:
        return self.plan is None

    @property
    def items_done(self) -> int:
        return sum(1 for row in self.plan_rows if row.item.is_done)

    @property
    def progress_percent(self) -> int:
        total = len(self.plan_rows)
        return round(100 * self.items_done / total) if total else 0


def _values(value: Any) -> set[str]:
    if isinstance(value, list):
        return {str(v) for v in value if v not in (None, "")}
    return {str(value)} if value not in (None, "") else set()


def _label(question: Any, value: str) -> str:
    return dict(question_choices(question)).get(value, value) if question.choices else value


def _profiles(
    me: ConnectionMember, partners: list[ConnectionMember], answers: list[Answer], now: datetime
) -> tuple[list[PartnerProfile], dict[int, Availability]]:
    by_participant: dict[int, dict[int, Answer]] = defaultdict(dict)
    availability: dict[int, Availability] = {}
    for answer in answers:
        by_participant[answer.participant_id][answer.question_id] = answer
        if answer.question.kind == QuestionKind.AVAILABILITY and answer.value:
            availability[answer.participant_id] = Availability(
                time_zone=answer.time_zone or "UTC", slots=answer.value
            )
    mine = by_participant.get(me.participant_id, {})

    def skills(participant_id: int, kind: str) -> set[str]:
        return {
            value
            for answer in by_participant.get(participant_id, {}).values()
            if answer.question.kind == kind
            for value in _values(answer.value)
        }

    profiles = []
    for partner in partners:
        theirs = by_participant.get(partner.participant_id, {})
        shared = []
        for question_id, answer in theirs.items():
            question = answer.question
            if question.kind not in (*CHOICE_KINDS, *SKILL_KINDS) or question_id not in mine:
                continue
            common = _values(answer.value) & _values(mine[question_id].value)
            if common:
                shared.append((question.label, sorted(_label(question, v) for v in common)))
        zone_name = zone_name_for(person=partner.participant.person)
        profiles.append(
            PartnerProfile(
                member=partner,
                time_zone=zone_name,
                local_now=now.astimezone(zone(zone_name)),
                shared=sorted(shared),
                offers_you_want=sorted(
                    skills(partner.participant_id, QuestionKind.SKILLS_OFFERED)
                    & skills(me.participant_id, QuestionKind.SKILLS_WANTED)
                ),
                wants_you_offer=sorted(
                    skills(partner.participant_id, QuestionKind.SKILLS_WANTED)
                    & skills(me.participant_id, QuestionKind.SKILLS_OFFERED)
                ),
                has_availability=partner.participant_id in availability,
            )
        )
    return profiles, availability


def meeting_row(meeting: Meeting, *, viewer: User, writable: bool, now: datetime) -> MeetingRow:
    status = meeting.status
    started = meeting.starts_at is not None and meeting.starts_at <= now
    return MeetingRow(
        meeting=meeting,
        options=list(meeting.options.all()) if status == MeetingStatus.PROPOSED else [],
        may_answer=writable
        and status == MeetingStatus.PROPOSED
        and meeting.proposed_by_id != viewer.pk,
        may_cancel=status in (MeetingStatus.PROPOSED, MeetingStatus.SCHEDULED) and not started,
        may_reschedule=writable and status == MeetingStatus.SCHEDULED and not started,
        may_log_outcome=started
        and status in (MeetingStatus.SCHEDULED, MeetingStatus.HELD, MeetingStatus.MISSED),
    )


def _plan_rows(items: list[PlanItem], me: ConnectionMember, writable: bool) -> list[PlanRow]:
    today = utc_today()
    rows = []
    for item in items:
        is_assignment = item.kind == PlanItemKind.ASSIGNMENT
        rows.append(
            PlanRow(
                item=item,
                is_overdue=not item.is_done and item.due_on is not None and item.due_on < today,
                may_toggle=writable and (not is_assignment or is_shadow(me)),
                may_remove=writable and (not is_assignment or is_host(me)),
                may_reflect=writable and is_assignment and is_shadow(me) and not item.feedback,
                may_give_feedback=writable
                and is_assignment
                and is_host(me)
                and bool(item.reflection),
            )
        )
    return rows


def _check_in_state(connection: Connection, me: ConnectionMember, writable: bool) -> CheckInState:
    settings = EngagementSettings.objects.filter(program_id=connection.program_id).first()
    first = settings.first_check_in_after_days if settings else FIRST_CHECK_IN_AFTER_DAYS
    every = settings.check_in_every_days if settings else CHECK_IN_EVERY_DAYS
    started_on = day_of(connection.started_at or timezone.now())
    today = utc_today()
    period, due_on = check_in_period(started_on, today, first=first, every=every)
    mine = list(
        CheckIn.objects.filter(connection=connection, participant_id=me.participant_id).order_by(
            "-created_at", "-id"
        )[:CHECK_INS_SHOWN]
    )
    # Only whether partners answered this period: their ratings and comments are their own.
    partners_answered = (
        CheckIn.objects.filter(connection=connection, period=period)
        .exclude(participant_id=me.participant_id)
        .count()
    )
    answered = any(c.period == period for c in mine)
    return CheckInState(
        is_open=writable and not answered,
        period=period,
        due_on=due_on,
        next_on=next_check_in_on(started_on, today, first=first, every=every),
        mine=mine,
        partners_answered=partners_answered,
    )


def _next_steps(workspace: Workspace, now: datetime) -> list[str]:
    steps = []
    if not workspace.is_writable:
        return ["This connection has ended: its workspace stays here for you to read."]
    for row in workspace.upcoming:
        if row.may_answer:
            steps.append("Answer the proposed meeting times.")
            break
    for row in workspace.past + workspace.upcoming:
        if row.awaits_outcome:
            steps.append("Say whether your last meeting happened.")
            break
    has_upcoming = any(
        r.meeting.status in (MeetingStatus.PROPOSED, MeetingStatus.SCHEDULED)
        and (r.meeting.starts_at is None or r.meeting.starts_at > now)
        for r in workspace.upcoming
    )
    if not workspace.is_circle and not has_upcoming:
        steps.append("Propose your next meeting.")
    if workspace.check_in.is_open and workspace.check_in.period >= 1:
        steps.append("Check in: how is it going?")
    overdue = sum(1 for row in workspace.plan_rows if row.is_overdue)
    if overdue:
        steps.append(f"{overdue} plan item{'s are' if overdue != 1 else ' is'} past due.")
    if any(row.may_give_feedback and not row.item.feedback for row in workspace.plan_rows):
        steps.append("Give feedback on your shadow's reflection.")
    if any(
        row.may_reflect and not row.item.reflection and row.item.kind == PlanItemKind.ASSIGNMENT
        for row in workspace.plan_rows
    ):
        steps.append("Reflect on your assignment once you have done it.")
    return steps or ["You are up to date. Enjoy your next conversation!"]


def workspace(
    *, viewer: User, connection: Connection, me: ConnectionMember, now: datetime | None = None
) -> Workspace:
    """Everything on the workspace page for member `me` (see get_workspace_connection): the
    partners and what they share, meetings, the plan, notes (shared, and the viewer's own
    private ones; never anyone else's), the viewer's check-ins and time suggestions."""
    now = now or timezone.now()
    writable = can_write(me, connection)
    members = list(connection.members.all())
    visible = (
        [m for m in members if m.is_current]
        if connection.status == ConnectionStatus.ACTIVE
        else members
    )
    partners = [m for m in visible if m.pk != me.pk]
    answers = list(
        Answer.objects.filter(participant_id__in=[m.participant_id for m in members])
        .select_related("question")
        .order_by("question__position", "id")
    )
    profiles, availability = _profiles(me, partners, answers, now)
    upcoming, past = _meeting_rows(connection, viewer=viewer, writable=writable, now=now)
    plan, items = _plan(connection)
    shared_notes, my_notes = _notes(connection, me)
    people_availability = [
        availability[m.participant_id] for m in visible if m.participant_id in availability
    ]
    suggestions = (
        suggest_times(people_availability, now=now)
        if writable and connection.kind != ConnectionKind.CIRCLE
        else []
    )
    result = Workspace(
        connection=connection,
        me=me,
        partners=profiles,
        is_writable=writable,
        my_zone=zone_name_for(user=viewer, person=me.participant.person),
        upcoming=upcoming,
        past=past,
        plan=plan,
        plan_rows=_plan_rows(items, me, writable),
        shared_notes=shared_notes,
        my_notes=my_notes,
        check_in=_check_in_state(connection, me, writable),
        suggestions=suggestions,
        without_availability=[
            m.participant.person.full_name for m in visible if m.participant_id not in availability
        ],
        sessions=_upcoming_sessions(connection, now),
    )
    result.next_steps = _next_steps(result, now)
    return result


def _meeting_rows(
    connection: Connection, *, viewer: Any, writable: bool, now: datetime
) -> tuple[list[Any], list[Any]]:
    """Upcoming meetings (proposed or scheduled), and past ones: those awaiting an outcome,
    then the latest closed."""
    open_meetings = list(
        Meeting.objects.filter(
            connection=connection,
            status__in=(MeetingStatus.PROPOSED, MeetingStatus.SCHEDULED),
        )
        .select_related("proposed_by")
        .prefetch_related("options")
        .order_by("starts_at", "created_at", "id")
    )
    closed_meetings = list(
        Meeting.objects.filter(connection=connection)
        .exclude(status__in=(MeetingStatus.PROPOSED, MeetingStatus.SCHEDULED))
        .select_related("proposed_by")
        .order_by("-updated_at", "-id")[:PAST_MEETINGS_SHOWN]
    )
    upcoming: list[MeetingRow] = []
    past: list[MeetingRow] = []
    for meeting in open_meetings:
        row = meeting_row(meeting, viewer=viewer, writable=writable, now=now)
        (past if row.awaits_outcome else upcoming).append(row)
    past.extend(
        meeting_row(meeting, viewer=viewer, writable=writable, now=now)
        for meeting in closed_meetings
    )
    return upcoming, past


def _plan(connection: Connection) -> tuple[Plan | None, list[PlanItem]]:
    plan = Plan.objects.filter(connection=connection).first()
    items = (
        list(
            PlanItem.objects.filter(plan=plan).select_related("done_by").order_by("position", "id")
        )
        if plan
        else []
    )
    return plan, items


def _notes(connection: Connection, me: ConnectionMember) -> tuple[list[Note], list[Note]]:
    """The latest shared notes, and the viewer's own latest private ones (never anyone
    else's)."""
    notes = list(
        Note.objects.filter(connection=connection)
        .filter(Q(visibility=NoteVisibility.SHARED) | Q(author_id=me.participant_id))
        .select_related("author__person")
        .order_by("-created_at", "-id")[: 2 * NOTES_SHOWN]
    )
    shared = [n for n in notes if n.visibility == NoteVisibility.SHARED][:NOTES_SHOWN]
    mine = [
        n
        for n in notes
        if n.visibility == NoteVisibility.PRIVATE and n.author_id == me.participant_id
    ][:NOTES_SHOWN]
    return shared, mine


def _upcoming_sessions(connection: Connection, now: datetime) -> list[CircleSession]:
    return (
        list(
            CircleSession.objects.filter(
                connection=connection, starts_at__gte=now, is_cancelled=False
            ).order_by("starts_at", "id")[:5]
        )
        if connection.kind == ConnectionKind.CIRCLE
        else []
    )


def meeting_form_context(
    *, viewer: User, connection: Connection, me: ConnectionMember, now: datetime | None = None
) -> dict[str, Any]:
    """What the propose-a-meeting page needs: the viewer's zone, the partners' zones and
    suggested times from everyone's availability."""
    now = now or timezone.now()
    members = [m for m in connection.members.all() if m.is_current]
    answers = Answer.objects.filter(
        participant_id__in=[m.participant_id for m in members],
        question__kind=QuestionKind.AVAILABILITY,
    ).select_related("question")
    availability = [
        Availability(time_zone=a.time_zone or "UTC", slots=a.value) for a in answers if a.value
    ]
    return {
        "my_zone": zone_name_for(user=viewer, person=me.participant.person),
        "partners": [
            (m.participant.person, zone_name_for(person=m.participant.person))
            for m in members
            if m.pk != me.pk
        ],
        "suggestions": suggest_times(availability, now=now),
        "missing_availability": len(availability) < len(members),
        "earliest": now + timedelta(hours=1),
    }
