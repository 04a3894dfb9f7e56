"""Connection health (the rule is in engagement/health.py), one connection or a whole program,
in a fixed number of queries per chunk of connections."""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import cast

from django.core.exceptions import PermissionDenied
from django.db.models import Count, Max, Q
from django.utils import timezone

from peermentor.accounts.models import User
from peermentor.connections.models import Connection, ConnectionStatus
from peermentor.core.timezones import day_of
from peermentor.core.timezones import today as utc_today
from peermentor.engagement.health import Health, HealthSignals, HealthStatus, assess
from peermentor.engagement.models import CheckIn, CircleSession, Meeting, MeetingStatus, PlanItem
from peermentor.programs.models import Program
from peermentor.programs.permissions import can_manage_program

CHUNK_SIZE = 900


def _signals(
    started: dict[int, datetime], *, today: date, now: datetime
) -> dict[int, HealthSignals]:
    """HealthSignals for each connection id → started_at, 4 queries per chunk of 900."""
    ids = sorted(started)
    held: dict[int, int] = defaultdict(int)
    last_held: dict[int, datetime] = {}
    upcoming: set[int] = set()
    due: dict[int, tuple[int, int]] = {}
    latest: dict[int, dict[int, int]] = defaultdict(dict)
    for start in range(0, len(ids), CHUNK_SIZE):
        chunk = ids[start : start + CHUNK_SIZE]
        meetings = (
            Meeting.objects.filter(connection_id__in=chunk)
            .values("connection_id")
            .annotate(
                held=Count("pk", filter=Q(status=MeetingStatus.HELD)),
                last_held=Max("starts_at", filter=Q(status=MeetingStatus.HELD)),
                upcoming=Count("pk", filter=Q(status=MeetingStatus.SCHEDULED, starts_at__gte=now)),
            )
            .order_by()
        )
        sessions = (
            CircleSession.objects.filter(connection_id__in=chunk, is_cancelled=False)
            .values("connection_id")
            .annotate(
                held=Count("pk", filter=Q(starts_at__lt=now)),
                last_held=Max("starts_at", filter=Q(starts_at__lt=now)),
                upcoming=Count("pk", filter=Q(starts_at__gte=now)),
            )
            .order_by()
        )
        for row in [*meetings, *sessions]:
            connection_id = row["connection_id"]
            held[connection_id] += row["held"]
            if row["last_held"] and (
                connection_id not in last_held or row["last_held"] > last_held[connection_id]
            ):
                last_held[connection_id] = row["last_held"]
            if row["upcoming"]:
                upcoming.add(connection_id)
        for row in (
            PlanItem.objects.filter(plan__connection_id__in=chunk, due_on__lt=today)
            .values("plan__connection_id")
            .annotate(due=Count("pk"), done=Count("pk", filter=Q(is_done=True)))
            .order_by()
        ):
            due[row["plan__connection_id"]] = (row["due"], row["done"])
        # Newest first, so the first rating seen for each member is their latest.
        for connection_id, participant_id, rating in (
            CheckIn.objects.filter(connection_id__in=chunk)
            .order_by("connection_id", "participant_id", "-created_at", "-id")
            .values_list("connection_id", "participant_id", "rating")
            .iterator(chunk_size=2000)
        ):
            latest[connection_id].setdefault(participant_id, rating)
    return {
        connection_id: HealthSignals(
            started_on=day_of(started_at),
            today=today,
            meetings_held=held[connection_id],
            last_held_on=day_of(last_held[connection_id]) if connection_id in last_held else None,
            has_upcoming=connection_id in upcoming,
            items_due=due.get(connection_id, (0, 0))[0],
            items_due_done=due.get(connection_id, (0, 0))[1],
            latest_pulses=tuple(latest[connection_id].values()),
        )
        for connection_id, started_at in started.items()
    }


def health_for_connections(
    connection_ids: Sequence[int], *, today: date | None = None, now: datetime | None = None
) -> dict[int, Health]:
    """Health of each ACTIVE connection among `connection_ids` (others are left out). For
    callers that already checked who may see it (dashboards)."""
    now = now or timezone.now()
    today = today or utc_today()
    started: dict[int, datetime] = {}
    wanted = sorted(set(connection_ids))
    for start in range(0, len(wanted), CHUNK_SIZE):
        rows = Connection.objects.filter(
            pk__in=wanted[start : start + CHUNK_SIZE],
            status=ConnectionStatus.ACTIVE,
            started_at__isnull=False,
        ).values_list("pk", "started_at")
        started.update(cast("Iterable[tuple[int, datetime]]", rows))  # started_at not null
    return {pk: assess(s) for pk, s in _signals(started, today=today, now=now).items()}


def connection_health(
    connection: Connection, *, today: date | None = None, now: datetime | None = None
) -> Health | None:
    """The connection's health, or None unless it is active (health is about keeping a
    running connection going)."""
    if connection.status != ConnectionStatus.ACTIVE or connection.started_at is None:
        return None
    now = now or timezone.now()
    signals = _signals({connection.pk: connection.started_at}, today=today or utc_today(), now=now)
    return assess(signals[connection.pk])


@dataclass
class ProgramHealth:
    program: Program
    by_connection: dict[int, Health]

    @property
    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys(HealthStatus.values, 0)
        for health in self.by_connection.values():
            counts[health.status] += 1
        return counts

    @property
    def needs_attention(self) -> list[int]:
        return sorted(
            pk
            for pk, health in self.by_connection.items()
            if health.status == HealthStatus.NEEDS_ATTENTION
        )


def program_health(
    *, viewer: User, program: Program, today: date | None = None, now: datetime | None = None
) -> ProgramHealth:
    """Health of every active connection of `program`, for its managers (the program
    dashboard): one query for the connections, then four per 900 of them."""
    if not can_manage_program(viewer, program):
        raise PermissionDenied("Only the program's managers see its connections' health.")
    now = now or timezone.now()
    rows = Connection.objects.filter(
        program=program, status=ConnectionStatus.ACTIVE, started_at__isnull=False
    ).values_list("pk", "started_at")
    started = dict(cast("Iterable[tuple[int, datetime]]", rows))  # started_at not null
    signals = _signals(started, today=today or utc_today(), now=now)
    return ProgramHealth(
        program=program, by_connection={pk: assess(s) for pk, s in signals.items()}
    )
