"""The scheduled nudges: who needs a reminder today, as notifications, then the e-mail digests.

It reads connections, plans, check-ins, self-match requests and help asks, and writes
notifications: so it lives in flows, above all of them. `nudges_run` is what the `send_nudges`
command and the `send_nudges_task` task call. It is safe
to run as often as you like and from several workers at once: every notification has a dedupe
key naming what it is about and its period ("stalled:12:2026-W48", once a week while it stays
stalled), so a re-run writes nothing new; and digests are claimed per person and period
(digests.py). The number of queries grows with the number of running programs, never with the
number of connections or people (a constant number per 900 connections).
"""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import NamedTuple, cast

from django.urls import reverse
from django.utils import timezone

from peermentor.connections.models import (
    Connection,
    ConnectionKind,
    ConnectionMember,
    ConnectionSource,
    ConnectionStatus,
)
from peermentor.engagement import selectors as engagement
from peermentor.helpnetwork.selectors import asks_with_waiting_offers
from peermentor.helpnetwork.services import help_asks_expire
from peermentor.notifications.digests import digests_send
from peermentor.notifications.models import (
    DEFAULT_ENDING_SOON_DAYS,
    DEFAULT_STALLED_AFTER_DAYS,
    DEFAULT_WAITING_AFTER_DAYS,
    NotificationKind,
    NudgeSettings,
)
from peermentor.notifications.services import NotificationSpec, notifications_create
from peermentor.programs.models import Program, ProgramStatus
from peermentor.selfmatch.models import MatchRequest, RequestStatus

CHUNK_SIZE = 900
# Programs that can have connections worth a reminder.
NUDGED_STATUSES = (ProgramStatus.ENROLLING, ProgramStatus.MATCHING, ProgramStatus.RUNNING)


