"""Reads of programs for pages and the API: each takes the viewer and shows only what they may
see, with the counts a page needs computed in the same query."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeAlias, TypedDict, cast

from django.db.models import Count, Exists, IntegerField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from peermentor.accounts.models import User
from peermentor.core.models import AuditEvent
from peermentor.programs.defaults import FORMAT_DESCRIPTIONS, GOAL_DESCRIPTIONS
from peermentor.programs.models import (
    Goal,
    Program,
    ProgramManager,
    ProgramStatus,
)
from peermentor.programs.permissions import (
    can_assign_managers,
    can_copy_program,
    can_manage_program,
    is_open_for_enrollment,
    is_participant_of,
)
from peermentor.programs.policy import DIRECTORY_ATTRIBUTES, describe_rule
from peermentor.programs.transitions import allowed_transitions


class ProgramAnnotations(TypedDict, total=False):
    """What with_counts and with_viewer_roles annotate on programs (often both at once)."""

    participant_count: int
    ready_count: int
    pending_count: int
    viewer_is_manager: bool
    viewer_is_participant: bool


if TYPE_CHECKING:  # django-stubs-ext is a development dependency
    from django_stubs_ext import WithAnnotations

    AnnotatedPrograms: TypeAlias = QuerySet[WithAnnotations[Program, ProgramAnnotations]]


# Statuses in which people still take part (withdrawn and declined ones are history).
ACTIVE_PARTICIPANT_STATUSES = ("pending_approval", "enrolled")
HOME_PROGRAM_LIMIT = 50


def _participant_count(**filters: Any) -> Coalesce:
    """Participants of the outer program matching `filters`, as a correlated subquery: the
    database counts only for the rows a page shows, using the (program, status) index.

    Participants belong to enrollment, a layer above programs: programs never imports it and
    reaches them only through the `participants` relation in queries."""
    lookups = {f"participants__{name}": value for name, value in filters.items()}
    counted = (
        Program.objects.filter(pk=OuterRef("pk"), **lookups)
        .order_by()
        .values("pk")
        .annotate(total=Count("participants"))
        .values("total")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def with_counts(queryset: QuerySet[Program]) -> AnnotatedPrograms:
    """Annotate participant_count, ready_count and pending_count."""
    counted = queryset.annotate(
        participant_count=_participant_count(status__in=ACTIVE_PARTICIPANT_STATUSES),
        ready_count=_participant_count(status="enrolled", ready_at__isnull=False),
        pending_count=_participant_count(status="pending_approval"),
    )
    return cast("AnnotatedPrograms", counted)  # keeps the viewer roles a queryset may have


def with_viewer_roles(queryset: QuerySet[Program], *, viewer: User) -> AnnotatedPrograms:
    """Annotate viewer_is_manager and viewer_is_participant (read by permissions.py)."""
    viewer_id = viewer.pk
    roles = queryset.annotate(
        viewer_is_manager=Exists(
            ProgramManager.objects.filter(program=OuterRef("pk"), user_id=viewer_id)
        ),
        viewer_is_participant=Exists(
            Program.objects.filter(pk=OuterRef("pk"), participants__person__user_id=viewer_id)
        ),
    )
    return cast("AnnotatedPrograms", roles)  # keeps the counts a queryset may have


def visible_programs(*, viewer: User) -> AnnotatedPrograms:
    """Every program the viewer may see (see permissions.can_view_program), roles annotated."""
    queryset = with_viewer_roles(Program.objects.all(), viewer=viewer)
    if not getattr(viewer, "is_authenticated", False) or not viewer.is_active:
        return queryset.none()
    if viewer.is_org_admin:
        return queryset
    return queryset.filter(
        Q(viewer_is_manager=True)
        | (
            ~Q(status=ProgramStatus.DRAFT)
            & (Q(status=ProgramStatus.ENROLLING) | Q(viewer_is_participant=True))
        )
    )


def program_list(
    *, viewer: User, status: str | None = None, search: str | None = None
) -> AnnotatedPrograms:
    """Programs the viewer may see: admins all, managers theirs, everyone the ones open for
    enrollment and those they take part in. Counts and the viewer's roles come annotated."""
    queryset = with_counts(visible_programs(viewer=viewer))
    if status in ProgramStatus.values:
        queryset = queryset.filter(status=status)
    if search and search.strip():
        queryset = queryset.filter(name__icontains=search.strip())
    return queryset.order_by("-created_at", "-id")


def managed_programs(*, viewer: User) -> AnnotatedPrograms:
    """Programs the viewer runs: all for admins, their own for program managers."""
    queryset = with_counts(with_viewer_roles(Program.objects.all(), viewer=viewer))
    if getattr(viewer, "is_org_admin", False):
        return queryset
    return queryset.filter(viewer_is_manager=True)


# --- the program page ------------------------------------------------------------------------
@dataclass(frozen=True)
class NextStep:
    text: str
    # "bad" needs action now, "warn" soon, "" nothing urgent.
    urgency: str = ""


