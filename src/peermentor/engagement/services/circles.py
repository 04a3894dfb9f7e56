"""Circles: opening a circle, joining and leaving it, sessions with RSVPs, the discussion thread
and shared links.

Joining takes the connection's row lock and then the Circle row's; the seat count is recomputed
under them and the database refuses a count above the capacity, so the last seat goes to one
person only. The one-current-connection rule for circle members is CONNECTIONS' constraint.
"""

from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from peermentor.accounts.models import User
from peermentor.connections.models import (
    Block,
    Connection,
    ConnectionKind,
    ConnectionMember,
    ConnectionStatus,
)
from peermentor.core.errors import ApplicationError, full_clean
from peermentor.core.services import audit_record
from peermentor.core.timezones import is_known_zone, local_to_utc, zone_name_for
from peermentor.engagement.models import (
    MEETING_MINUTES_MAX,
    MEETING_MINUTES_MIN,
    POST_MAX_LENGTH,
    Circle,
    CirclePost,
    CircleResource,
    CircleSession,
    SessionRsvp,
)
from peermentor.engagement.permissions import (
    can_cancel_session,
    can_remove_resource,
    can_set_circle_open,
    member_for,
)
from peermentor.engagement.services._common import (
    clean_int,
    clean_text,
    lock_connection,
    require_writer,
)
from peermentor.enrollment.models import Participant, ParticipantRole, ParticipantStatus

MAX_DAYS_AHEAD = 366


def _require_circle(connection: Connection) -> None:
    if connection.kind != ConnectionKind.CIRCLE:
        raise ApplicationError("This is not a circle.")


def _require_active(connection: Connection) -> None:
    if connection.status != ConnectionStatus.ACTIVE:
        raise ApplicationError(
            f"This circle is {connection.get_status_display().lower()}: it cannot change."
        )


def _seated(connection: Connection) -> int:
    return sum(
        1 for m in connection.members.all() if m.is_current and m.role == ParticipantRole.MEMBER
    )


def _lock_circle(connection: Connection) -> Circle:
    """The circle's settings row, made on first use and locked. The connection must already be
    locked (so two first uses cannot both create it)."""
    seated = _seated(connection)
    circle, _ = Circle.objects.select_for_update().get_or_create(
        connection=connection,
        defaults={
            "capacity": max(connection.program.group_size_max, seated, 2),
            "member_count": seated,
        },
    )
    return circle


def _audit(actor: User | None, action: str, connection: Connection, **data: Any) -> None:
    audit_record(
        actor=actor,
        action=action,
        target=connection,
        program_id=connection.program_id,
        data=data,
    )


@transaction.atomic
def circle_set_open(*, actor: User, connection: Connection, is_open: bool) -> Circle:
    """Afterwards eligible participants of the program may join the circle while it has room
    (is_open) or may not. For the program's managers and the circle's facilitator."""
    connection = lock_connection(connection)
    _require_circle(connection)
    member = member_for(actor, connection)
    if not can_set_circle_open(actor, connection, member):
        raise PermissionDenied("Only the program's managers or the facilitator open a circle.")
    _require_active(connection)
    if not isinstance(is_open, bool):
        raise ApplicationError("Say whether the circle is open.", field="is_open")
    circle = _lock_circle(connection)
    if circle.is_open != is_open:
        circle.is_open = is_open
        circle.save(update_fields=["is_open", "updated_at"])
        _audit(actor, "circle.opened" if is_open else "circle.closed_to_joiners", connection)
    return circle


def _joining_participant(actor: User, connection: Connection) -> Participant:
    person = getattr(actor, "person", None) if getattr(actor, "is_authenticated", False) else None
    participant = (
        Participant.objects.select_for_update()
        .filter(program_id=connection.program_id, person=person)
        .first()
        if person is not None
        else None
    )
    if participant is None:
        raise PermissionDenied("Only participants of this program can join its circles.")
    if participant.status != ParticipantStatus.ENROLLED or not participant.is_ready:
        raise ApplicationError(
            "Finish your profile and training in this program before joining a circle."
        )
    if participant.role != ParticipantRole.MEMBER:
        raise ApplicationError("You take part in this program as a facilitator, not a member.")
    return participant


