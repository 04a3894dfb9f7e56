"""Only configuration is in the Django admin. Notes, circle posts, check-ins, meetings and
feeds are deliberately absent: they belong to the connection's members, and administrators
must not read them here either (tests/engagement/test_notes_privacy.py checks it)."""

from django.contrib import admin

from peermentor.engagement.models import PlanTemplate, PlanTemplateItem


class PlanTemplateItemInline(admin.TabularInline):
    model = PlanTemplateItem
    extra = 0
    fields = ["position", "kind", "title", "due_after_days", "for_role", "effort_hours"]


@admin.register(PlanTemplate)
class PlanTemplateAdmin(admin.ModelAdmin):
    list_display = ["name", "program", "kind"]
    list_filter = ["kind"]
    search_fields = ["name", "program__name"]
    inlines = [PlanTemplateItemInline]
