"""Reads of self-match: recommendations, my requests, one request, a program's pending requests.

Each takes the viewer and shows only what they may see: the two people of a request see it
(with its message); the program's managers see who asked whom and who must act, never the
messages; everyone else gets 404.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.paginator import Page, Paginator
from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from peermentor.accounts.models import User
from peermentor.enrollment.models import Participant
from peermentor.programs.models import Program
from peermentor.programs.permissions import can_manage_program, can_view_program, get_program_for
from peermentor.selfmatch.models import MatchRequest, RequestStatus, SelfMatchSettings
from peermentor.selfmatch.recommendations import (
    DEFAULT_TOP,
    Filters,
    Recommendation,
    Recommendations,
    offers_self_match,
    recommendations_for,
)
from peermentor.selfmatch.services import participant_of, self_match_settings_for

PAGE_SIZE = 25
BOXES = ("incoming", "outgoing", "past")


def _pending(queryset: QuerySet[MatchRequest], now: dt.datetime) -> QuerySet[MatchRequest]:
    return queryset.filter(status=RequestStatus.PENDING, expires_at__gt=now)


def _with_people(queryset: QuerySet[MatchRequest]) -> QuerySet[MatchRequest]:
    return queryset.select_related(
        "program",
        "requester__person__department",
        "requester__person__site",
        "recipient__person__department",
        "recipient__person__site",
    )


# --- recommendations ------------------------------------------------------------------------
def get_self_match_program(user: User, pk: Any) -> Program:
    """A program that offers self-match and that the user may see (404 otherwise); 403 for
    those who see it but take no part (managers and admins ask nobody)."""
    program = get_program_for(user, pk)
    if not offers_self_match(program):
        raise Http404("This program does not offer self-match.")
    if participant_of(user, program) is None:
        raise PermissionDenied("Only participants of this program can choose a peer.")
    return program


@dataclass(frozen=True)
class Card:
    """One recommended person, with the request already between them and the viewer."""

    recommendation: Recommendation
    sent_request_id: int | None
    asked_me_request_id: int | None


@dataclass
class RecommendationsPage:
    program: Program
    participant: Participant
    settings: SelfMatchSettings
    result: Recommendations
    # Pending requests between the viewer and others: participant id -> request id.
    asked: dict[int, int] = field(default_factory=dict)
    asked_me: dict[int, int] = field(default_factory=dict)
    outgoing_count: int = 0

    @property
    def may_ask_more(self) -> bool:
        return self.outgoing_count < self.settings.max_pending_outgoing

    @property
    def cards(self) -> list[Card]:
        return [
            Card(
                recommendation=row,
                sent_request_id=self.asked.get(row.participant_id),
                asked_me_request_id=self.asked_me.get(row.participant_id),
            )
            for row in self.result.rows
        ]


def recommendations_page(
    *, viewer: User, program: Program, filters: Filters | None = None, top: int = DEFAULT_TOP
) -> RecommendationsPage:
    """The viewer's recommendations in `program`, with the requests already between them and
    others. People holding the most unanswered requests the program allows are held back
    (counted, not shown) unless the viewer already has a request with them."""
    participant = participant_of(viewer, program)
    if participant is None:
        raise PermissionDenied("Only participants of this program get recommendations.")
    now = timezone.now()
    settings = self_match_settings_for(program)
    pending = _pending(MatchRequest.objects.filter(program=program), now)
    mine = list(
        pending.filter(Q(requester=participant) | Q(recipient=participant)).values_list(
            "pk", "requester_id", "recipient_id"
        )
    )
    asked = {recipient: pk for pk, requester, recipient in mine if requester == participant.pk}
    asked_me = {requester: pk for pk, requester, recipient in mine if recipient == participant.pk}
    busy = {
        recipient_id
        for recipient_id, count in pending.values("recipient_id")
        .annotate(count=Count("id"))
        .values_list("recipient_id", "count")
        if count >= settings.max_pending_incoming
    }
    result = recommendations_for(
        program=program,
        participant=participant,
        filters=filters or Filters(),
        held_back_ids=busy - set(asked) - set(asked_me),
        top=top,
        at=now,
    )
    return RecommendationsPage(
        program=program,
        participant=participant,
        settings=settings,
        result=result,
        asked=asked,
        asked_me=asked_me,
        outgoing_count=len(asked),
    )


def participant_in(*, program: Program, pk: Any) -> Participant | None:
    """A participant of `program` by id (for a request's recipient), or None."""
    try:
        return Participant.objects.select_related("person").get(program=program, pk=int(pk))
    except (Participant.DoesNotExist, ValueError, TypeError):
        return None


# --- one request ----------------------------------------------------------------------------
def viewer_side(viewer: User, request: MatchRequest) -> str | None:
    """ "requester", "recipient", or None (a manager looking on)."""
    user_id = getattr(viewer, "pk", None)
    if user_id is not None and request.requester.person.user_id == user_id:
        return "requester"
    if user_id is not None and request.recipient.person.user_id == user_id:
        return "recipient"
    return None


def get_request_for(*, viewer: User, pk: Any) -> MatchRequest:
    """The request if the viewer is one of its two people or manages its program; else 404.
    `viewer_side` is set on it."""
    try:
        request = _with_people(MatchRequest.objects.select_related("connection")).get(pk=int(pk))
    except (MatchRequest.DoesNotExist, ValueError, TypeError):
        raise Http404("No such request.") from None
    side = viewer_side(viewer, request)
    if side is None and not can_manage_program(viewer, request.program):
        raise Http404("No such request.")
    request.viewer_side = side
    request.is_waiting = request.is_pending and request.expires_at > timezone.now()
    return request


# --- my requests ------------------------------------------------------------------------------
@dataclass
class MyRequests:
    box: str
    page: Page
    counts: dict[str, int]


def my_requests(*, viewer: User, box: str = "incoming", page_number: Any = None) -> MyRequests:
    """The viewer's requests in every program: `incoming` waiting for their answer, `outgoing`
    waiting for others', `past` everything answered, withdrawn, expired or cancelled. Newest
    first; counts of each box in one query."""
    if box not in BOXES:
        box = "incoming"
    now = timezone.now()
    user_id = viewer.pk
    to_me = Q(recipient__person__user_id=user_id)
    from_me = Q(requester__person__user_id=user_id)
    waiting = Q(status=RequestStatus.PENDING, expires_at__gt=now)
    mine = MatchRequest.objects.filter(to_me | from_me)
    counts = mine.aggregate(
        incoming=Count("id", filter=to_me & waiting),
        outgoing=Count("id", filter=from_me & waiting),
        past=Count("id", filter=~waiting),
    )
    if box == "incoming":
        chosen = mine.filter(to_me & waiting)
    elif box == "outgoing":
        chosen = mine.filter(from_me & waiting)
    else:
        chosen = mine.exclude(waiting)
    page = Paginator(_with_people(chosen).order_by("-created_at", "-id"), PAGE_SIZE).get_page(
        page_number
    )
    for request in page.object_list:
        request.viewer_side = viewer_side(viewer, request)
        request.is_waiting = request.is_pending and request.expires_at > now
    return MyRequests(box=box, page=page, counts={key: counts[key] or 0 for key in BOXES})


# --- managers -------------------------------------------------------------------------------
@dataclass
class ProgramRequests:
    program: Program
    settings: SelfMatchSettings
    status: str
    page: Page
    counts: list[tuple[str, str, int]]
    overdue: int


def program_requests(
    *, viewer: User, program: Program, status: str = RequestStatus.PENDING, page_number: Any = None
) -> ProgramRequests:
    """For the program's managers: its requests in one status (pending by default, oldest
    first: those waiting longest need a nudge), who asked whom and who must act; no messages.
    Counts by status in one query."""
    # One membership lookup serves both checks (can_view_program asks can_manage_program).
    is_manager = can_manage_program(viewer, program)
    program.viewer_is_manager = is_manager  # type: ignore[attr-defined]
    if not can_view_program(viewer, program):
        raise Http404("No such program.")
    if not is_manager:
        raise PermissionDenied("Only the program's managers see its requests.")
    if status not in RequestStatus.values:
        status = RequestStatus.PENDING
    now = timezone.now()
    requests = MatchRequest.objects.filter(program=program)
    totals: dict[str, int] = {}
    overdue = 0
    for value, count, past_expiry in (
        requests.values("status")
        .annotate(count=Count("id"), past_expiry=Count("id", filter=Q(expires_at__lte=now)))
        .values_list("status", "count", "past_expiry")
    ):
        totals[value] = count
        if value == RequestStatus.PENDING:
            overdue = past_expiry
    chosen = requests.filter(status=status)
    ordering = ["created_at", "id"] if status == RequestStatus.PENDING else ["-created_at", "-id"]
    page = Paginator(
        chosen.select_related(
            "requester__person__department", "recipient__person__department"
        ).order_by(*ordering),
        PAGE_SIZE,
    ).get_page(page_number)
    for request in page.object_list:
        request.is_waiting = request.is_pending and request.expires_at > now
    return ProgramRequests(
        program=program,
        settings=self_match_settings_for(program),
        status=status,
        page=page,
        counts=[(value, label, totals.get(value, 0)) for value, label in RequestStatus.choices],
        overdue=overdue,
    )
