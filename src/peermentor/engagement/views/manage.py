"""Program managers' engagement settings: plan templates and the check-in rhythm."""

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from peermentor.accounts.http import AuthenticatedHttpRequest
from peermentor.core.forms import handle_form, run_action
from peermentor.engagement import selectors, services
from peermentor.engagement.forms import CheckInSettingsForm, TemplateItemForm
from peermentor.engagement.views._common import form_page
from peermentor.programs.permissions import get_program_for


def _templates_url(program_pk: int) -> str:
    return reverse("plan_templates", args=[program_pk])


@login_required
@require_GET
def plan_templates(request: AuthenticatedHttpRequest, program_pk: int) -> HttpResponse:
    program = get_program_for(request.user, program_pk, write=True)
    page = selectors.plan_templates_page(viewer=request.user, program=program)
    return render(request, "engagement/plan_templates.html", {"page": page})


@login_required
@require_POST
def plan_templates_defaults(request: AuthenticatedHttpRequest, program_pk: int) -> HttpResponse:
    program = get_program_for(request.user, program_pk, write=True)
    return run_action(
        request,
        lambda: services.plan_templates_ensure_defaults(program=program, actor=request.user),
        success="Default plan templates added. Change them as you like.",
        next_url=_templates_url(program.pk),
    )


@login_required
@require_http_methods(["GET", "POST"])
def plan_template_item_add(
    request: AuthenticatedHttpRequest, program_pk: int, template_pk: int
) -> HttpResponse:
    program = get_program_for(request.user, program_pk, write=True)
    template = selectors.get_template_for(program=program, pk=template_pk)
    form = TemplateItemForm(request.POST or None)
    done = handle_form(
        request,
        form,
        lambda data: services.plan_template_item_add(actor=request.user, template=template, **data),
        success="Item added to the template. New connections get it.",
        next_url=_templates_url(program.pk),
    )
    return done or form_page(
        request,
        form=form,
        title=f"Add to “{template.name}”",
        intro="Connections that already started keep their own plans.",
        submit="Add",
        back_url=_templates_url(program.pk),
    )


@login_required
@require_POST
def plan_template_item_remove(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    item = selectors.get_template_item_for(viewer=request.user, pk=pk)
    program_pk = item.template.program_id
    return run_action(
        request,
        lambda: services.plan_template_item_remove(actor=request.user, item=item),
        success="Item removed from the template.",
        next_url=_templates_url(program_pk),
    )


@login_required
@require_http_methods(["GET", "POST"])
def check_in_settings(request: AuthenticatedHttpRequest, program_pk: int) -> HttpResponse:
    program = get_program_for(request.user, program_pk, write=True)
    page = selectors.plan_templates_page(viewer=request.user, program=program)
    form = CheckInSettingsForm(
        request.POST or None,
        initial={
            "first_check_in_after_days": page.first_check_in_after_days,
            "check_in_every_days": page.check_in_every_days,
        },
    )
    done = handle_form(
        request,
        form,
        lambda data: services.engagement_settings_update(
            actor=request.user, program=program, **data
        ),
        success="Check-in rhythm saved.",
        next_url=_templates_url(program.pk),
    )
    return done or form_page(
        request,
        form=form,
        title="Check-in rhythm",
        intro="When members are asked how their connection is going.",
        submit="Save",
        back_url=_templates_url(program.pk),
    )
