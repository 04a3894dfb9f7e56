"""What a dashboard looks at: one program, maybe one track, maybe a period, as querysets that
every figure starts from. Each figure counts what happened in the period:

- the funnel, match rate and time to match: people who enrolled (or were invited) in it;
- connection figures (states, meetings, plans, health, ties): connections created in it;
- closure reasons: connections that ended in it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from peermentor.accounts.models import User
from peermentor.connections.models import MET_STATUSES, Connection, ConnectionMember
from peermentor.enrollment.models import Invitation, Participant
from peermentor.insights.permissions import can_view_program_insights
from peermentor.programs.models import Program, Track


@dataclass(frozen=True)
class Scope:
    program: Program
    track: Track | None = None
    # [since, until) in UTC; dates typed by the viewer are turned into their local midnights.
    since: datetime | None = None
    until: datetime | None = None
    now: datetime | None = None
    # The days the viewer chose (for selectors of other apps that filter by day).
    start_on: date | None = None
    end_on: date | None = None

    @property
    def at(self) -> datetime:
        return self.now or timezone.now()

    @property
    def today(self) -> date:
        """The UTC day, as engagement's health rule counts days."""
        return self.at.astimezone(UTC).date()

    @property
    def is_filtered(self) -> bool:
        return bool(self.track or self.since or self.until)

    def _in_period(self, queryset: QuerySet[Any], field: str) -> QuerySet[Any]:
        if self.since is not None:
            queryset = queryset.filter(**{f"{field}__gte": self.since})
        if self.until is not None:
            queryset = queryset.filter(**{f"{field}__lt": self.until})
        return queryset

    def invitations(self) -> QuerySet[Invitation]:
        queryset = Invitation.objects.filter(program=self.program)
        if self.track is not None:
            queryset = queryset.filter(track=self.track)
        return self._in_period(queryset, "sent_at")

    def participants(self) -> QuerySet[Participant]:
        queryset = Participant.objects.filter(program=self.program)
        if self.track is not None:
            queryset = queryset.filter(track=self.track)
        return self._in_period(queryset, "enrolled_at")

    def connections(self) -> QuerySet[Connection]:
        queryset = Connection.objects.filter(program=self.program)
        if self.track is not None:
            queryset = queryset.filter(track=self.track)
        return self._in_period(queryset, "created_at")

    def met_connections(self) -> QuerySet[Connection]:
        """Connections that really happened (active, completed or closed early)."""
        return self.connections().filter(status__in=MET_STATUSES)

    def ended_connections(self) -> QuerySet[Connection]:
        queryset = Connection.objects.filter(program=self.program, ended_at__isnull=False)
        if self.track is not None:
            queryset = queryset.filter(track=self.track)
        return self._in_period(queryset, "ended_at")


def has_met_connection(participant_ref: str = "pk") -> Exists:
    """True for a participant with a place in a connection that really happened."""
    return Exists(
        ConnectionMember.objects.filter(
            participant_id=OuterRef(participant_ref), connection__status__in=MET_STATUSES
        )
    )


def local_midnight(day: date) -> datetime:
    """The start of `day` in the active (viewer's) time zone."""
    return timezone.make_aware(datetime.combine(day, time.min))


def scope_for(
    *,
    viewer: User,
    program: Program,
    track: Track | None = None,
    start_on: date | None = None,
    end_on: date | None = None,
    now: datetime | None = None,
) -> Scope:
    """The scope of a program's figures for a viewer who may see them (PermissionDenied
    otherwise). `end_on` is inclusive: the period runs to the end of that day."""
    if not can_view_program_insights(viewer, program):
        raise PermissionDenied("Only the program's managers see its figures.")
    return Scope(
        program=program,
        track=track,
        since=local_midnight(start_on) if start_on else None,
        until=local_midnight(end_on + timedelta(days=1)) if end_on else None,
        now=now,
        start_on=start_on,
        end_on=end_on,
    )