@transaction.atomic
def circle_join(*, actor: User, connection: Connection) -> ConnectionMember:
    """Afterwards the actor is a current member of the open, active circle, taking one seat.

    Refused when the circle is closed to joiners or full (group size maximum), when the actor
    is not a ready participant of the program with the member role, already has a current
    connection, or when they and a member blocked one another."""
    connection = lock_connection(connection)
    _require_circle(connection)
    _require_active(connection)
    participant = _joining_participant(actor, connection)
    circle = _lock_circle(connection)
    if not circle.is_open:
        raise ApplicationError("This circle is not open to new members.")
    existing = next(
        (m for m in connection.members.all() if m.participant_id == participant.pk), None
    )
    if existing is not None and existing.is_current:
        raise ApplicationError("You are already in this circle.")
    if ConnectionMember.objects.filter(
        participant=participant, is_current=True, uses_capacity=False
    ).exists():
        raise ApplicationError(
            "You already have a current connection in this program: one at a time."
        )
    others = [m.participant.person_id for m in connection.members.all() if m.is_current]
    if Block.objects.filter(
        Q(blocker_id=participant.person_id, blocked_id__in=others)
        | Q(blocked_id=participant.person_id, blocker_id__in=others)
    ).exists():
        # Neither who nor in which direction: the joiner may be the one who was blocked.
        raise ApplicationError("You cannot join this circle.")
    seated = _seated(connection)
    if seated >= circle.capacity:
        raise ApplicationError("This circle is full.")
    try:
        with transaction.atomic():
            if existing is not None:
                existing.is_current = True
                existing.save(update_fields=["is_current"])
                member = existing
            else:
                member = ConnectionMember.objects.create(
                    connection=connection,
                    participant=participant,
                    role=ParticipantRole.MEMBER,
                    is_current=True,
                    uses_capacity=False,
                    slot=1,
                )
            circle.member_count = seated + 1
            circle.save(update_fields=["member_count", "updated_at"])
    except IntegrityError:
        raise ApplicationError(
            "Someone took the last seat, or you were just placed elsewhere. Reload and try again."
        ) from None
    _audit(actor, "circle.joined", connection, participant_id=participant.pk)
    return member


@transaction.atomic
def circle_leave(*, actor: User, connection: Connection) -> None:
    """Afterwards the actor is no longer a current member of the circle (their seat is free and
    their "yes" to upcoming sessions withdrawn); the circle goes on for the others."""
    connection = lock_connection(connection)
    _require_circle(connection)
    member = require_writer(actor, connection)
    circle = _lock_circle(connection)
    ConnectionMember.objects.filter(pk=member.pk).update(is_current=False)
    member.is_current = False
    circle.member_count = _seated(connection)
    circle.save(update_fields=["member_count", "updated_at"])
    _withdraw_upcoming_rsvps(connection, member.participant_id)
    _audit(actor, "circle.left", connection, participant_id=member.participant_id)


def circle_member_left(*, actor: User | None, connection_id: int, participant_id: int) -> None:
    """For someone who left a circle that goes on without them (connection_changes'
    participant_connections_end; the caller holds the connection's lock): as after
    circle_leave, their seat is free and their "yes" to upcoming sessions withdrawn."""
    connection = Connection.objects.get(pk=connection_id)
    if connection.kind != ConnectionKind.CIRCLE:
        return
    circle = Circle.objects.select_for_update().filter(connection=connection).first()
    if circle is not None:
        circle.member_count = ConnectionMember.objects.filter(
            connection=connection, is_current=True, role=ParticipantRole.MEMBER
        ).count()
        circle.save(update_fields=["member_count", "updated_at"])
    _withdraw_upcoming_rsvps(connection, participant_id)
    _audit(actor, "circle.left", connection, participant_id=participant_id)


def _withdraw_upcoming_rsvps(connection: Connection, participant_id: int) -> None:
    upcoming = SessionRsvp.objects.filter(
        participant_id=participant_id,
        session__connection=connection,
        session__starts_at__gt=timezone.now(),
        is_attending=True,
    ).select_related("session")
    for rsvp in upcoming.select_for_update(of=("self",)):
        session = CircleSession.objects.select_for_update().get(pk=rsvp.session_id)
        session.attending_count = max(session.attending_count - 1, 0)
        session.save(update_fields=["attending_count", "updated_at"])
        rsvp.is_attending = False
        rsvp.save(update_fields=["is_attending", "updated_at"])


