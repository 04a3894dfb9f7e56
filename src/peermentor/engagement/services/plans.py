"""Engagement plans: program templates (with shipped defaults), each connection's own copy,
members editing it, and job-shadowing assignments with the shadow's reflection and the host's
feedback."""

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from peermentor.accounts.models import User
from peermentor.connections.models import Connection, ConnectionKind
from peermentor.connections.services import KINDS_BY_FORMAT
from peermentor.core.errors import ApplicationError, full_clean
from peermentor.core.models import AuditEvent
from peermentor.core.permissions import require
from peermentor.core.services import audit_event, audit_record
from peermentor.core.timezones import day_of
from peermentor.core.timezones import today as utc_today
from peermentor.engagement.defaults import DEFAULT_TEMPLATES
from peermentor.engagement.models import (
    DUE_DAYS_MAX,
    EngagementSettings,
    Plan,
    PlanItem,
    PlanItemKind,
    PlanTemplate,
    PlanTemplateItem,
)
from peermentor.engagement.permissions import is_host, is_shadow, workspace_member
from peermentor.engagement.services._common import (
    clean_text,
    lock_connection,
    require_writer,
)
from peermentor.enrollment.models import ParticipantRole
from peermentor.programs.models import Program
from peermentor.programs.permissions import can_manage_program

MANAGERS_ONLY = "Only the program's managers change its plan templates."

EFFORT_HOURS_MAX = Decimal("200")
CHUNK_SIZE = 500


# --- templates --------------------------------------------------------------------------------
def _kinds_for(program: Program) -> tuple[str, ...]:
    return KINDS_BY_FORMAT.get(program.format, (ConnectionKind.PAIR,))


def _default_template(program: Program, kind: str) -> PlanTemplate:
    name, items = DEFAULT_TEMPLATES[kind]
    template = PlanTemplate.objects.create(program=program, kind=kind, name=name)
    PlanTemplateItem.objects.bulk_create(
        [
            PlanTemplateItem(
                template=template,
                kind=item.kind,
                title=item.title,
                description=item.description,
                due_after_days=item.due_after_days,
                for_role=item.for_role,
                effort_hours=item.effort_hours,
                learning_goal=item.learning_goal,
                position=position,
            )
            for position, item in enumerate(items)
        ]
    )
    return template


@transaction.atomic
def plan_templates_ensure_defaults(
    *, program: Program, actor: User | None = None, kinds: Sequence[str] | None = None
) -> dict[str, PlanTemplate]:
    """Afterwards `program` has a plan template for every kind of connection its format makes
    (or for `kinds`): the shipped default unless it had one already. Idempotent; safe when two
    requests race (the unique constraint keeps one). Returns {kind: template}."""
    wanted = tuple(kinds) if kinds is not None else _kinds_for(program)
    templates = {t.kind: t for t in PlanTemplate.objects.filter(program=program, kind__in=wanted)}
    for kind in wanted:
        if kind in templates or kind not in DEFAULT_TEMPLATES:
            continue
        try:
            with transaction.atomic():
                templates[kind] = _default_template(program, kind)
        except IntegrityError:
            templates[kind] = PlanTemplate.objects.get(program=program, kind=kind)
        else:
            audit_record(
                actor=actor,
                action="plan_template.created",
                target=templates[kind],
                program_id=program.pk,
                data={"kind": kind, "default": True},
            )
    return templates


def _clean_effort(value: Any, *, field: str = "effort_hours") -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        effort = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise ApplicationError("Give the effort in hours, e.g. 1.5.", field=field) from None
    if not effort.is_finite() or effort <= 0 or effort > EFFORT_HOURS_MAX:
        raise ApplicationError(
            f"The effort must be more than 0 and at most {EFFORT_HOURS_MAX} hours.", field=field
        )
    return effort.quantize(Decimal("0.1"))


def _clean_kind(kind: Any, allowed: Sequence[str]) -> str:
    if kind not in allowed:
        raise ApplicationError("Choose goal, milestone or task.", field="kind")
    return str(kind)


def _clean_role(role: Any) -> str:
    if role in (None, ""):
        return ""
    if role not in ParticipantRole.values:
        raise ApplicationError("Choose whom the item is for.", field="for_role")
    return str(role)