def week_key(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


class Member(NamedTuple):
    participant_id: int
    user_id: int | None
    full_name: str


class Recipient(NamedTuple):
    """A member with an active account."""

    participant_id: int
    user_id: int
    full_name: str


class Thresholds(NamedTuple):
    stalled_after_days: int
    ending_soon_days: int
    waiting_after_days: int


DEFAULT_THRESHOLDS = Thresholds(
    DEFAULT_STALLED_AFTER_DAYS, DEFAULT_ENDING_SOON_DAYS, DEFAULT_WAITING_AFTER_DAYS
)


@dataclass
class _Found:
    """What the finders turned up, before we know who the members are."""

    kinds: dict[int, str] = field(default_factory=dict)  # connection id -> kind
    stalled: list[tuple[int, datetime | None, datetime | None]] = field(default_factory=list)
    behind: list[tuple[int, int]] = field(default_factory=list)
    ending: list[tuple[int, date]] = field(default_factory=list)
    proposals: list[tuple[int, str, int | None]] = field(default_factory=list)
    meetings: list[tuple[int, int, int | None, str]] = field(default_factory=list)
    check_ins: list[tuple[int, int, date]] = field(default_factory=list)


@dataclass(frozen=True)
class NudgeResult:
    notifications_created: int
    digests_sent: int
    asks_expired: int = 0


def _thresholds(programs: Sequence[Program]) -> dict[int, Thresholds]:
    found = {
        settings.program_id: Thresholds(
            settings.stalled_after_days, settings.ending_soon_days, settings.waiting_after_days
        )
        for settings in NudgeSettings.objects.filter(program__in=[p.pk for p in programs])
    }
    return {program.pk: found.get(program.pk, DEFAULT_THRESHOLDS) for program in programs}


def _find(programs: Sequence[Program], *, now: datetime) -> _Found:
    today = now.date()
    thresholds = _thresholds(programs)
    found = _Found()
    for program in programs:
        limits = thresholds[program.pk]
        for pk, kind, started_at, last_met_at in engagement.stalled_connections(
            program, limits.stalled_after_days, now=now
        ).values_list("pk", "kind", "started_at", "last_met_at"):
            found.kinds[pk] = kind
            found.stalled.append((pk, started_at, last_met_at))
        for pk, kind, overdue in engagement.plans_behind(program, today=today).values_list(
            "pk", "kind", "overdue_items"
        ):
            found.kinds[pk] = kind
            found.behind.append((pk, overdue))
        for (
            meeting_pk,
            connection_id,
            kind,
            proposer_id,
            proposer_name,
        ) in engagement.meetings_awaiting_answer(
            program, older_than_hours=24 * limits.waiting_after_days, now=now
        ).values_list(
            "pk", "connection_id", "connection__kind", "proposed_by_id", "proposed_by__full_name"
        ):
            found.kinds[connection_id] = kind
            found.meetings.append((meeting_pk, connection_id, proposer_id, proposer_name or ""))
        for due in engagement.check_ins_due(program, today=today):
            found.check_ins.append((due.connection_id, due.participant_id, due.due_on))
            found.kinds.setdefault(due.connection_id, "")

    # Two finders read every program at once, with the widest threshold, then filter here.
    program_ids = [program.pk for program in programs]
    widest_ending = max((t.ending_soon_days for t in thresholds.values()), default=0)
    for pk, kind, program_id, planned_end_on in Connection.objects.filter(
        program_id__in=program_ids,
        status=ConnectionStatus.ACTIVE,
        planned_end_on__gte=today,
        planned_end_on__lte=today + timedelta(days=widest_ending),
    ).values_list("pk", "kind", "program_id", "planned_end_on"):
        planned_end_on = cast(date, planned_end_on)  # the filter above excludes None
        if planned_end_on <= today + timedelta(days=thresholds[program_id].ending_soon_days):
            found.kinds[pk] = kind
            found.ending.append((pk, planned_end_on))
    shortest_wait = min((t.waiting_after_days for t in thresholds.values()), default=0)
    for pk, kind, source, program_id, created_by_id, created_at in Connection.objects.filter(
        program_id__in=program_ids,
        status=ConnectionStatus.PROPOSED,
        # Requests people made of one another; match-run proposals wait for a manager instead.
        source__in=(ConnectionSource.SELF_MATCH, ConnectionSource.HELP_NETWORK),
        created_at__lte=now - timedelta(days=shortest_wait),
    ).values_list("pk", "kind", "source", "program_id", "created_by_id", "created_at"):
        if created_at <= now - timedelta(days=thresholds[program_id].waiting_after_days):
            found.kinds[pk] = kind
            found.proposals.append((pk, source, created_by_id))
    return found


def _members(found: _Found) -> dict[int, list[Member]]:
    """Current members of the connections found, with their accounts (and each connection's
    kind filled in where a finder did not give it); one query per 900 connections."""
    ids = sorted(found.kinds)
    members: dict[int, list[Member]] = defaultdict(list)
    for start in range(0, len(ids), CHUNK_SIZE):
        for connection_id, kind, participant_id, user_id, is_active, full_name in (
            ConnectionMember.objects.filter(
                connection_id__in=ids[start : start + CHUNK_SIZE], is_current=True
            )
            .order_by("connection_id", "id")
            .values_list(
                "connection_id",
                "connection__kind",
                "participant_id",
                "participant__person__user_id",
                "participant__person__user__is_active",
                "participant__person__full_name",
            )
        ):
            found.kinds[connection_id] = kind
            members[connection_id].append(
                Member(participant_id, user_id if is_active else None, full_name)
            )
    return members


def _names(people: Sequence[Member]) -> str:
    names = [person.full_name for person in people]
    if not names:
        return "your partner"
    if len(names) <= 2:
        return " and ".join(names)
    return f"{names[0]}, {names[1]} and {len(names) - 2} more"


def _place_url(connection_id: int, kind: str) -> str:
    if kind == ConnectionKind.CIRCLE:
        return reverse("circle_detail", args=[connection_id])
    return reverse("workspace", args=[connection_id])


def _for_each_member(
    members: Sequence[Member], *, skip_user_id: int | None = None
) -> Iterable[tuple[Recipient, list[Member]]]:
    """(recipient, the others) for every member with an active account."""
    for member in members:
        if member.user_id is None or member.user_id == skip_user_id:
            continue
        yield (
            Recipient(member.participant_id, member.user_id, member.full_name),
            [other for other in members if other.participant_id != member.participant_id],
        )


def _with_whom(kind: str, others: Sequence[Member]) -> str:
    return "your circle" if kind == ConnectionKind.CIRCLE else _names(others)


def nudges_collect(*, now: datetime | None = None) -> list[NotificationSpec]:
    """Every reminder due now, addressed to the person who can act on it:

    - stalled connections (no meeting for the program's `stalled_after_days`): each member,
      once a week while it stays so;
    - meeting times proposed and not answered, and proposals people made of one another
      (self-match requests, help-network offers to keep meeting): those who must answer;
    - plans with items past their due date: each member, once a week;
    - planned ends within the program's `ending_soon_days`: each member, once per end date;
    - check-ins due: the member whose check-in it is, once per due date;
    - help-network asks with offers waiting for the asker's choice: the asker, once a week.
    """
    now = now or timezone.now()
    today = now.date()
    this_week = week_key(today)
    programs = list(Program.objects.filter(status__in=NUDGED_STATUSES).order_by("pk"))
    if not programs:
        return []
    found = _find(programs, now=now)
    members = _members(found)
    notes: list[NotificationSpec] = []
    notes.extend(_stalled_nudges(found, members, this_week))
    notes.extend(_plan_behind_nudges(found, members, this_week))
    notes.extend(_ending_nudges(found, members))
    notes.extend(_meeting_waiting_nudges(found, members))
    notes.extend(_proposal_waiting_nudges(found, members, this_week))
    notes.extend(_check_in_nudges(found, members))
    notes.extend(_match_request_nudges(programs, now=now, this_week=this_week))
    notes.extend(_help_network_nudges(programs, now=now, this_week=this_week))
    return notes


def _stalled_nudges(
    found: _Found, members: dict[int, list[Member]], this_week: str
) -> list[NotificationSpec]:
    """Each member of a connection that stalled, once a week while it stays so."""
    notes: list[NotificationSpec] = []
    for pk, started_at, last_met_at in found.stalled:
        kind = found.kinds[pk]
        since = (
            f"You have not met since {last_met_at:%d %b %Y}."
            if last_met_at
            else f"You have not met yet since you were connected on {started_at:%d %b %Y}."
        )
        for member, others in _for_each_member(members[pk]):
            notes.append(
                NotificationSpec(
                    recipient_id=member.user_id,
                    kind=NotificationKind.STALLED_CONNECTION,
                    title=f"Time to meet {_with_whom(kind, others)} again",
                    body=since + " Propose a few times that suit you: it takes a minute.",
                    url=_place_url(pk, kind),
                    dedupe_key=f"stalled:{pk}:{this_week}",
                )
            )
    return notes


def _plan_behind_nudges(
    found: _Found, members: dict[int, list[Member]], this_week: str
) -> list[NotificationSpec]:
    """Each member of a connection whose plan has items past due, once a week."""
    notes: list[NotificationSpec] = []
    for pk, overdue in found.behind:
        kind = found.kinds[pk]
        items = "1 plan item is" if overdue == 1 else f"{overdue} plan items are"
        for member, others in _for_each_member(members[pk]):
            notes.append(
                NotificationSpec(
                    recipient_id=member.user_id,
                    kind=NotificationKind.PLAN_BEHIND,
                    title=f"Your plan with {_with_whom(kind, others)} is falling behind",
                    body=f"{items} past the due date. Tick off what is done or move the dates.",
                    url=_place_url(pk, kind),
                    dedupe_key=f"plan:{pk}:{this_week}",
                )
            )
    return notes


def _ending_nudges(found: _Found, members: dict[int, list[Member]]) -> list[NotificationSpec]:
    """Each member of a connection ending soon, once per planned end."""
    notes: list[NotificationSpec] = []
    for pk, planned_end_on in found.ending:
        kind = found.kinds[pk]
        for member, others in _for_each_member(members[pk]):
            notes.append(
                NotificationSpec(
                    recipient_id=member.user_id,
                    kind=NotificationKind.ENDING_SOON,
                    title=(
                        f"Your connection with {_with_whom(kind, others)} ends on "
                        f"{planned_end_on:%d %b %Y}"
                    ),
                    body="Plan a closing conversation; afterwards, share what you learned.",
                    url=reverse("connection_detail", args=[pk]),
                    dedupe_key=f"ending:{pk}:{planned_end_on.isoformat()}",
                )
            )
    return notes


def _meeting_waiting_nudges(
    found: _Found, members: dict[int, list[Member]]
) -> list[NotificationSpec]:
    """Those who must answer a meeting's proposed times, once per meeting."""
    notes: list[NotificationSpec] = []
    for meeting_pk, connection_id, proposer_id, proposer_name in found.meetings:
        for member, _others in _for_each_member(members[connection_id], skip_user_id=proposer_id):
            notes.append(
                NotificationSpec(
                    recipient_id=member.user_id,
                    kind=NotificationKind.REQUEST_WAITING,
                    title=f"{proposer_name or 'Your partner'} is waiting for you to pick a time",
                    body="Accept one of the proposed times, or decline so they can propose others.",
                    url=reverse("workspace", args=[connection_id]),
                    dedupe_key=f"meeting_waiting:{meeting_pk}",
                )
            )
    return notes


def _proposal_waiting_nudges(
    found: _Found, members: dict[int, list[Member]], this_week: str
) -> list[NotificationSpec]:
    """Those who must answer a proposal someone made of them, once a week."""
    notes: list[NotificationSpec] = []
    for pk, source, created_by_id in found.proposals:
        people = members[pk]
        asking = [m for m in people if m.user_id is not None and m.user_id == created_by_id]
        for member, _others in _for_each_member(people, skip_user_id=created_by_id):
            who = _names(asking) if asking else "Someone"
            notes.append(
                NotificationSpec(
                    recipient_id=member.user_id,
                    kind=NotificationKind.REQUEST_WAITING,
                    title=(
                        f"{who} would like to keep meeting you"
                        if source == ConnectionSource.HELP_NETWORK
                        else f"{who} would like to connect with you"
                    ),
                    body="Their request is waiting for your answer.",
                    url=reverse("connection_detail", args=[pk]),
                    dedupe_key=f"proposal_waiting:{pk}:{this_week}",
                )
            )
    return notes


def _check_in_nudges(found: _Found, members: dict[int, list[Member]]) -> list[NotificationSpec]:
    """The member whose check-in is due, once per due date."""
    notes: list[NotificationSpec] = []
    for connection_id, participant_id, due_on in found.check_ins:
        kind = found.kinds[connection_id]
        people = members[connection_id]
        for member, others in _for_each_member(people):
            if member.participant_id != participant_id:
                continue
            notes.append(
                NotificationSpec(
                    recipient_id=member.user_id,
                    kind=NotificationKind.CHECK_IN_DUE,
                    title=f"How is it going with {_with_whom(kind, others)}?",
                    body="Your check-in is due: a rating from 1 to 5 and, if you like, a comment.",
                    url=reverse("check_in", args=[connection_id]),
                    dedupe_key=f"check_in:{connection_id}:{participant_id}:{due_on.isoformat()}",
                )
            )
    return notes


def _match_request_nudges(
    programs: Sequence[Program], *, now: datetime, this_week: str
) -> list[NotificationSpec]:
    """Self-match requests still waiting for their recipient's answer, once a week each."""
    thresholds = _thresholds(programs)
    shortest = min(t.waiting_after_days for t in thresholds.values())
    notes = []
    for pk, program_id, user_id, requester_name, created_at in (
        MatchRequest.objects.filter(
            program_id__in=list(thresholds),
            status=RequestStatus.PENDING,
            expires_at__gt=now,
            created_at__lte=now - timedelta(days=shortest),
            recipient__person__user__is_active=True,
        )
        .order_by("pk")
        .values_list(
            "pk",
            "program_id",
            "recipient__person__user_id",
            "requester__person__full_name",
            "created_at",
        )
    ):
        if created_at > now - timedelta(days=thresholds[program_id].waiting_after_days):
            continue
        notes.append(
            NotificationSpec(
                recipient_id=user_id,
                kind=NotificationKind.REQUEST_WAITING,
                title=f"{requester_name} is waiting for your answer",
                body="They asked to connect with you. Accept or decline: either is fine.",
                url=reverse("match_request_detail", args=[pk]),
                dedupe_key=f"match_request_waiting:{pk}:{this_week}",
            )
        )
    return notes


def _help_network_nudges(
    programs: Sequence[Program], *, now: datetime, this_week: str
) -> list[NotificationSpec]:
    notes = []
    for ask in asks_with_waiting_offers(programs=programs, now=now):
        offers = "1 person offered" if ask.offer_count == 1 else f"{ask.offer_count} people offered"
        notes.append(
            NotificationSpec(
                recipient_id=ask.asker_user_id,
                kind=NotificationKind.REQUEST_WAITING,
                title=f"{offers} to help with {ask.skill_name}",
                body="Choose whose offer to take up; the others will be told.",
                url=reverse("help_ask_detail", args=[ask.pk]),
                dedupe_key=f"help_offers_waiting:{ask.pk}:{this_week}",
            )
        )
    return notes


def nudges_run(*, now: datetime | None = None) -> NudgeResult:
    """Afterwards every reminder due now exists as a notification (once) and every digest due
    has been e-mailed (once); help-network asks past their expiry are closed first."""
    now = now or timezone.now()
    expired = help_asks_expire(now=now)
    notes = nudges_collect(now=now)
    created = notifications_create(notes=notes, now=now)
    sent = digests_send(now=now)
    return NudgeResult(notifications_created=created, digests_sent=sent, asks_expired=expired)
