"""Reads of the help network: pages, recommendations and the nudges' hook.

Every page selector takes the viewer, raises Http404 for what they may not see, and loads what
its template shows in a fixed number of queries (tests/helpnetwork/test_views.py counts them).
"""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.paginator import Page, Paginator
from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from peermentor.accounts.models import User
from peermentor.connections.models import ConnectionMember
from peermentor.core.pagination import PAGE_SIZE
from peermentor.enrollment.models import Answer, Participant, ParticipantStatus
from peermentor.helpnetwork.models import (
    AskStatus,
    HelpAsk,
    HelpInvitation,
    HelpOffer,
    OfferStatus,
)
from peermentor.helpnetwork.permissions import can_take_part, can_view_ask, is_help_program
from peermentor.matches.recommend_help import recommend_helpers
from peermentor.people.models import Skill
from peermentor.programs.models import Format, ProfileQuestion, Program, QuestionKind
from peermentor.programs.permissions import can_manage_program, get_program_for

CHUNK_SIZE = 900
# Offers an asker has not answered for a day are worth a reminder.
OFFERS_WAIT_BEFORE_NUDGE = timedelta(days=1)


def viewer_participant(viewer: User, program: Program) -> Participant | None:
    """The viewer's participation in `program` (any status), or None."""
    if not getattr(viewer, "is_authenticated", False):
        return None
    return (
        Participant.objects.filter(program=program, person__user_id=viewer.pk)
        .select_related("person")
        .first()
    )


# --- programs -------------------------------------------------------------------------------
@dataclass
class HelpProgramAccess:
    program: Program
    participant: Participant | None
    is_manager: bool

    @property
    def can_take_part(self) -> bool:
        return can_take_part(self.participant, self.program)


def get_help_program_for(*, viewer: User, pk: Any, take_part: bool = False) -> HelpProgramAccess:
    """A help-network program the viewer may see: 404 for one they may not see (or that is not
    a help network); with `take_part`, 403 unless they are an enrolled participant."""
    program = get_program_for(viewer, pk)
    if not is_help_program(program):
        raise Http404("This program has no help network.")
    participant = viewer_participant(viewer, program)
    is_manager = can_manage_program(viewer, program)
    access = HelpProgramAccess(program, participant, is_manager)
    if take_part and not access.can_take_part:
        raise PermissionDenied("Only the program's enrolled participants ask and offer help.")
    if not take_part and not (is_manager or participant is not None):
        raise PermissionDenied("Join the program to see its help network.")
    return access


# --- who can help --------------------------------------------------------------------------
def offer_question_keys(program: Program) -> list[str]:
    return list(
        ProfileQuestion.objects.filter(
            program=program, kind=QuestionKind.SKILLS_OFFERED
        ).values_list("key", flat=True)
    )


def participants_offering(*, program: Program, skill_name: str) -> list[int]:
    """Enrolled participants of `program` who offered `skill_name` in any of its "skills
    offered" questions (names compared without case). One query."""
    wanted = skill_name.strip().casefold()
    found: list[int] = []
    for participant_id, value in (
        Answer.objects.filter(
            participant__program=program,
            participant__status=ParticipantStatus.ENROLLED,
            question__kind=QuestionKind.SKILLS_OFFERED,
        )
        .order_by("participant_id")
        .values_list("participant_id", "value")
    ):
        if isinstance(value, list) and any(
            str(item).strip().casefold() == wanted for item in value
        ):
            found.append(participant_id)
    return list(dict.fromkeys(found))


def has_offered(*, participant: Participant, skill_name: str) -> bool:
    return participant.pk in participants_offering(
        program=participant.program, skill_name=skill_name
    )