@transaction.atomic
def plan_template_item_add(
    *,
    actor: User,
    template: PlanTemplate,
    kind: str,
    title: str,
    description: str = "",
    due_after_days: int | None = None,
    for_role: str = "",
    effort_hours: Any = None,
    learning_goal: str = "",
) -> PlanTemplateItem:
    """Afterwards the template ends with the new item; connections that already copied the
    template keep their own plans."""
    template = (
        PlanTemplate.objects.select_for_update().select_related("program").get(pk=template.pk)
    )
    require(can_manage_program(actor, template.program), MANAGERS_ONLY)
    if due_after_days is not None and (
        isinstance(due_after_days, bool)
        or not isinstance(due_after_days, int)
        or not 0 <= due_after_days <= DUE_DAYS_MAX
    ):
        raise ApplicationError(
            f"Give the due date as 0 to {DUE_DAYS_MAX} days after the start.",
            field="due_after_days",
        )
    last = template.items.aggregate(last=Max("position"))["last"]
    item = PlanTemplateItem(
        template=template,
        kind=_clean_kind(kind, PlanItemKind.values),
        title=clean_text(title, field="title", label="The title", max_length=200, required=True),
        description=clean_text(
            description,
            field="description",
            label="The description",
            max_length=2000,
            required=False,
        ),
        due_after_days=due_after_days,
        for_role=_clean_role(for_role),
        effort_hours=_clean_effort(effort_hours),
        learning_goal=clean_text(
            learning_goal,
            field="learning_goal",
            label="The learning goal",
            max_length=1000,
            required=False,
        ),
        position=(last + 1) if last is not None else 0,
    )
    full_clean(item, exclude=["template"])
    item.save()
    audit_record(
        actor=actor,
        action="plan_template.item_added",
        target=template,
        program_id=template.program_id,
        data={"item_id": item.pk, "title": item.title},
    )
    return item


@transaction.atomic
def plan_template_item_remove(*, actor: User, item: PlanTemplateItem) -> None:
    """Afterwards the item is gone from the template (copies already made keep theirs)."""
    item = PlanTemplateItem.objects.select_related("template__program").get(pk=item.pk)
    template = item.template
    require(can_manage_program(actor, template.program), MANAGERS_ONLY)
    audit_record(
        actor=actor,
        action="plan_template.item_removed",
        target=template,
        program_id=template.program_id,
        data={"item_id": item.pk, "title": item.title},
    )
    item.delete()


@transaction.atomic
def plan_templates_copy(*, actor: User, source: Program, target: Program) -> int:
    """Afterwards `target` has a copy of each of `source`'s plan templates (with their items)
    for every kind it had none of yet, and `source`'s check-in rhythm if it set one. Nothing
    of `target`'s own is overwritten. For copying a program for its next cohort; the actor must
    manage both. Returns how many templates were copied."""
    if not (can_manage_program(actor, source) and can_manage_program(actor, target)):
        raise PermissionDenied("Only managers of both programs copy plan templates.")
    have = set(PlanTemplate.objects.filter(program=target).values_list("kind", flat=True))
    copied = 0
    for template in PlanTemplate.objects.filter(program=source).prefetch_related("items"):
        if template.kind in have:
            continue
        copy = PlanTemplate.objects.create(program=target, kind=template.kind, name=template.name)
        PlanTemplateItem.objects.bulk_create(
            [
                PlanTemplateItem(
                    template=copy,
                    kind=item.kind,
                    title=item.title,
                    description=item.description,
                    due_after_days=item.due_after_days,
                    for_role=item.for_role,
                    effort_hours=item.effort_hours,
                    learning_goal=item.learning_goal,
                    position=item.position,
                )
                for item in template.items.all()
            ]
        )
        copied += 1
    rhythm = EngagementSettings.objects.filter(program=source).first()
    if rhythm is not None:
        EngagementSettings.objects.get_or_create(
            program=target,
            defaults={
                "first_check_in_after_days": rhythm.first_check_in_after_days,
                "check_in_every_days": rhythm.check_in_every_days,
            },
        )
    audit_record(
        actor=actor,
        action="plan_templates.copied",
        target=target,
        program_id=target.pk,
        data={"source_program_id": source.pk, "templates": copied},
    )
    return copied


# --- a connection's plan ----------------------------------------------------------------------
def _start_date(connection: Connection) -> date:
    return day_of(connection.started_at or timezone.now())


def _items_from(template: PlanTemplate | None, plan: Plan, started_on: date) -> list[PlanItem]:
    if template is None:
        return []
    return [
        PlanItem(
            plan=plan,
            kind=item.kind,
            title=item.title,
            description=item.description,
            due_on=started_on + timedelta(days=item.due_after_days)
            if item.due_after_days is not None
            else None,
            for_role=item.for_role,
            effort_hours=item.effort_hours,
            learning_goal=item.learning_goal,
            position=position,
        )
        for position, item in enumerate(template.items.all())
    ]


