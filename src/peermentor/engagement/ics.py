"""Calendar files (RFC 5545 / iTIP RFC 5546) made with the `icalendar` library.

An invitation carries one VEVENT whose UID never changes for a meeting, whose SEQUENCE grows
with every reschedule or cancellation, and whose DTSTART/DTEND are written in the organiser's
zone (TZID plus a VTIMEZONE covering the dates), so that calendar programs place it right on
both sides of a daylight-saving change.
"""

from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from email.utils import parseaddr
from typing import Any, cast

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar, Event, vCalAddress

from peermentor.core.timezones import zone
from peermentor.engagement.models import CircleSession, InvitationMethod, Meeting, MeetingStatus

PRODID = "-//Peermentor//Peermentor engagement//EN"
UID_DOMAIN = "peermentor"


def meeting_uid(meeting: Meeting) -> str:
    return f"meeting-{meeting.uid}@{UID_DOMAIN}"


def session_uid(session: CircleSession) -> str:
    return f"session-{session.uid}@{UID_DOMAIN}"


def _calendar(method: str | None) -> Calendar:
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    if method:
        calendar.add("method", method)
    return calendar


def _address(email: str, name: str, **params: str) -> vCalAddress:
    address = vCalAddress(f"mailto:{email}")
    if name:
        address.params["CN"] = name
    for key, value in params.items():
        address.params[key] = value
    return address


def _with_timezones(calendar: Calendar, dates: Sequence[date]) -> Calendar:
    """Add a VTIMEZONE for every TZID used, covering the years of `dates` (kept small)."""
    if dates:
        first = date(min(dates).year - 1, 1, 1)
        last = date(max(dates).year + 2, 1, 1)
        calendar.add_missing_timezones(first_date=first, last_date=last)
    return calendar


def _link(path: str) -> str:
    return settings.SITE_URL + path


def attendees(connection: Any) -> list[Any]:
    """The people an invitation goes to: the current members, or everyone who was a member
    once the connection has ended (a late cancellation still reaches them)."""
    members = list(connection.members.all())
    current = [m.participant.person for m in members if m.is_current]
    return current or [m.participant.person for m in members]


def meeting_event(meeting: Meeting, *, method: str, stamp: datetime | None = None) -> Event:
    """The meeting's VEVENT. `meeting.connection.members` (with participant.person) and
    `meeting.proposed_by` should be loaded by the caller."""
    if meeting.starts_at is None:
        raise ValueError("Only a meeting with a chosen time has a calendar event.")
    tz = zone(meeting.time_zone)
    event = Event()
    event.add("uid", meeting_uid(meeting))
    event.add("dtstamp", (stamp or timezone.now()).astimezone(UTC))
    event.add("dtstart", meeting.starts_at.astimezone(tz))
    # Absolute arithmetic in UTC first: an hour-long meeting across a clock change is an hour.
    event.add(
        "dtend", (meeting.starts_at + timedelta(minutes=meeting.duration_minutes)).astimezone(tz)
    )
    event.add("sequence", meeting.sequence)
    event.add("summary", meeting.title)
    cancelled = method == InvitationMethod.CANCEL or meeting.status == MeetingStatus.CANCELLED
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    if meeting.location:
        event.add("location", meeting.location)
    link = _link(reverse("workspace", args=[meeting.connection_id]))
    description = f"{meeting.agenda}\n\n" if meeting.agenda else ""
    event.add("description", f"{description}Your Peermentor workspace: {link}")
    event.add("url", link)
    organiser = meeting.proposed_by
    if organiser is not None:
        event.add("organizer", _address(organiser.email, organiser.get_full_name()))
    else:
        name, email = parseaddr(settings.DEFAULT_FROM_EMAIL)
        event.add("organizer", _address(email, name or "Peermentor"))
    for person in attendees(meeting.connection):
        event.add(
            "attendee",
            _address(
                person.email,
                person.full_name,
                ROLE="REQ-PARTICIPANT",
                PARTSTAT="DECLINED" if cancelled else "ACCEPTED",
                RSVP="FALSE",
            ),
        )
    return event


def meeting_invitation(meeting: Meeting, *, method: str | None = None) -> bytes:
    """The .ics for one meeting: METHOD:REQUEST while it stands, METHOD:CANCEL once cancelled."""
    if method is None:
        method = (
            InvitationMethod.CANCEL
            if meeting.status == MeetingStatus.CANCELLED
            else InvitationMethod.REQUEST
        )
    calendar = _calendar(str(method))
    event = meeting_event(meeting, method=str(method))
    calendar.add_component(event)
    start = cast(datetime, event.start)  # meetings start at a time, not on a whole day
    return _with_timezones(calendar, [start.date()]).to_ical()


def session_event(session: CircleSession, *, stamp: datetime | None = None) -> Event:
    tz = zone(session.time_zone)
    event = Event()
    event.add("uid", session_uid(session))
    event.add("dtstamp", (stamp or timezone.now()).astimezone(UTC))
    event.add("dtstart", session.starts_at.astimezone(tz))
    event.add("dtend", session.ends_at.astimezone(tz))
    event.add("sequence", session.sequence)
    event.add("summary", session.title)
    event.add("status", "CANCELLED" if session.is_cancelled else "CONFIRMED")
    place = session.location or session.video_url
    if place:
        event.add("location", place)
    link = _link(reverse("circle_detail", args=[session.connection_id]))
    description = f"{session.agenda}\n\n" if session.agenda else ""
    event.add("description", f"{description}Circle page: {link}")
    event.add("url", session.video_url or link)
    return event


def session_invitation(session: CircleSession) -> bytes:
    method = InvitationMethod.CANCEL if session.is_cancelled else InvitationMethod.REQUEST
    calendar = _calendar(str(method))
    calendar.add_component(session_event(session))
    return _with_timezones(calendar, [session.starts_at.date()]).to_ical()


def feed(*, name: str, meetings: Iterable[Meeting], sessions: Iterable[CircleSession]) -> bytes:
    """A subscription calendar (no METHOD: it publishes, it does not invite)."""
    calendar = _calendar(None)
    calendar.add("name", name)
    calendar.add("x-wr-calname", name)
    stamp = timezone.now()
    dates: list[date] = []
    for meeting in meetings:
        method = (
            InvitationMethod.CANCEL
            if meeting.status == MeetingStatus.CANCELLED
            else InvitationMethod.REQUEST
        )
        event = meeting_event(meeting, method=str(method), stamp=stamp)
        calendar.add_component(event)
        dates.append(cast(datetime, event.start).date())
    for session in sessions:
        calendar.add_component(session_event(session, stamp=stamp))
        dates.append(session.starts_at.date())
    return _with_timezones(calendar, dates).to_ical()
