"""Configuration only. Notifications and digests are people's own messages: the admin does
not list them (support questions are answered from the audit trail and the mail log)."""

from django.contrib import admin
from django.http import HttpRequest

from peermentor.notifications.models import NudgeSettings


@admin.register(NudgeSettings)
class NudgeSettingsAdmin(admin.ModelAdmin):
    list_display = ["program", "stalled_after_days", "ending_soon_days", "waiting_after_days"]
    search_fields = ["program__name"]

    def has_add_permission(self, request: HttpRequest, obj: NudgeSettings | None = None) -> bool:
        # Settings are written through the program's reminder page, which audits the change.
        return False

    def has_change_permission(self, request: HttpRequest, obj: NudgeSettings | None = None) -> bool:
        return False