@transaction.atomic
def plan_instantiate(*, connection: Connection, actor: User | None = None) -> Plan:
    """Afterwards the started connection has its own plan, copied once from its program's
    template for its kind (the default template is made first if needed). Idempotent: a
    second call returns the same plan. Connections get theirs when they start
    (plans_instantiate_many); this is the fallback for those that did not, e.g. started
    before plans were copied on activation. `actor` None means the system; otherwise it must
    be a member or one of the program's managers."""
    existing = Plan.objects.filter(connection_id=connection.pk).first()
    if existing is not None and actor is None:
        return existing
    # Plans are usually made when the connection starts, so a user asking for one is checked
    # even when it exists.
    connection = lock_connection(connection)
    if (
        actor is not None
        and workspace_member(actor, connection) is None
        and not can_manage_program(actor, connection.program)
    ):
        raise PermissionDenied("Only the connection's members or managers start its plan.")
    if connection.started_at is None:
        raise ApplicationError("A plan starts when the connection starts.")
    existing = Plan.objects.filter(connection_id=connection.pk).first()
    if existing is not None:
        return existing
    templates = plan_templates_ensure_defaults(
        program=connection.program, actor=actor, kinds=[connection.kind]
    )
    template = templates.get(connection.kind)
    plan = Plan.objects.create(connection=connection, template=template)
    if template is not None:
        template = PlanTemplate.objects.prefetch_related("items").get(pk=template.pk)
    PlanItem.objects.bulk_create(_items_from(template, plan, _start_date(connection)))
    audit_record(
        actor=actor,
        action="plan.created",
        target=plan,
        program_id=connection.program_id,
        data={"connection_id": connection.pk, "template_id": template.pk if template else None},
    )
    return plan


@transaction.atomic
def plans_instantiate_many(*, connection_ids: Sequence[int], actor: User | None = None) -> int:
    """Afterwards each named started connection has its plan (those that had one keep it),
    copied from its program's template for its kind as plan_instantiate does, with a
    "plan.created" audit row (`actor` None means the system). Called when connections start
    (connection_changes: publishing, self-match, activation), so it checks no
    permission. A constant number of queries per 500 connections and per program and kind.
    Returns how many plans were made."""
    made = 0
    wanted = sorted(set(connection_ids))
    for start in range(0, len(wanted), CHUNK_SIZE):
        chunk = wanted[start : start + CHUNK_SIZE]
        connections = list(
            Connection.objects.filter(pk__in=chunk, started_at__isnull=False)
            .exclude(engagement_plan__isnull=False)
            .select_related("program")
            .order_by("pk")
        )
        if not connections:
            continue
        templates: dict[tuple[int, str], PlanTemplate | None] = {}
        for connection in connections:
            key = (connection.program_id, connection.kind)
            if key not in templates:
                found = plan_templates_ensure_defaults(
                    program=connection.program, actor=actor, kinds=[connection.kind]
                )
                templates[key] = found.get(connection.kind)
        loaded = {
            t.pk: t
            for t in PlanTemplate.objects.filter(
                pk__in=[t.pk for t in templates.values() if t is not None]
            ).prefetch_related("items")
        }
        plans = Plan.objects.bulk_create(
            [
                Plan(
                    connection=connection,
                    template=templates[(connection.program_id, connection.kind)],
                )
                for connection in connections
            ]
        )
        items: list[PlanItem] = []
        events: list[AuditEvent] = []
        for connection, plan in zip(connections, plans, strict=True):
            template = templates[(connection.program_id, connection.kind)]
            items.extend(
                _items_from(
                    loaded.get(template.pk) if template else None, plan, _start_date(connection)
                )
            )
            events.append(
                audit_event(
                    actor=actor,
                    action="plan.created",
                    target_type=Plan,
                    target_id=plan.pk,
                    program_id=connection.program_id,
                    data={
                        "connection_id": connection.pk,
                        "template_id": template.pk if template else None,
                    },
                )
            )
        PlanItem.objects.bulk_create(items, batch_size=CHUNK_SIZE)
        AuditEvent.objects.bulk_create(events, batch_size=CHUNK_SIZE)
        made += len(plans)
    return made


def _lock_item(item: PlanItem | int) -> PlanItem:
    pk = item if isinstance(item, int) else item.pk
    try:
        locked = PlanItem.objects.select_for_update(of=("self",)).select_related("plan").get(pk=pk)
    except PlanItem.DoesNotExist:
        raise ApplicationError("This plan item no longer exists.") from None
    locked.plan.connection = lock_connection(locked.plan.connection_id)
    return locked