def participants_with_room(participant_ids: Sequence[int]) -> list[int]:
    """Those of `participant_ids` who could take one more flash meeting now: no exclusive
    current connection and fewer current flash places than their capacity. One query per 900."""
    ids = list(participant_ids)
    busy: dict[int, int] = defaultdict(int)
    exclusive: set[int] = set()
    capacity: dict[int, int] = {}
    for start in range(0, len(ids), CHUNK_SIZE):
        chunk = ids[start : start + CHUNK_SIZE]
        capacity.update(Participant.objects.filter(pk__in=chunk).values_list("pk", "capacity"))
        for participant_id, uses_capacity in ConnectionMember.objects.filter(
            participant_id__in=chunk, is_current=True
        ).values_list("participant_id", "uses_capacity"):
            busy[participant_id] += 1
            if not uses_capacity:
                exclusive.add(participant_id)
    return [pk for pk in ids if pk not in exclusive and busy[pk] < capacity.get(pk, 1)]


@dataclass(frozen=True)
class Suggestion:
    participant: Participant
    reasons: str
    is_outside_team: bool
    is_outside_site: bool
    is_invited: bool
    has_offered: bool


def recommendations(*, ask: HelpAsk, top: int = 10) -> list[Suggestion]:
    """Peers who offered the ask's skill and have room, best first by the engine: outside the
    asker's team and site first, never someone blocked or met before."""

    keys = offer_question_keys(ask.program)
    if not keys:
        return []
    candidates = participants_with_room(
        [
            pk
            for pk in participants_offering(program=ask.program, skill_name=ask.skill.name)
            if pk != ask.asker_id
        ]
    )
    ranked = recommend_helpers(
        program=ask.program,
        asker_id=ask.asker_id,
        skill_name=ask.skill.name,
        offer_field=keys[0],
        candidate_ids=candidates,
        top=top,
    )
    people = Participant.objects.select_related("person__department", "person__site").in_bulk(
        [s.participant_id for s in ranked]
    )
    invited = set(ask.invitations.values_list("helper_id", flat=True))
    offered = set(ask.offers.values_list("helper_id", flat=True))
    return [
        Suggestion(
            participant=people[s.participant_id],
            reasons=s.reasons,
            is_outside_team=s.is_outside_team,
            is_outside_site=s.is_outside_site,
            is_invited=s.participant_id in invited,
            has_offered=s.participant_id in offered,
        )
        for s in ranked
        if s.participant_id in people
    ]


# --- asks ----------------------------------------------------------------------------------
def _ask_queryset() -> QuerySet[HelpAsk]:
    return HelpAsk.objects.select_related(
        "program",
        "skill",
        "ongoing_connection__created_by",
        "asker__person__department",
        "asker__person__site",
        "asker__person__user",
    )


@dataclass
class AskAccess:
    ask: HelpAsk
    participant: Participant | None
    is_manager: bool

    @property
    def is_asker(self) -> bool:
        return self.participant is not None and self.participant.pk == self.ask.asker_id


def get_ask_for(*, viewer: User, pk: Any) -> AskAccess:
    """The ask `pk` for someone who may see it: its program's participants and managers.
    Everyone else gets 404, whether or not it exists."""
    try:
        ask = _ask_queryset().get(pk=int(pk))
    except (HelpAsk.DoesNotExist, TypeError, ValueError):
        raise Http404("No such ask.") from None
    participant = viewer_participant(viewer, ask.program)
    is_manager = can_manage_program(viewer, ask.program)
    if not can_view_ask(participant=participant, is_manager=is_manager):
        raise Http404("No such ask.")
    return AskAccess(ask, participant, is_manager)


@dataclass
class OfferAccess:
    offer: HelpOffer
    participant: Participant | None
    is_manager: bool


def get_offer_for(*, viewer: User, pk: Any) -> OfferAccess:
    try:
        offer = HelpOffer.objects.select_related(
            "ask__program", "ask__skill", "helper__person"
        ).get(pk=int(pk))
    except (HelpOffer.DoesNotExist, TypeError, ValueError):
        raise Http404("No such offer.") from None
    participant = viewer_participant(viewer, offer.ask.program)
    is_manager = can_manage_program(viewer, offer.ask.program)
    if not can_view_ask(participant=participant, is_manager=is_manager):
        raise Http404("No such offer.")
    return OfferAccess(offer, participant, is_manager)


