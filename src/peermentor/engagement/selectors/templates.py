"""Plan templates of a program, for its managers."""

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from django.http import Http404

from peermentor.accounts.models import User
from peermentor.connections.models import ConnectionKind
from peermentor.connections.services import KINDS_BY_FORMAT
from peermentor.engagement.health import CHECK_IN_EVERY_DAYS, FIRST_CHECK_IN_AFTER_DAYS
from peermentor.engagement.models import EngagementSettings, PlanTemplate, PlanTemplateItem
from peermentor.programs.models import Program
from peermentor.programs.permissions import can_manage_program


@dataclass
class TemplatesPage:
    program: Program
    templates: list[PlanTemplate]
    missing_kinds: list[tuple[str, str]]
    first_check_in_after_days: int
    check_in_every_days: int


def plan_templates_page(*, viewer: User, program: Program) -> TemplatesPage:
    """The program's plan templates with their items, the kinds still on the shipped default,
    and the check-in rhythm. Managers only (PermissionDenied otherwise)."""
    if not can_manage_program(viewer, program):
        raise PermissionDenied("Only the program's managers see its plan templates.")
    templates = list(
        PlanTemplate.objects.filter(program=program)
        .prefetch_related(
            Prefetch("items", queryset=PlanTemplateItem.objects.order_by("position", "id"))
        )
        .order_by("kind")
    )
    have = {t.kind for t in templates}
    kinds = KINDS_BY_FORMAT.get(program.format, (ConnectionKind.PAIR,))
    settings = EngagementSettings.objects.filter(program=program).first()
    return TemplatesPage(
        program=program,
        templates=templates,
        missing_kinds=[(k, ConnectionKind(k).label) for k in kinds if k not in have],
        first_check_in_after_days=(
            settings.first_check_in_after_days if settings else FIRST_CHECK_IN_AFTER_DAYS
        ),
        check_in_every_days=settings.check_in_every_days if settings else CHECK_IN_EVERY_DAYS,
    )


def get_template_for(*, program: Program, pk: Any) -> PlanTemplate:
    """The program's template `pk` (the caller checked the viewer manages `program`)."""
    template = PlanTemplate.objects.filter(program=program, pk=pk).first()
    if template is None:
        raise Http404("No such template.")
    return template


def get_template_item_for(*, viewer: User, pk: Any) -> PlanTemplateItem:
    try:
        item = PlanTemplateItem.objects.select_related("template__program").get(pk=pk)
    except (PlanTemplateItem.DoesNotExist, ValueError, TypeError):
        raise Http404("Not found.") from None
    if not can_manage_program(viewer, item.template.program):
        raise Http404("Not found.")
    return item