# --- sessions ---------------------------------------------------------------------------------
def _clean_url(value: Any, *, field: str, required: bool) -> str:
    text = clean_text(value, field=field, label="The link", max_length=500, required=required)
    if text and (urlsplit(text).scheme not in ("http", "https") or not urlsplit(text).netloc):
        raise ApplicationError("Give a web address starting with https://", field=field)
    return text


@transaction.atomic
def circle_session_create(
    *,
    actor: User,
    connection: Connection,
    title: str,
    starts_at: datetime,
    time_zone: str | None = None,
    duration_minutes: int = 60,
    location: str = "",
    video_url: str = "",
    capacity: int | None = None,
    agenda: str = "",
    now: datetime | None = None,
) -> CircleSession:
    """Afterwards the circle has a session at `starts_at` (naive: wall-clock time in
    `time_zone`, by default the actor's), with a place or a video link and optional seats."""
    connection = lock_connection(connection)
    _require_circle(connection)
    require_writer(actor, connection)
    if time_zone and not is_known_zone(time_zone):
        raise ApplicationError(f"“{time_zone}” is not a known time zone.", field="time_zone")
    zone_name = time_zone or zone_name_for(user=actor, person=getattr(actor, "person", None))
    if not isinstance(starts_at, datetime):
        raise ApplicationError("Give a date and a time.", field="starts_at")
    instant = local_to_utc(starts_at, zone_name, field="starts_at")
    now = now or timezone.now()
    if instant <= now:
        raise ApplicationError("Choose a time in the future.", field="starts_at")
    if instant > now + timedelta(days=MAX_DAYS_AHEAD):
        raise ApplicationError("Choose a time within the next year.", field="starts_at")
    location = clean_text(
        location, field="location", label="The place", max_length=300, required=False
    )
    video_url = _clean_url(video_url, field="video_url", required=False)
    if not location and not video_url:
        raise ApplicationError("Give a place or a video link.", field="location")
    if capacity is not None:
        capacity = clean_int(capacity, field="capacity", label="The seats", low=1, high=500)
    session = CircleSession(
        connection=connection,
        title=clean_text(title, field="title", label="The title", max_length=200, required=True),
        agenda=clean_text(
            agenda, field="agenda", label="The agenda", max_length=2000, required=False
        ),
        starts_at=instant,
        duration_minutes=clean_int(
            duration_minutes,
            field="duration_minutes",
            label="The length",
            low=MEETING_MINUTES_MIN,
            high=MEETING_MINUTES_MAX,
        ),
        time_zone=zone_name,
        location=location,
        video_url=video_url,
        capacity=capacity,
        created_by=actor,
    )
    full_clean(session, exclude=["connection", "created_by"])
    session.save()
    audit_record(
        actor=actor,
        action="circle_session.created",
        target=session,
        program_id=connection.program_id,
        data={"connection_id": connection.pk, "starts_at": instant.isoformat()},
    )
    return session


def _lock_session(session: CircleSession) -> CircleSession:
    connection_id = (
        CircleSession.objects.filter(pk=session.pk).values_list("connection_id", flat=True).first()
    )
    if connection_id is None:
        raise ApplicationError("This session no longer exists.")
    # The circle's connection first, then the session: the order circle_leave and ending the
    # connection (which cancels its sessions) take, so they never deadlock.
    connection = lock_connection(connection_id)
    locked = CircleSession.objects.select_for_update(of=("self",)).get(pk=session.pk)
    locked.connection = connection
    return locked


@transaction.atomic
def circle_session_cancel(*, actor: User, session: CircleSession) -> CircleSession:
    """Afterwards the session is cancelled (its calendar entry's SEQUENCE one higher)."""
    session = _lock_session(session)
    member = require_writer(actor, session.connection)
    if not can_cancel_session(actor, member, session):
        raise PermissionDenied("The member who planned it or the facilitator cancels a session.")
    if session.is_cancelled:
        raise ApplicationError("This session is already cancelled.")
    session.is_cancelled = True
    session.sequence += 1
    session.save(update_fields=["is_cancelled", "sequence", "updated_at"])
    audit_record(
        actor=actor,
        action="circle_session.cancelled",
        target=session,
        program_id=session.connection.program_id,
        data={"connection_id": session.connection_id},
    )
    return session


