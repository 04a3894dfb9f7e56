"""Engagement for the demo organisation: a living program for a newcomer to look at.

`populate` is called by the demo loader (peermentor.demo) with active connections. It writes
rows directly rather than through the services: the demo must not e-mail invitations, and its
meetings lie in the past, which the services rightly refuse. Everything it writes satisfies the
same database constraints. Deterministic for a given `rng` and `now`; connections that already
have meetings (or circle sessions) are left alone, so a second call adds nothing.
"""

import random
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

from django.db import transaction
from django.db.models import F

from peermentor.connections.models import Connection, ConnectionKind, ConnectionStatus
from peermentor.core.timezones import day_of, local_to_utc, zone_name_for
from peermentor.engagement.health import check_in_period
from peermentor.engagement.models import (
    CheckIn,
    Circle,
    CirclePost,
    CircleResource,
    CircleSession,
    Meeting,
    MeetingOption,
    MeetingStatus,
    Note,
    NoteVisibility,
    Plan,
    PlanItem,
    SessionRsvp,
)
from peermentor.engagement.services.check_ins import check_in_rhythm
from peermentor.engagement.services.meetings import MEETING_TITLES
from peermentor.engagement.services.plans import plans_instantiate_many
from peermentor.enrollment.models import ParticipantRole
from peermentor.programs.models import Program

AGENDAS = [
    "Where each of us is stuck this month, and one thing to try.",
    "Walk through a real piece of work together.",
    "Review the goals we set and adjust them.",
    "Swap the best resource each of us found lately.",
    "",
]
SHARED_NOTES = [
    "Goals we agreed: (1) get comfortable with SQL window functions, (2) present at the team "
    "demo in March.",
    "Useful link from today: the internal data catalogue has example queries for every table.",
    "Next time: bring one real report each and compare how we structured it.",
    "We meet every other Tuesday; whoever is travelling proposes a new time.",
    "Takeaway: ask the question in the channel before spending an hour alone on it.",
]
PRIVATE_NOTES = [
    "I talk too much in our meetings: ask more questions next time.",
    "Follow up on the stakeholder-mapping idea before our next chat.",
    "Feeling more confident presenting after the rehearsal.",
]
PULSE_COMMENTS = ["", "", "Really useful so far.", "Hard to find time this month.", ""]
RATINGS = [5, 4, 4, 4, 3, 3, 5, 2]
POSTS = [
    "Welcome everyone! Looking forward to learning from each other.",
    "For next time: what is one decision you made this month that you would make differently?",
    "Thanks for today, the deep dive on prioritisation was great.",
]
RESOURCES = [
    ("Crucial Conversations, a summary", "https://example.com/crucial-conversations"),
    ("How to run a good retrospective", "https://example.com/retrospectives"),
    ("Internal learning portal", "https://example.com/learning"),
]


