"""Read-only admin: every change goes through the services, which lock, check the placement
rules and audit; an edit here would bypass all three. Reflections are not registered at all:
only their authors read them."""

from django.contrib import admin
from django.http import HttpRequest

from peermentor.connections.models import Block, Connection, ConnectionMember, Report


class ReadOnlyMixin:
    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class ConnectionMemberInline(ReadOnlyMixin, admin.TabularInline):
    model = ConnectionMember
    fields = ["participant", "role", "is_current", "uses_capacity", "slot"]
    readonly_fields = ["participant", "role", "is_current", "uses_capacity", "slot"]
    extra = 0


@admin.register(Connection)
class ConnectionAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["pk", "program", "kind", "status", "source", "started_at", "planned_end_on"]
    list_filter = ["status", "kind", "source", "program"]
    list_select_related = ["program"]
    show_full_result_count = False
    inlines = [ConnectionMemberInline]


@admin.register(Block)
class BlockAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["blocker", "blocked", "program", "created_at"]
    list_select_related = ["blocker", "blocked", "program"]
    search_fields = ["blocker__full_name", "blocked__full_name"]


@admin.register(Report)
class ReportAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["reporter", "reported", "program", "status", "created_at"]
    list_filter = ["status", "program"]
    list_select_related = ["reporter", "reported", "program"]
