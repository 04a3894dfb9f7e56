"""Hooks for nudges and dashboards: who needs a reminder. No viewer (background tasks call them);
each is a queryset or a list built in a fixed number of queries, scoped to one program."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, TypedDict, cast

from django.db.models import Count, Exists, Max, OuterRef, Q, QuerySet
from django.utils import timezone

from peermentor.connections.models import Connection, ConnectionMember, ConnectionStatus
from peermentor.core.timezones import day_of
from peermentor.core.timezones import today as utc_today
from peermentor.engagement.health import (
    CHECK_IN_EVERY_DAYS,
    FIRST_CHECK_IN_AFTER_DAYS,
    check_in_period,
)
from peermentor.engagement.models import (
    CheckIn,
    CircleSession,
    EngagementSettings,
    Meeting,
    MeetingStatus,
)
from peermentor.programs.models import Program

if TYPE_CHECKING:  # django-stubs-ext is a development dependency
    from django_stubs_ext import WithAnnotations

ProgramScope = Program | Iterable[Program] | QuerySet[Program]


class LastMet(TypedDict):
    last_met_at: datetime | None


class OverdueItems(TypedDict):
    overdue_items: int


def _programs(program: ProgramScope) -> Q:
    """One program, or several at once (a list or queryset: one query covers them all)."""
    if isinstance(program, Program):
        return Q(program=program)
    if isinstance(program, QuerySet):
        return Q(program__in=program.values("pk"))
    return Q(program_id__in=[p.pk for p in program])


def stalled_connections(
    program: ProgramScope, days: int, *, now: datetime | None = None
) -> "QuerySet[WithAnnotations[Connection, LastMet]]":
    """Active connections of `program` (or of several programs) that started at least `days`
    days ago and show no sign of meeting within the last `days` days: no meeting held or
    scheduled (nor a circle session) from then on, and no meeting proposed since. Annotated
    with `last_met_at` (the latest held meeting, or None)."""
    now = now or timezone.now()
    since = now - timedelta(days=days)
    recent_meeting = Meeting.objects.filter(connection=OuterRef("pk")).filter(
        Q(status__in=(MeetingStatus.HELD, MeetingStatus.SCHEDULED), starts_at__gte=since)
        | Q(status=MeetingStatus.PROPOSED, created_at__gte=since)
    )
    recent_session = CircleSession.objects.filter(
        connection=OuterRef("pk"), is_cancelled=False, starts_at__gte=since
    )
    return (
        Connection.objects.filter(
            _programs(program), status=ConnectionStatus.ACTIVE, started_at__lte=since
        )
        .filter(~Exists(recent_meeting), ~Exists(recent_session))
        .annotate(
            last_met_at=Max("meetings__starts_at", filter=Q(meetings__status=MeetingStatus.HELD))
        )
        .order_by("started_at", "pk")
    )


def plans_behind(
    program: ProgramScope, *, today: date | None = None, grace_days: int = 0
) -> "QuerySet[WithAnnotations[Connection, OverdueItems]]":
    """Active connections of `program` (or of several programs) with plan items still open
    more than `grace_days` after their due date; annotated with `overdue_items`, most behind
    first."""
    cutoff = (today or utc_today()) - timedelta(days=grace_days)
    overdue = Q(engagement_plan__items__is_done=False, engagement_plan__items__due_on__lt=cutoff)
    return (
        Connection.objects.filter(_programs(program), status=ConnectionStatus.ACTIVE)
        .annotate(overdue_items=Count("engagement_plan__items", filter=overdue))
        .filter(overdue_items__gt=0)
        .order_by("-overdue_items", "pk")
    )


def meetings_awaiting_answer(
    program: Program, *, older_than_hours: int = 48, now: datetime | None = None
) -> QuerySet[Meeting]:
    """Proposed meetings of `program`'s active connections nobody has answered for
    `older_than_hours` hours (the proposer's partners should be reminded)."""
    now = now or timezone.now()
    return (
        Meeting.objects.filter(
            connection__program=program,
            connection__status=ConnectionStatus.ACTIVE,
            status=MeetingStatus.PROPOSED,
            created_at__lte=now - timedelta(hours=older_than_hours),
        )
        .select_related("connection", "proposed_by")
        .order_by("created_at", "pk")
    )


def meetings_awaiting_outcome(
    program: Program, *, now: datetime | None = None
) -> QuerySet[Meeting]:
    """Scheduled meetings of `program` whose time is over but nobody said whether they
    happened."""
    now = now or timezone.now()
    return (
        Meeting.objects.filter(
            connection__program=program,
            status=MeetingStatus.SCHEDULED,
            starts_at__lt=now,
        )
        .select_related("connection")
        .order_by("starts_at", "pk")
    )


@dataclass(frozen=True)
class CheckInDue:
    connection_id: int
    participant_id: int
    user_id: int | None
    due_on: date


def check_ins_due(program: Program, *, today: date | None = None) -> list[CheckInDue]:
    """Current members of `program`'s active connections whose check-in for the current
    period is due and not answered yet. Three queries."""
    today = today or utc_today()
    settings = EngagementSettings.objects.filter(program=program).first()
    first = settings.first_check_in_after_days if settings else FIRST_CHECK_IN_AFTER_DAYS
    every = settings.check_in_every_days if settings else CHECK_IN_EVERY_DAYS
    periods: dict[int, tuple[int, date]] = {}
    for pk, started_at in Connection.objects.filter(
        program=program, status=ConnectionStatus.ACTIVE, started_at__isnull=False
    ).values_list("pk", "started_at"):
        started_on = day_of(cast(datetime, started_at))  # the filter above excludes None
        period, due_on = check_in_period(started_on, today, first=first, every=every)
        if due_on is not None:
            periods[pk] = (period, due_on)
    answered = {
        (connection_id, participant_id, period)
        for connection_id, participant_id, period in CheckIn.objects.filter(
            connection__program=program,
            connection__status=ConnectionStatus.ACTIVE,
            period__gte=1,
        ).values_list("connection_id", "participant_id", "period")
    }
    due = []
    for connection_id, participant_id, user_id in (
        ConnectionMember.objects.filter(
            connection__program=program,
            connection__status=ConnectionStatus.ACTIVE,
            is_current=True,
        )
        .order_by("connection_id", "id")
        .values_list("connection_id", "participant_id", "participant__person__user_id")
    ):
        if connection_id not in periods:
            continue
        period, due_on = periods[connection_id]
        if (connection_id, participant_id, period) not in answered:
            due.append(CheckInDue(connection_id, participant_id, user_id, due_on))
    return due