def _own_plan(actor: User, connection: Connection) -> Plan:
    plan = Plan.objects.filter(connection_id=connection.pk).first()
    return plan if plan is not None else plan_instantiate(connection=connection, actor=actor)


def _clean_due(due_on: Any, *, field: str = "due_on", allow_past: bool = True) -> date | None:
    if due_on in (None, ""):
        return None
    if not isinstance(due_on, date) or isinstance(due_on, datetime):
        raise ApplicationError("Give a date such as 2026-12-31.", field=field)
    if not allow_past and due_on < utc_today():
        raise ApplicationError("Choose a due date from today on.", field=field)
    return due_on


def _audit_item(actor: User, action: str, item: PlanItem, **data: Any) -> None:
    audit_record(
        actor=actor,
        action=action,
        target=item,
        program_id=item.plan.connection.program_id,
        data={"connection_id": item.plan.connection_id, **data},
    )


@transaction.atomic
def plan_item_add(
    *,
    actor: User,
    connection: Connection,
    kind: str,
    title: str,
    description: str = "",
    due_on: date | None = None,
    for_role: str = "",
) -> PlanItem:
    """Afterwards the connection's plan ends with a new goal, milestone or task."""
    connection = lock_connection(connection)
    require_writer(actor, connection)
    plan = _own_plan(actor, connection)
    last = plan.items.aggregate(last=Max("position"))["last"]
    item = PlanItem(
        plan=plan,
        kind=_clean_kind(kind, [PlanItemKind.GOAL, PlanItemKind.MILESTONE, PlanItemKind.TASK]),
        title=clean_text(title, field="title", label="The title", max_length=200, required=True),
        description=clean_text(
            description,
            field="description",
            label="The description",
            max_length=2000,
            required=False,
        ),
        due_on=_clean_due(due_on),
        for_role=_clean_role(for_role),
        position=(last + 1) if last is not None else 0,
        created_by=actor,
    )
    full_clean(item, exclude=["plan", "done_by", "created_by"])
    item.save()
    plan.connection = connection
    item.plan = plan
    _audit_item(actor, "plan.item_added", item)
    return item


@transaction.atomic
def plan_item_update(
    *,
    actor: User,
    item: PlanItem,
    title: str,
    description: str = "",
    due_on: date | None = None,
) -> PlanItem:
    """Afterwards the item has the new title, description and due date."""
    item = _lock_item(item)
    require_writer(actor, item.plan.connection)
    item.title = clean_text(title, field="title", label="The title", max_length=200, required=True)
    item.description = clean_text(
        description,
        field="description",
        label="The description",
        max_length=2000,
        required=False,
    )
    item.due_on = _clean_due(due_on)
    full_clean(item, exclude=["plan", "done_by", "created_by"])
    item.save(update_fields=["title", "description", "due_on", "updated_at"])
    _audit_item(actor, "plan.item_updated", item)
    return item


@transaction.atomic
def plan_item_set_done(*, actor: User, item: PlanItem, is_done: bool) -> PlanItem:
    """Afterwards the item is done (when, by whom) or open again. Assignments are the
    shadow's to complete (with a reflection, see assignment_reflect)."""
    item = _lock_item(item)
    member = require_writer(actor, item.plan.connection)
    if not isinstance(is_done, bool):
        raise ApplicationError("Say whether the item is done.", field="is_done")
    if item.kind == PlanItemKind.ASSIGNMENT and not is_shadow(member):
        raise PermissionDenied("The shadow marks an assignment done.")
    if item.is_done == is_done:
        return item
    item.is_done = is_done
    item.done_at = timezone.now() if is_done else None
    item.done_by = actor if is_done else None
    item.save(update_fields=["is_done", "done_at", "done_by", "updated_at"])
    _audit_item(actor, "plan.item_done" if is_done else "plan.item_reopened", item)
    return item


@transaction.atomic
def plan_item_move(*, actor: User, item: PlanItem, direction: str) -> PlanItem:
    """Afterwards the item has swapped places with its neighbour ("up" or "down"); positions
    are renumbered 0..n-1 in the process, so the order is always total."""
    item = _lock_item(item)
    require_writer(actor, item.plan.connection)
    if direction not in ("up", "down"):
        raise ApplicationError("Move the item up or down.", field="direction")
    siblings = list(
        PlanItem.objects.select_for_update().filter(plan_id=item.plan_id).order_by("position", "id")
    )
    index = next(i for i, sibling in enumerate(siblings) if sibling.pk == item.pk)
    other = index - 1 if direction == "up" else index + 1
    if 0 <= other < len(siblings):
        siblings[index], siblings[other] = siblings[other], siblings[index]
    for position, sibling in enumerate(siblings):
        sibling.position = position
    PlanItem.objects.bulk_update(siblings, ["position"])
    _audit_item(actor, "plan.item_moved", item, direction=direction)
    item.position = next(s.position for s in siblings if s.pk == item.pk)
    return item