def program_next_step(program: Program, *, today: datetime.date) -> NextStep:
    """What the program's managers should do next, from its status, dates and counts."""
    pending = getattr(program, "pending_count", 0)
    ready = getattr(program, "ready_count", 0)
    enrolled = getattr(program, "participant_count", 0)
    if program.status == ProgramStatus.DRAFT:
        if not program.enrollment_opens_on:
            return NextStep(
                "Check the questions and training, set the dates, then open enrollment."
            )
        if program.enrollment_opens_on <= today:
            return NextStep("Enrollment was due to open: open it now.", "bad")
        return NextStep(f"Open enrollment on {program.enrollment_opens_on:%-d %B %Y}.")
    if program.status == ProgramStatus.ENROLLING:
        if pending:
            return NextStep(f"Approve or decline {pending} pending enrollment(s).", "bad")
        if program.enrollment_closes_on and program.enrollment_closes_on < today:
            return NextStep("Enrollment has closed: move the program to matching.", "warn")
        if not enrolled:
            return NextStep("Nobody has enrolled yet: invite people or share the program page.")
        return NextStep(f"{ready} of {enrolled} participants are ready to match.")
    if program.status == ProgramStatus.MATCHING:
        if not ready:
            return NextStep("No participant is ready to match yet.", "warn")
        return NextStep(f"Match the {ready} ready participants, review and publish.", "warn")
    if program.status == ProgramStatus.RUNNING:
        if program.planned_end_on and program.planned_end_on < today:
            return NextStep("The planned end has passed: close the program.", "warn")
        return NextStep("Watch connection health and nudge quiet connections.")
    return NextStep("Copy it for the next cohort when you're ready.")


def _policy_rules(program: Program, question_labels: dict[str, str]) -> dict[str, list[str]]:
    labels = {name: label.lower() for name, (label, _kind) in DIRECTORY_ATTRIBUTES.items()}
    labels.update(question_labels)
    policy = program.matching_policy or {}
    return {
        "criteria": [
            f"{describe_rule(rule, labels)} (weight {rule.get('weight', 1)})"
            for rule in policy.get("criterion", [])
        ],
        "constraints": [describe_rule(rule, labels) for rule in policy.get("constraint", [])],
    }


def program_detail(*, viewer: User, program: Program) -> dict[str, Any]:
    """What the program page shows the viewer: the public page for employees, the management
    panel as well for its managers. A fixed number of queries whatever the program's size."""
    can_manage = can_manage_program(viewer, program)
    questions = list(program.questions.all())
    context: dict[str, Any] = {
        "program": program,
        "goals": [
            (Goal(goal).label, GOAL_DESCRIPTIONS[goal])
            for goal in program.goals
            if goal in Goal.values
        ],
        "format_description": FORMAT_DESCRIPTIONS.get(program.format, ""),
        "questions": questions,
        "training_modules": list(program.training_modules.all()),
        "is_participant": is_participant_of(viewer, program),
        "is_open_for_enrollment": is_open_for_enrollment(program),
        "can_manage": can_manage,
    }
    if can_manage:
        counted = with_counts(Program.objects.filter(pk=program.pk)).values(
            "participant_count", "ready_count", "pending_count"
        )[0]
        for key, value in counted.items():
            setattr(program, key, value)
        context.update(
            counts=counted,
            next_step=program_next_step(program, today=timezone.localdate()),
            transitions=[ProgramStatus(status) for status in allowed_transitions(program)],
            tracks=list(program.tracks.all()),
            managers=list(program.manager_links.select_related("user").order_by("added_at")),
            can_assign_managers=can_assign_managers(viewer, program),
            can_copy=can_copy_program(viewer, program),
            policy=_policy_rules(
                program, {question.key: question.label.lower() for question in questions}
            ),
        )
    return context


def program_history(*, viewer: User, program: Program) -> QuerySet[AuditEvent]:
    """Every recorded change in the program, newest first (callers paginate)."""
    if not can_manage_program(viewer, program):
        return AuditEvent.objects.none()
    return AuditEvent.objects.filter(program_id=program.pk).select_related("actor")


# --- the home page -----------------------------------------------------------------------------
def manager_home_context(*, user: User) -> dict[str, Any]:
    """The home page of an admin or program manager: "what needs me now" (flows.home decides
    who gets it). Always has the key "template"."""
    is_admin = bool(user.is_org_admin)
    today = timezone.localdate()
    programs = list(
        managed_programs(viewer=user)
        .exclude(status=ProgramStatus.CLOSED)
        .order_by("status", "name", "id")[:HOME_PROGRAM_LIMIT]
    )
    order = {status: index for index, status in enumerate(ProgramStatus.values)}
    programs.sort(key=lambda program: (order[program.status], program.name.lower(), program.pk))
    rows = [(program, program_next_step(program, today=today)) for program in programs]
    urgency_rank = {"bad": 0, "warn": 1, "": 2}
    return {
        "template": "core/home_manager.html",
        "is_admin": is_admin,
        "rows": rows,
        "needs_attention": sorted(
            (row for row in rows if row[1].urgency),
            key=lambda row: urgency_rank[row[1].urgency],
        ),
        "pending_total": sum(program.pending_count for program in programs),
        "is_truncated": len(programs) == HOME_PROGRAM_LIMIT,
        "own_programs": list(
            Program.objects.filter(participants__person__user=user)
            .exclude(status=ProgramStatus.DRAFT)
            .order_by("name")[:20]
        ),
    }
