"""Time zones for scheduling: whose zone a time is in, wall time → UTC, and availability overlap.

Everything stored is UTC. People type wall-clock times in their own zone; a time that does not
exist there (the hour skipped when clocks go forward) is refused rather than silently moved,
and an hour that happens twice (clocks going back) means its first occurrence.
"""

import zoneinfo
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Protocol

from peermentor.core.errors import ApplicationError

DEFAULT_ZONE = "UTC"


class HasTimeZone(Protocol):
    """A user account, as far as time zones go (core sits below accounts and cannot name it)."""

    time_zone: str


def zone(name: str) -> zoneinfo.ZoneInfo:
    """The zone `name`, or UTC when the name is empty or unknown."""
    try:
        return zoneinfo.ZoneInfo(name or DEFAULT_ZONE)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo(DEFAULT_ZONE)


def is_known_zone(name: str) -> bool:
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, TypeError):
        return False
    return bool(name)


def zone_name_for(*, user: HasTimeZone | None = None, person: Any = None) -> str:
    """The zone someone sees times in: their account's choice (what every page uses), else the
    directory's zone for them, else UTC."""
    if user is None and person is not None:
        user = getattr(person, "user", None)
    for candidate in (getattr(user, "time_zone", ""), getattr(person, "time_zone", "")):
        if candidate and is_known_zone(candidate):
            return str(candidate)
    return DEFAULT_ZONE


def local_to_utc(wall: datetime, zone_name: str, *, field: str | None = None) -> datetime:
    """The UTC instant of the wall-clock time `wall` in `zone_name` (aware input is converted
    as is). Raises ApplicationError for a time skipped by a daylight-saving change."""
    if wall.tzinfo is not None:
        return wall.astimezone(UTC)
    tz = zone(zone_name)
    aware = wall.replace(tzinfo=tz, fold=0)
    try:
        instant = aware.astimezone(UTC)
        round_trip = instant.astimezone(tz).replace(tzinfo=None)
    except (OverflowError, ValueError):
        # Year 1 or 9999 pushed past the calendar's ends by the zone's offset.
        raise ApplicationError("Choose a date in our era.", field=field) from None
    if round_trip != wall:
        raise ApplicationError(
            f"{wall:%d %b %Y %H:%M} does not exist in {zone_name}: the clocks change then. "
            "Choose another time.",
            field=field,
        )
    return instant


def utc_to_local(instant: datetime, zone_name: str) -> datetime:
    return instant.astimezone(zone(zone_name))


# --- availability -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Availability:
    """One person's weekly availability: slots {"day": 0-6, "start", "end"} in `time_zone`."""

    time_zone: str
    slots: Sequence[Mapping[str, Any]]


Interval = tuple[datetime, datetime]


def _parse_time(value: str) -> time:
    hours, minutes = str(value).split(":")
    return time(int(hours), int(minutes))


def _lenient_utc(day: date, at: time, tz: zoneinfo.ZoneInfo) -> datetime:
    # For suggestions a slot edge inside a skipped hour may shift by the change; no one typed it.
    return datetime.combine(day, at).replace(tzinfo=tz).astimezone(UTC)


def concrete_intervals(
    availability: Availability, start: datetime, end: datetime
) -> list[Interval]:
    """The availability's weekly slots as real UTC intervals overlapping [start, end), each
    local date converted on its own so that daylight-saving changes fall where they should."""
    tz = zone(availability.time_zone)
    first = start.astimezone(tz).date() - timedelta(days=1)
    last = end.astimezone(tz).date() + timedelta(days=1)
    intervals: list[Interval] = []
    day = first
    while day <= last:
        for slot in availability.slots:
            if slot.get("day") != day.weekday():
                continue
            try:
                begins = _lenient_utc(day, _parse_time(slot["start"]), tz)
                ends = _lenient_utc(day, _parse_time(slot["end"]), tz)
            except (KeyError, ValueError):
                continue
            begins, ends = max(begins, start), min(ends, end)
            if begins < ends:
                intervals.append((begins, ends))
        day += timedelta(days=1)
    return sorted(intervals)


def intersect(first: Sequence[Interval], second: Sequence[Interval]) -> list[Interval]:
    """Intervals covered by both sorted lists (two-pointer sweep)."""
    result: list[Interval] = []
    i = j = 0
    while i < len(first) and j < len(second):
        begins = max(first[i][0], second[j][0])
        ends = min(first[i][1], second[j][1])
        if begins < ends:
            result.append((begins, ends))
        if first[i][1] < second[j][1]:
            i += 1
        else:
            j += 1
    return result


def suggest_times(
    availabilities: Iterable[Availability],
    *,
    now: datetime,
    duration_minutes: int = 60,
    days: int = 14,
    lead_hours: int = 24,
    step_minutes: int = 30,
    limit: int = 6,
) -> list[datetime]:
    """Up to `limit` UTC start times in the next `days` days (at least `lead_hours` from now)
    when everyone given is available for `duration_minutes`, at most one per shared window,
    starting on the half hour. Empty when nobody gave availability or nothing overlaps."""
    known = [a for a in availabilities if a.slots]
    if not known:
        return []
    start = now.astimezone(UTC) + timedelta(hours=lead_hours)
    end = start + timedelta(days=days)
    shared = concrete_intervals(known[0], start, end)
    for other in known[1:]:
        shared = intersect(shared, concrete_intervals(other, start, end))
    length = timedelta(minutes=duration_minutes)
    step = step_minutes * 60
    suggestions: list[datetime] = []
    for begins, ends in shared:
        seconds = int(begins.timestamp())
        aligned = datetime.fromtimestamp(-(-seconds // step) * step, tz=UTC)
        if aligned + length <= ends:
            suggestions.append(aligned)
        if len(suggestions) >= limit:
            break
    return suggestions


# --- days -------------------------------------------------------------------------------------
def day_of(instant: datetime) -> date:
    """The calendar day of `instant` for plan and check-in arithmetic: always the UTC day, so
    that a connection's due dates do not depend on who is looking."""
    return instant.astimezone(UTC).date()


def today() -> date:
    return datetime.now(UTC).date()