@transaction.atomic
def plan_item_remove(*, actor: User, item: PlanItem) -> None:
    """Afterwards the item is no longer in the plan. Assignments are removed by the host."""
    item = _lock_item(item)
    member = require_writer(actor, item.plan.connection)
    if item.kind == PlanItemKind.ASSIGNMENT and not is_host(member):
        raise PermissionDenied("The host removes the assignments they offered.")
    _audit_item(actor, "plan.item_removed", item, title=item.title)
    item.delete()


# --- job-shadowing assignments ----------------------------------------------------------------
@transaction.atomic
def assignment_create(
    *,
    actor: User,
    connection: Connection,
    title: str,
    effort_hours: Any,
    due_on: date,
    learning_goal: str,
    description: str = "",
) -> PlanItem:
    """Afterwards the shadowing plan holds a new low-risk assignment from the host: the task,
    the expected effort, the due date and what the shadow should learn."""
    connection = lock_connection(connection)
    member = require_writer(actor, connection)
    if connection.kind != ConnectionKind.SHADOWING:
        raise ApplicationError("Assignments belong to job-shadowing placements.")
    if not is_host(member):
        raise PermissionDenied("The host offers assignments.")
    effort = _clean_effort(effort_hours)
    if effort is None:
        raise ApplicationError("Say how many hours it should take.", field="effort_hours")
    due = _clean_due(due_on, allow_past=False)
    if due is None:
        raise ApplicationError("Give a due date.", field="due_on")
    plan = _own_plan(actor, connection)
    last = plan.items.aggregate(last=Max("position"))["last"]
    item = PlanItem(
        plan=plan,
        kind=PlanItemKind.ASSIGNMENT,
        title=clean_text(title, field="title", label="The task", max_length=200, required=True),
        description=clean_text(
            description,
            field="description",
            label="The description",
            max_length=2000,
            required=False,
        ),
        effort_hours=effort,
        due_on=due,
        learning_goal=clean_text(
            learning_goal,
            field="learning_goal",
            label="What the shadow should learn",
            max_length=1000,
            required=True,
        ),
        for_role=ParticipantRole.SHADOW,
        position=(last + 1) if last is not None else 0,
        created_by=actor,
    )
    full_clean(item, exclude=["plan", "done_by", "created_by"])
    item.save()
    plan.connection = connection
    item.plan = plan
    _audit_item(actor, "assignment.created", item)
    return item


def _lock_assignment(item: PlanItem) -> PlanItem:
    item = _lock_item(item)
    if item.kind != PlanItemKind.ASSIGNMENT:
        raise ApplicationError("Only assignments take a reflection and feedback.")
    return item


@transaction.atomic
def assignment_reflect(*, actor: User, item: PlanItem, reflection: str) -> PlanItem:
    """Afterwards the assignment is done and carries the shadow's reflection (which they may
    rewrite until the host has answered it)."""
    item = _lock_assignment(item)
    member = require_writer(actor, item.plan.connection)
    if not is_shadow(member):
        raise PermissionDenied("The shadow reflects on an assignment.")
    if item.feedback:
        raise ApplicationError("The host has already answered your reflection.")
    now = timezone.now()
    item.reflection = clean_text(
        reflection, field="reflection", label="Your reflection", max_length=4000, required=True
    )
    item.reflected_at = now
    if not item.is_done:
        item.is_done, item.done_at, item.done_by = True, now, actor
    item.save(
        update_fields=["reflection", "reflected_at", "is_done", "done_at", "done_by", "updated_at"]
    )
    _audit_item(actor, "assignment.reflected", item)
    return item


@transaction.atomic
def assignment_feedback(*, actor: User, item: PlanItem, feedback: str) -> PlanItem:
    """Afterwards the host's feedback answers the shadow's reflection."""
    item = _lock_assignment(item)
    member = require_writer(actor, item.plan.connection)
    if not is_host(member):
        raise PermissionDenied("The host gives feedback on an assignment.")
    if not item.reflection:
        raise ApplicationError("Feedback follows the shadow's reflection: none yet.")
    item.feedback = clean_text(
        feedback, field="feedback", label="Your feedback", max_length=4000, required=True
    )
    item.feedback_at = timezone.now()
    item.save(update_fields=["feedback", "feedback_at", "updated_at"])
    _audit_item(actor, "assignment.feedback_given", item)
    return item
