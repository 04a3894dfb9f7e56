"""The check-in rhythm and the health rule, as pure functions of dates and counts.

Health of an ACTIVE connection (docs/engagement.md says the same in prose):

- needs attention, if any of:
  * a member's latest pulse is 2 or lower;
  * it started 30+ days ago and no meeting was held yet and none is scheduled;
  * the last held meeting is more than 45 days old and none is scheduled;
  * at least 2 plan items due before today are open and fewer than half of the due items
    are done;
- otherwise too early to tell, if it started less than 30 days ago and has neither a held
  meeting nor a pulse yet;
- otherwise on track.

Circle sessions that have taken place count as held meetings.
"""

from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db import models

FIRST_CHECK_IN_AFTER_DAYS = 30
CHECK_IN_EVERY_DAYS = 60
TOO_EARLY_DAYS = 30
STALL_DAYS = 45
LOW_PULSE = 2
OVERDUE_ITEMS_MIN = 2


def check_in_period(
    started_on: date,
    today: date,
    *,
    first: int = FIRST_CHECK_IN_AFTER_DAYS,
    every: int = CHECK_IN_EVERY_DAYS,
) -> tuple[int, date | None]:
    """(period, due date) a pulse given `today` answers: period 0 (no due date) before the
    first check-in falls due, then n for the n-th check-in due at start + first + (n-1)*every."""
    days = (today - started_on).days
    if days < first:
        return 0, None
    number = 1 + (days - first) // every
    return number, started_on + timedelta(days=first + (number - 1) * every)


def next_check_in_on(
    started_on: date,
    today: date,
    *,
    first: int = FIRST_CHECK_IN_AFTER_DAYS,
    every: int = CHECK_IN_EVERY_DAYS,
) -> date:
    """The first due date after `today`."""
    _, due_on = check_in_period(started_on, today, first=first, every=every)
    if due_on is None:
        return started_on + timedelta(days=first)
    return due_on + timedelta(days=every)


class HealthStatus(models.TextChoices):
    ON_TRACK = "on_track", "On track"
    NEEDS_ATTENTION = "needs_attention", "Needs attention"
    TOO_EARLY = "too_early", "Too early to tell"


@dataclass(frozen=True)
class HealthSignals:
    """What the rule looks at, for one active connection on `today`."""

    started_on: date
    today: date
    meetings_held: int = 0
    last_held_on: date | None = None
    has_upcoming: bool = False
    items_due: int = 0
    items_due_done: int = 0
    # Each answering member's latest rating.
    latest_pulses: tuple[int, ...] = ()


@dataclass(frozen=True)
class Health:
    status: str
    reasons: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        return HealthStatus(self.status).label

    @property
    def badge(self) -> str:
        return {
            HealthStatus.ON_TRACK: "ok",
            HealthStatus.NEEDS_ATTENTION: "bad",
            HealthStatus.TOO_EARLY: "",
        }[HealthStatus(self.status)]


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def assess(signals: HealthSignals) -> Health:
    """The connection's health and the plain-language reasons for it."""
    age_days = (signals.today - signals.started_on).days
    concerns: list[str] = []
    if any(rating <= LOW_PULSE for rating in signals.latest_pulses):
        # Which member is not said: managers act on it without learning who answered what.
        concerns.append(f"A latest check-in was {LOW_PULSE} out of 5 or lower.")
    if age_days >= TOO_EARLY_DAYS and not signals.has_upcoming:
        if signals.meetings_held == 0:
            concerns.append(f"No meeting held in the {age_days} days since it started.")
        elif (
            signals.last_held_on is not None
            and (signals.today - signals.last_held_on).days > STALL_DAYS
        ):
            concerns.append(f"No meeting in the last {STALL_DAYS} days, and none scheduled.")
    open_due = signals.items_due - signals.items_due_done
    if open_due >= OVERDUE_ITEMS_MIN and signals.items_due_done * 2 < signals.items_due:
        concerns.append(
            f"{_plural(open_due, 'plan item')} past their due date are still open "
            f"({signals.items_due_done} of {signals.items_due} done)."
        )
    if concerns:
        return Health(HealthStatus.NEEDS_ATTENTION, concerns)
    if age_days < TOO_EARLY_DAYS and signals.meetings_held == 0 and not signals.latest_pulses:
        return Health(
            HealthStatus.TOO_EARLY,
            [f"Started {_plural(age_days, 'day')} ago: too early to tell."],
        )
    reasons = [f"{_plural(signals.meetings_held, 'meeting')} held."]
    if signals.has_upcoming:
        reasons.append("A meeting is scheduled.")
    if signals.items_due:
        reasons.append(f"{signals.items_due_done} of {signals.items_due} due plan items done.")
    if signals.latest_pulses:
        reasons.append(f"{_plural(len(signals.latest_pulses), 'member')} checked in.")
    return Health(HealthStatus.ON_TRACK, reasons)