@transaction.atomic
def session_rsvp(
    *, actor: User, session: CircleSession, is_attending: bool, now: datetime | None = None
) -> SessionRsvp:
    """Afterwards the member's answer to the upcoming session is recorded; a "yes" takes one of
    its seats (refused when none is left: the database holds the count to the capacity)."""
    session = _lock_session(session)
    member = require_writer(actor, session.connection)
    if not isinstance(is_attending, bool):
        raise ApplicationError("Answer yes or no.", field="is_attending")
    if session.is_cancelled:
        raise ApplicationError("This session is cancelled.")
    if session.starts_at <= (now or timezone.now()):
        raise ApplicationError("This session has already started.")
    rsvp = (
        SessionRsvp.objects.select_for_update()
        .filter(session=session, participant_id=member.participant_id)
        .first()
    )
    was_attending = bool(rsvp and rsvp.is_attending)
    change = int(is_attending) - int(was_attending)
    if change > 0 and session.seats_left == 0:
        raise ApplicationError("This session is full.")
    if rsvp is None:
        rsvp = SessionRsvp(session=session, participant_id=member.participant_id)
    rsvp.is_attending = is_attending
    try:
        with transaction.atomic():
            rsvp.save()
            if change:
                session.attending_count += change
                session.save(update_fields=["attending_count", "updated_at"])
    except IntegrityError:
        raise ApplicationError("This session just filled up.") from None
    audit_record(
        actor=actor,
        action="circle_session.rsvp",
        target=session,
        program_id=session.connection.program_id,
        data={"participant_id": member.participant_id, "is_attending": is_attending},
    )
    return rsvp


# --- discussion and resources -----------------------------------------------------------------
@transaction.atomic
def circle_post_create(*, actor: User, connection: Connection, body: str) -> CirclePost:
    """Afterwards the message is in the circle's thread, read by its members only."""
    connection = lock_connection(connection)
    _require_circle(connection)
    member = require_writer(actor, connection)
    post = CirclePost(
        connection=connection,
        author_id=member.participant_id,
        body=clean_text(
            body, field="body", label="The message", max_length=POST_MAX_LENGTH, required=True
        ),
    )
    full_clean(post, exclude=["connection", "author"])
    post.save()
    # Like notes: no text and no program id in the trail that managers read.
    audit_record(
        actor=actor,
        action="circle_post.created",
        target=post,
        data={"connection_id": connection.pk},
    )
    return post


@transaction.atomic
def circle_resource_add(
    *, actor: User, connection: Connection, title: str, url: str
) -> CircleResource:
    """Afterwards the circle's shared links include this one."""
    connection = lock_connection(connection)
    _require_circle(connection)
    member = require_writer(actor, connection)
    resource = CircleResource(
        connection=connection,
        title=clean_text(title, field="title", label="The title", max_length=200, required=True),
        url=_clean_url(url, field="url", required=True),
        added_by_id=member.participant_id,
    )
    full_clean(resource, exclude=["connection", "added_by"])
    resource.save()
    audit_record(
        actor=actor,
        action="circle_resource.added",
        target=resource,
        program_id=connection.program_id,
        data={"connection_id": connection.pk},
    )
    return resource


@transaction.atomic
def circle_resource_remove(*, actor: User, resource: CircleResource) -> None:
    """Afterwards the link is no longer shared. For whoever shared it, or the facilitator."""
    try:
        resource = CircleResource.objects.select_for_update().get(pk=resource.pk)
    except CircleResource.DoesNotExist:
        raise ApplicationError("This link was already removed.") from None
    connection = lock_connection(resource.connection_id)
    member = require_writer(actor, connection)
    if not can_remove_resource(member, resource):
        raise PermissionDenied("The member who shared it or the facilitator removes a link.")
    audit_record(
        actor=actor,
        action="circle_resource.removed",
        target=resource,
        program_id=connection.program_id,
        data={"connection_id": connection.pk},
    )
    resource.delete()
