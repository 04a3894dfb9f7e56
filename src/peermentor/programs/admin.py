"""Django admin for support staff: read-mostly. Status changes and set-up go through the app's
pages, where services validate and record them; the admin can't change a program's status."""

from django.contrib import admin

from peermentor.programs.models import (
    ProfileQuestion,
    Program,
    ProgramManager,
    Track,
    TrainingModule,
)


class TrackInline(admin.TabularInline):
    model = Track
    extra = 0
    fields = ["name", "description"]


class ProgramManagerInline(admin.TabularInline):
    model = ProgramManager
    extra = 0
    raw_id_fields = ["user"]
    readonly_fields = ["added_at"]


class ProfileQuestionInline(admin.TabularInline):
    model = ProfileQuestion
    extra = 0
    fields = ["position", "key", "label", "kind", "is_required"]


class TrainingModuleInline(admin.TabularInline):
    model = TrainingModule
    extra = 0
    fields = ["position", "title", "kind", "is_required"]


@admin.register(Program)
class ProgramAdmin(admin.ModelAdmin):
    list_display = ["name", "format", "status", "enrollment_opens_on", "starts_on", "created_at"]
    list_filter = ["status", "format"]
    search_fields = ["name", "sponsor"]
    readonly_fields = ["status", "created_by", "created_at", "updated_at"]
    inlines = [TrackInline, ProgramManagerInline, ProfileQuestionInline, TrainingModuleInline]
