"""Closing a program: it shows what will happen, then ends everything in one transaction.

A closed program holds no active connection and no proposal: closing completes every active
connection (reason "completed naturally"), drops every proposal, cancels upcoming meetings and
circle sessions (engagement), moves the program to closed (programs), and once that commits
asks the program's closing survey at once (surveys) rather than at the next periodic round;
each member can write their reflection from then on.

The planned end (the periodic job, `planned_ends_run`): a connection whose own planned end
has passed is completed the next day (a manager who extended a connection moved its end);
a running program whose planned end has passed is closed once no active connection is left,
so an extended connection keeps its program running until it ends too.
"""

from dataclasses import dataclass
from datetime import date

from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from peermentor.accounts.models import User
from peermentor.connections.models import Connection, ConnectionStatus, EndReason
from peermentor.core.tasks import enqueue_on_commit
from peermentor.engagement import services as engagement
from peermentor.engagement.models import CircleSession, Meeting, MeetingStatus
from peermentor.programs import services as programs
from peermentor.programs.models import Program, ProgramStatus, Track
from peermentor.surveys.models import Survey, SurveySchedule, SurveyStatus
from peermentor.surveys.tasks import send_program_surveys_task

PLANNED_END_REASON = "The program reached its planned end."


@dataclass(frozen=True)
class ClosurePreview:
    """What closing (the program, or a track's connections) will do, counted now."""

    active_connections: int
    proposals: int
    upcoming_meetings: int
    closing_surveys: list[str]

    @property
    def is_empty(self) -> bool:
        return not (self.active_connections or self.proposals or self.upcoming_meetings)


def closure_preview(*, program: Program, track: Track | None = None) -> ClosurePreview:
    """Counts for the confirmation page and the API, in four queries."""
    connections = Connection.objects.filter(program=program)
    if track is not None:
        connections = connections.filter(track=track)
    counts = {
        row["status"]: row["count"]
        for row in connections.filter(
            status__in=[ConnectionStatus.ACTIVE, ConnectionStatus.PROPOSED]
        )
        .values("status")
        .order_by()
        .annotate(count=Count("pk"))
    }
    now = timezone.now()
    open_ids = connections.filter(
        status__in=[ConnectionStatus.ACTIVE, ConnectionStatus.PROPOSED]
    ).values("pk")
    meetings = Meeting.objects.filter(connection_id__in=open_ids).filter(
        Q(status=MeetingStatus.PROPOSED) | Q(status=MeetingStatus.SCHEDULED, starts_at__gt=now)
    )
    sessions = CircleSession.objects.filter(
        connection_id__in=open_ids, is_cancelled=False, starts_at__gt=now
    )
    surveys = Survey.objects.filter(
        program=program, status=SurveyStatus.OPEN, schedule=SurveySchedule.AT_CLOSURE
    ).order_by("pk")
    return ClosurePreview(
        active_connections=counts.get(ConnectionStatus.ACTIVE, 0),
        proposals=counts.get(ConnectionStatus.PROPOSED, 0) if track is None else 0,
        upcoming_meetings=meetings.count() + sessions.count(),
        closing_surveys=list(surveys.values_list("title", flat=True)),
    )


@dataclass(frozen=True)
class ClosureResult:
    completed: int
    proposals_dropped: int


def _end_connections(
    *, actor: User | None, program: Program, reason_text: str = ""
) -> ClosureResult:
    completed = engagement.connections_complete_many(
        actor=actor, program=program, reason_text=reason_text
    )
    proposals = list(
        Connection.objects.filter(program=program, status=ConnectionStatus.PROPOSED)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    dropped = (
        engagement.connections_cancel_many(
            actor=actor,
            program=program,
            connection_ids=proposals,
            reason="The program closed before this match started.",
        )
        if proposals
        else []
    )
    if completed:
        # Reflections open as the connections end; the closing survey is asked now.
        enqueue_on_commit(send_program_surveys_task, program_id=program.pk)
    return ClosureResult(completed=len(completed), proposals_dropped=len(dropped))


@transaction.atomic
def program_close(*, actor: User | None, program: Program, reason: str) -> ClosureResult:
    """Afterwards the program is closed and holds no active connection and no proposal: every
    active connection is completed, every proposal dropped, their upcoming meetings and circle
    sessions cancelled, all in one transaction with the audit rows; once it commits the
    closing survey is asked of their members. `actor` None is the system (planned end).
    Refused (nothing changes) if the program may not close now or `reason` is empty."""
    programs.program_transition(
        actor=actor, program=program, to_status=ProgramStatus.CLOSED, reason=reason
    )
    return _end_connections(actor=actor, program=program)


@transaction.atomic
def program_transition(*, actor: User, program: Program, to_status: str, reason: str) -> Program:
    """Any move of a program's status; closing goes through program_close."""
    if to_status == ProgramStatus.CLOSED:
        program_close(actor=actor, program=program, reason=reason)
        program.refresh_from_db()
        return program
    return programs.program_transition(
        actor=actor, program=program, to_status=to_status, reason=reason
    )


@transaction.atomic
def track_connections_complete(
    *, actor: User, program: Program, track: Track, reason_code: str, reason_text: str = ""
) -> int:
    """Afterwards every active connection of `track` is completed (members told the closing
    survey at once), its upcoming meetings cancelled. Returns how many."""
    completed = engagement.connections_complete_many(
        actor=actor, program=program, track=track, reason_code=reason_code, reason_text=reason_text
    )
    if completed:
        enqueue_on_commit(send_program_surveys_task, program_id=program.pk)
    return len(completed)


@dataclass(frozen=True)
class PlannedEndResult:
    connections_completed: int
    programs_closed: int


def planned_ends_run(*, today: date | None = None) -> PlannedEndResult:
    """The periodic job: complete every active connection of a running program whose planned
    end is before `today`, then close every running program whose planned end is before
    `today` and that has no active connection left. Safe to repeat: a second run finds
    nothing. One transaction per program."""
    today = today or timezone.localdate()
    completed = 0
    closed = 0
    program_ids = (
        Connection.objects.filter(
            status=ConnectionStatus.ACTIVE,
            planned_end_on__lt=today,
            program__status=ProgramStatus.RUNNING,
        )
        .values_list("program_id", flat=True)
        .distinct()
        .order_by("program_id")
    )
    for program in Program.objects.filter(pk__in=list(program_ids)).order_by("pk"):
        with transaction.atomic():
            ids = list(
                Connection.objects.filter(
                    program=program, status=ConnectionStatus.ACTIVE, planned_end_on__lt=today
                ).values_list("pk", flat=True)
            )
            done = engagement.connections_complete_many(
                actor=None,
                program=program,
                connection_ids=ids,
                reason_code=EndReason.COMPLETED_NATURALLY,
            )
            if done:
                enqueue_on_commit(send_program_surveys_task, program_id=program.pk)
            completed += len(done)
    due = Program.objects.filter(status=ProgramStatus.RUNNING, planned_end_on__lt=today).exclude(
        connections__status=ConnectionStatus.ACTIVE
    )
    for program in due.order_by("pk"):
        program_close(actor=None, program=program, reason=PLANNED_END_REASON)
        closed += 1
    return PlannedEndResult(connections_completed=completed, programs_closed=closed)