@dataclass
class AskPage:
    access: AskAccess
    offers: list[HelpOffer]
    my_offer: HelpOffer | None
    suggestions: list[Suggestion]
    preferred_times: list[datetime]
    can_offer: bool
    ongoing_waits_for_viewer: bool = False
    viewer_in_flash: bool = False

    @property
    def ask(self) -> HelpAsk:
        return self.access.ask


def ask_page(*, viewer: User, pk: Any) -> AskPage:
    """Everything the ask's page shows the viewer. The asker sees every offer and the
    engine's suggestions while the ask is open; a helper sees their own offer; managers see
    the offers (not the suggestions) read-only."""
    access = get_ask_for(viewer=viewer, pk=pk)
    ask = access.ask
    offers = list(
        ask.offers.select_related("helper__person__department", "helper__person__site").order_by(
            "created_at", "pk"
        )
    )
    my_offer = next(
        (o for o in offers if access.participant and o.helper_id == access.participant.pk), None
    )
    if not (access.is_asker or access.is_manager):
        offers = [my_offer] if my_offer else []
    suggestions = (
        recommendations(ask=ask) if access.is_asker and ask.status == AskStatus.OPEN else []
    )
    can_offer = (
        ask.status == AskStatus.OPEN
        and ask.expires_at > timezone.now()
        and not access.is_asker
        and can_take_part(access.participant, ask.program)
        and (my_offer is None or my_offer.status == OfferStatus.WITHDRAWN)
    )
    accepted = next((o for o in offers if o.status == OfferStatus.ACCEPTED), None)
    in_flash = access.is_asker or (
        accepted is not None and my_offer is not None and accepted.pk == my_offer.pk
    )
    ongoing = ask.ongoing_connection
    waits_for_viewer = bool(
        in_flash
        and ongoing is not None
        and ongoing.status == "proposed"
        and ongoing.created_by_id != getattr(viewer, "pk", None)
    )
    return AskPage(
        access=access,
        offers=offers,
        my_offer=my_offer,
        suggestions=suggestions,
        preferred_times=list(ask.preferred_times.values_list("starts_at", flat=True)),
        can_offer=can_offer,
        ongoing_waits_for_viewer=waits_for_viewer,
        viewer_in_flash=in_flash,
    )


@dataclass
class OpenAsks:
    access: HelpProgramAccess
    page: Page
    skills: list[Skill]
    skill_id: int | None


def open_asks(
    *, viewer: User, program_pk: Any, skill_id: Any = None, page_number: Any = None
) -> OpenAsks:
    """The program's open asks (not expired), newest first, filterable by skill; each with
    its asker's team and site and how many offers it has. A fixed number of queries."""
    access = get_help_program_for(viewer=viewer, pk=program_pk)
    try:
        skill = int(skill_id) if skill_id not in (None, "") else None
    except (TypeError, ValueError):
        skill = None
    asks = (
        HelpAsk.objects.filter(
            program=access.program, status=AskStatus.OPEN, expires_at__gt=timezone.now()
        )
        .select_related("skill", "asker__person__department", "asker__person__site")
        .annotate(
            offer_count=Count("offers", filter=Q(offers__status=OfferStatus.OPEN)),
        )
        .order_by("-created_at", "-pk")
    )
    if skill is not None:
        asks = asks.filter(skill_id=skill)
    skills = list(
        Skill.objects.filter(
            help_asks__program=access.program,
            help_asks__status=AskStatus.OPEN,
        )
        .distinct()
        .order_by("name")
    )
    page = Paginator(asks, PAGE_SIZE).get_page(page_number)
    return OpenAsks(access=access, page=page, skills=skills, skill_id=skill)