def _uid(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def _at_local_hour(day: datetime, hour: int, zone_name: str) -> datetime:
    """`hour` o'clock (half past, for every third hour) on `day` in the zone, as UTC. Working
    hours only, so never inside a skipped daylight-saving hour."""
    wall = datetime(day.year, day.month, day.day, hour, 30 if hour % 3 == 0 else 0)
    return local_to_utc(wall, zone_name)


def _people(connection: Connection) -> list[Any]:
    return [m for m in connection.members.all() if m.is_current]


def _meetings_for(
    connection: Connection, members: list[Any], rng: random.Random, now: datetime
) -> tuple[list[Meeting], list[tuple[Meeting, list[datetime]]]]:
    """Held/missed meetings since the start, maybe one scheduled and maybe one proposal."""
    started_at = connection.started_at or now
    organiser = members[0].participant.person
    zone_name = zone_name_for(person=organiser)
    title = MEETING_TITLES.get(connection.kind, "Meeting")
    rows: list[Meeting] = []
    proposals: list[tuple[Meeting, list[datetime]]] = []
    age_days = (now - started_at).days
    when = started_at + timedelta(days=rng.randint(4, 10))
    while when < now - timedelta(days=1) and len(rows) < 6:
        starts_at = _at_local_hour(when, rng.randint(9, 16), zone_name)
        status = MeetingStatus.HELD if rng.random() < 0.85 else MeetingStatus.MISSED
        rows.append(
            Meeting(
                connection=connection,
                uid=_uid(rng),
                proposed_by=rng.choice(members).participant.person.user,
                title=title,
                agenda=rng.choice(AGENDAS),
                location=rng.choice(["Video call", "Coffee corner, 2nd floor", ""]),
                duration_minutes=rng.choice([30, 45, 60]),
                time_zone=zone_name,
                status=status,
                starts_at=starts_at,
                scheduled_at=starts_at - timedelta(days=3),
                outcome_logged_by=rng.choice(members).participant.person.user,
                outcome_logged_at=starts_at + timedelta(hours=2),
            )
        )
        when += timedelta(days=rng.randint(12, 24))
    if age_days >= 0 and rng.random() < 0.7:
        day = now + timedelta(days=rng.randint(2, 14))
        starts_at = _at_local_hour(day, rng.randint(9, 16), zone_name)
        rows.append(
            Meeting(
                connection=connection,
                uid=_uid(rng),
                proposed_by=organiser.user,
                title=title,
                agenda=rng.choice(AGENDAS),
                location="Video call",
                duration_minutes=45,
                time_zone=zone_name,
                status=MeetingStatus.SCHEDULED,
                starts_at=starts_at,
                scheduled_at=now - timedelta(days=1),
            )
        )
    elif rng.random() < 0.5:
        meeting = Meeting(
            connection=connection,
            uid=_uid(rng),
            proposed_by=organiser.user,
            title=title,
            agenda=rng.choice(AGENDAS),
            duration_minutes=30,
            time_zone=zone_name,
        )
        options = [
            _at_local_hour(now + timedelta(days=offset), hour, zone_name)
            for offset, hour in ((3, 10), (4, 14), (6, 11))
        ]
        proposals.append((meeting, options))
    return rows, proposals


def _complete_due_items(
    plan_items: Sequence[PlanItem], members: list[Any], rng: random.Random, now: datetime
) -> list[PlanItem]:
    done = []
    for item in plan_items:
        if item.due_on and item.due_on < day_of(now) and rng.random() < 0.8:
            item.is_done = True
            item.done_at = datetime.combine(item.due_on, datetime.min.time(), tzinfo=now.tzinfo)
            item.done_by = rng.choice(members).participant.person.user
            if item.kind == "assignment":
                item.reflection = (
                    "I summarised the meeting and saw how priorities are argued over. "
                    "Hardest part: knowing what to leave out."
                )
                item.reflected_at = item.done_at
                if rng.random() < 0.7:
                    item.feedback = "Clear and short. Next time, add the decisions at the top."
                    item.feedback_at = item.done_at + timedelta(days=1)
            done.append(item)
    return done


def _circle_rows(
    connection: Connection, members: list[Any], rng: random.Random, now: datetime
) -> dict[str, list[Any]]:
    seated = sum(1 for m in members if m.role == ParticipantRole.MEMBER)
    circle = Circle(
        connection=connection,
        is_open=rng.random() < 0.5 and seated < connection.program.group_size_max,
        capacity=max(connection.program.group_size_max, seated, 2),
        member_count=seated,
    )
    organiser = next((m for m in members if m.role == ParticipantRole.FACILITATOR), members[0])
    zone_name = zone_name_for(person=organiser.participant.person)
    sessions = []
    for offset, title in ((-14, "Introductions"), (7, "Deep dive"), (21, "Commitments review")):
        starts_at = _at_local_hour(now + timedelta(days=offset), 17, zone_name)
        sessions.append(
            CircleSession(
                connection=connection,
                uid=_uid(rng),
                title=title,
                agenda="Check-in round, one deep dive, commitments.",
                starts_at=starts_at,
                duration_minutes=60,
                time_zone=zone_name,
                location="Meeting room Ada" if rng.random() < 0.5 else "",
                video_url="https://video.example.com/circle",
                capacity=None,
                created_by=organiser.participant.person.user,
            )
        )
    posts = [
        CirclePost(connection=connection, author=rng.choice(members).participant, body=body)
        for body in POSTS[: rng.randint(1, len(POSTS))]
    ]
    resources = [
        CircleResource(
            connection=connection, title=title, url=url, added_by=rng.choice(members).participant
        )
        for title, url in rng.sample(RESOURCES, 2)
    ]
    return {"circle": [circle], "sessions": sessions, "posts": posts, "resources": resources}


@transaction.atomic
def _move_plans_with_start(connections: Sequence[Connection]) -> None:
    """Plans are copied when a connection starts, with due dates counted from that day; the
    demo then moves the start into the past, so move each plan's due dates back as far (the
    days between the plan's creation and the start). One UPDATE per distinct shift."""
    plans = Plan.objects.filter(connection__in=connections).values_list(
        "pk", "created_at", "connection__started_at"
    )
    by_shift: dict[int, list[int]] = {}
    for pk, created_at, started_at in plans:
        # Plans are copied when a connection starts, so it has a start.
        shift = (day_of(created_at) - day_of(cast(datetime, started_at))).days
        if shift > 0:
            by_shift.setdefault(shift, []).append(pk)
    for shift, plan_ids in by_shift.items():
        PlanItem.objects.filter(plan_id__in=plan_ids, due_on__isnull=False).update(
            due_on=F("due_on") - timedelta(days=shift)
        )


def past_meetings(connections: Sequence[Connection], rng: random.Random, until: datetime) -> int:
    """Held and missed meetings between each connection's start and `until` (the end of a
    closed program): what its members logged while it ran. Returns how many were made."""
    rows: list[Meeting] = []
    chosen = (
        Connection.objects.filter(pk__in=[c.pk for c in connections])
        .exclude(kind=ConnectionKind.CIRCLE)
        .prefetch_related("members__participant__person__user")
        .order_by("pk")
    )
    for connection in chosen:
        members = list(connection.members.all())
        if members:
            made, _ = _meetings_for(connection, members, rng, until)
            rows.extend(m for m in made if m.status in (MeetingStatus.HELD, MeetingStatus.MISSED))
    Meeting.objects.bulk_create(rows)
    return len(rows)


def populate(
    program: Program, connections: Sequence[Connection], rng: random.Random, now: datetime
) -> dict[str, int]:
    """Afterwards each given active connection of `program` (that had no meetings yet) has past
    held meetings and an upcoming one or a proposal, its plan with the items due so far mostly
    done, shared and private notes and check-ins; circles also get sessions (one past, two
    upcoming) with RSVPs, a few posts and links. Returns how many rows of each were made."""
    chosen = _without_meetings(program, connections)
    counts = dict.fromkeys(
        ["meetings", "plans", "plan_items_done", "notes", "check_ins", "sessions", "posts"], 0
    )
    if not chosen:
        return counts
    counts["plans"] = plans_instantiate_many(connection_ids=[c.pk for c in chosen])
    _move_plans_with_start(chosen)
    rows = _Rows()
    _fill(program, chosen, rows, rng, now)
    sessions = _save(rows)
    _rsvp(chosen, sessions, rng)
    counts.update(
        meetings=len(rows.meetings) + len(rows.proposals),
        plan_items_done=len(rows.done_items),
        notes=len(rows.notes),
        check_ins=len(rows.check_ins),
        sessions=len(sessions),
        posts=len(rows.circle_parts["posts"]),
    )
    return counts


def _without_meetings(program: Program, connections: Sequence[Connection]) -> list[Connection]:
    """The given active, started connections of `program` that have no meetings or sessions
    yet, with their members."""
    ids = [c.pk for c in connections]
    busy = set(
        Meeting.objects.filter(connection_id__in=ids).values_list("connection_id", flat=True)
    )
    busy |= set(
        CircleSession.objects.filter(connection_id__in=ids).values_list("connection_id", flat=True)
    )
    return list(
        Connection.objects.filter(
            pk__in=[pk for pk in ids if pk not in busy],
            program=program,
            status=ConnectionStatus.ACTIVE,
            started_at__isnull=False,
        )
        .select_related("program")
        .prefetch_related("members__participant__person__user")
        .order_by("pk")
    )


@dataclass
class _Rows:
    """The unsaved rows `populate` makes, saved together by `_save`."""

    meetings: list[Meeting] = field(default_factory=list)
    proposals: list[tuple[Meeting, list[datetime]]] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    check_ins: list[CheckIn] = field(default_factory=list)
    done_items: list[PlanItem] = field(default_factory=list)
    circle_parts: dict[str, list[Any]] = field(
        default_factory=lambda: {"circle": [], "sessions": [], "posts": [], "resources": []}
    )


def _fill(
    program: Program,
    chosen: list[Connection],
    rows: _Rows,
    rng: random.Random,
    now: datetime,
) -> None:
    """Each connection's meetings (or circle rows), done plan items, notes and check-ins."""
    items_by_connection: dict[int, list[PlanItem]] = {}
    for item in PlanItem.objects.filter(plan__connection__in=chosen).select_related("plan"):
        items_by_connection.setdefault(item.plan.connection_id, []).append(item)
    first, every = check_in_rhythm(program)
    for connection in chosen:
        members = _people(connection)
        if not members:
            continue
        if connection.kind == ConnectionKind.CIRCLE:
            for key, made in _circle_rows(connection, members, rng, now).items():
                rows.circle_parts[key].extend(made)
        else:
            made, asked = _meetings_for(connection, members, rng, now)
            rows.meetings.extend(made)
            rows.proposals.extend(asked)
        rows.done_items.extend(
            _complete_due_items(items_by_connection.get(connection.pk, []), members, rng, now)
        )
        rows.notes.extend(_notes(connection, members, rng))
        rows.check_ins.extend(_check_ins(connection, members, rng, now, first=first, every=every))


def _notes(connection: Connection, members: list[Any], rng: random.Random) -> list[Note]:
    """One or two shared notes, and a private one half the time."""
    notes = [
        Note(
            connection=connection,
            author=rng.choice(members).participant,
            visibility=NoteVisibility.SHARED,
            body=body,
        )
        for body in rng.sample(SHARED_NOTES, rng.randint(1, 2))
    ]
    if rng.random() < 0.5:
        notes.append(
            Note(
                connection=connection,
                author=rng.choice(members).participant,
                visibility=NoteVisibility.PRIVATE,
                body=rng.choice(PRIVATE_NOTES),
            )
        )
    return notes


def _check_ins(
    connection: Connection,
    members: list[Any],
    rng: random.Random,
    now: datetime,
    *,
    first: int,
    every: int,
) -> list[CheckIn]:
    """Three in four members' check-ins for each period due so far."""
    check_ins = []
    started_on = day_of(connection.started_at or now)
    current, _ = check_in_period(started_on, day_of(now), first=first, every=every)
    for period in range(1, current + 1):
        due_on = started_on + timedelta(days=first + every * (period - 1))
        for member in members:
            if rng.random() < 0.75:
                check_ins.append(
                    CheckIn(
                        connection=connection,
                        participant=member.participant,
                        period=period,
                        due_on=due_on,
                        rating=rng.choice(RATINGS),
                        comment=rng.choice(PULSE_COMMENTS),
                    )
                )
    return check_ins


def _save(rows: _Rows) -> list[CircleSession]:
    """Insert every row made; the circle sessions come back with their ids."""
    Meeting.objects.bulk_create(rows.meetings)
    for meeting, _ in rows.proposals:
        meeting.save()
    MeetingOption.objects.bulk_create(
        [MeetingOption(meeting=m, starts_at=at) for m, options in rows.proposals for at in options]
    )
    PlanItem.objects.bulk_update(
        rows.done_items,
        ["is_done", "done_at", "done_by", "reflection", "reflected_at", "feedback", "feedback_at"],
    )
    Note.objects.bulk_create(rows.notes)
    CheckIn.objects.bulk_create(rows.check_ins)
    Circle.objects.bulk_create(rows.circle_parts["circle"], ignore_conflicts=True)
    sessions = CircleSession.objects.bulk_create(rows.circle_parts["sessions"])
    CirclePost.objects.bulk_create(rows.circle_parts["posts"])
    CircleResource.objects.bulk_create(rows.circle_parts["resources"])
    return sessions


def _rsvp(chosen: list[Connection], sessions: list[CircleSession], rng: random.Random) -> None:
    """Seven in ten circle members say they come to each session."""
    rsvps = []
    members_of = {c.pk: _people(c) for c in chosen}
    for session in sessions:
        for member in members_of[session.connection_id]:
            if rng.random() < 0.7:
                rsvps.append(
                    SessionRsvp(session=session, participant=member.participant, is_attending=True)
                )
                session.attending_count += 1
    SessionRsvp.objects.bulk_create(rsvps)
    CircleSession.objects.bulk_update(sessions, ["attending_count"])
