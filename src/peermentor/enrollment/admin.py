"""Read-only admin: enrollment changes go through the services, which audit them and keep
readiness in step; an edit here would bypass both."""

from django.contrib import admin
from django.http import HttpRequest

from peermentor.enrollment.models import Invitation, Participant


class ReadOnlyAdmin(admin.ModelAdmin):
    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Participant)
class ParticipantAdmin(ReadOnlyAdmin):
    list_display = ["person", "program", "track", "role", "status", "ready_at", "enrolled_at"]
    list_filter = ["status", "role", "program"]
    search_fields = ["person__full_name", "person__email"]
    list_select_related = ["person", "program", "track"]
    # No answers inline: they are shown to the participant and their program managers only.


@admin.register(Invitation)
class InvitationAdmin(ReadOnlyAdmin):
    list_display = ["person", "program", "track", "sent_at", "emailed_at", "accepted_at"]
    list_filter = ["program"]
    search_fields = ["person__full_name", "person__email"]
    list_select_related = ["person", "program", "track"]