# --- the participant's own help ---------------------------------------------------------------
@dataclass
class HelpHome:
    programs: list[Program]
    managed: list[Program]
    asks: Sequence[HelpAsk] = field(default_factory=list)
    offers: list[HelpOffer] = field(default_factory=list)
    invitations: list[HelpInvitation] = field(default_factory=list)


RECENT = 20


def help_home(*, viewer: User) -> HelpHome:
    """The viewer's help-network programs, their recent asks and offers, and the open asks
    they were invited to help with. A fixed number of queries."""
    participations = Participant.objects.filter(
        person__user_id=viewer.pk,
        program__format=Format.HELP_NETWORK,
        status=ParticipantStatus.ENROLLED,
    )
    programs = [
        p.program for p in participations.select_related("program").order_by("program__name")
    ]
    managed_query = Program.objects.filter(format=Format.HELP_NETWORK).order_by("name")
    if not getattr(viewer, "is_org_admin", False):
        managed_query = managed_query.filter(manager_links__user_id=viewer.pk)
    managed = list(managed_query[:50])
    asks = list(
        HelpAsk.objects.filter(asker__in=participations)
        .select_related("skill", "program", "connection", "ongoing_connection")
        .annotate(offer_count=Count("offers", filter=Q(offers__status=OfferStatus.OPEN)))
        .order_by("-created_at", "-pk")[:RECENT]
    )
    offers = list(
        HelpOffer.objects.filter(helper__in=participations)
        .select_related("ask__skill", "ask__asker__person", "ask__connection")
        .order_by("-created_at", "-pk")[:RECENT]
    )
    invitations = list(
        HelpInvitation.objects.filter(
            helper__in=participations,
            ask__status=AskStatus.OPEN,
            ask__expires_at__gt=timezone.now(),
        )
        .select_related("ask__skill", "ask__asker__person")
        .order_by("-created_at", "-pk")[:RECENT]
    )
    return HelpHome(
        programs=programs, managed=managed, asks=asks, offers=offers, invitations=invitations
    )


def skills_to_ask_about() -> QuerySet[Skill]:
    return Skill.objects.order_by("name")


# --- nudges ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class WaitingAsk:
    pk: int
    asker_user_id: int
    skill_name: str
    offer_count: int


def asks_with_waiting_offers(
    *, programs: Sequence[Program], now: datetime | None = None
) -> list[WaitingAsk]:
    """Open asks of `programs` whose oldest open offer has waited a day for the asker's
    answer. One query."""
    now = now or timezone.now()
    rows = (
        HelpAsk.objects.filter(
            program__in=[p.pk for p in programs],
            status=AskStatus.OPEN,
            expires_at__gt=now,
            offers__status=OfferStatus.OPEN,
            offers__created_at__lte=now - OFFERS_WAIT_BEFORE_NUDGE,
            asker__person__user__isnull=False,
            asker__person__user__is_active=True,
        )
        .values("pk", "asker__person__user_id", "skill__name")
        .annotate(offer_count=Count("offers", distinct=True))
        .order_by("pk")
    )
    return [
        WaitingAsk(
            pk=row["pk"],
            asker_user_id=row["asker__person__user_id"],
            skill_name=row["skill__name"],
            offer_count=row["offer_count"],
        )
        for row in rows
    ]


__all__ = [
    "AskAccess",
    "AskPage",
    "HelpHome",
    "OpenAsks",
    "Suggestion",
    "ask_page",
    "asks_with_waiting_offers",
    "get_ask_for",
    "get_help_program_for",
    "get_offer_for",
    "help_home",
    "open_asks",
    "participants_offering",
    "participants_with_room",
    "recommendations",
    "skills_to_ask_about",
    "viewer_participant",
]


def program_participant(*, program: Program, pk: Any) -> Participant | None:
    """Participant `pk` of `program` (with their person), or None."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        return None
    return Participant.objects.select_related("person").filter(program=program, pk=pk).first()
