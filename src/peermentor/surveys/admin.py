"""Read-only admin. Every change goes through the services (permission, validation, audit).

Responses to anonymous surveys are not in the admin at all: the response admin's queryset holds
named responses only, so neither its list nor a hand-typed URL shows an anonymous one, and
answers have no admin of their own.
"""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from peermentor.surveys.models import (
    Survey,
    SurveyAnswer,
    SurveyInvitation,
    SurveyQuestion,
    SurveyResponse,
)


class ReadOnlyMixin:
    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class QuestionInline(ReadOnlyMixin, admin.TabularInline):
    model = SurveyQuestion
    fields = ["position", "key", "text", "kind", "choices", "is_required"]
    readonly_fields = ["position", "key", "text", "kind", "choices", "is_required"]
    extra = 0


@admin.register(Survey)
class SurveyAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["title", "program", "purpose", "status", "is_anonymous", "schedule"]
    list_filter = ["status", "purpose", "is_anonymous", "program"]
    list_select_related = ["program"]
    search_fields = ["title"]
    inlines = [QuestionInline]


@admin.register(SurveyInvitation)
class SurveyInvitationAdmin(ReadOnlyMixin, admin.ModelAdmin):
    # Not when anyone answered (answered_at): next to the results it would tell whose answer
    # moved them. Only the person sees their own.
    list_display = ["survey", "participant", "occurrence_key", "due_on", "closes_on"]
    exclude = ["answered_at"]
    list_filter = ["survey__program"]
    list_select_related = ["survey", "participant__person"]
    raw_id_fields = ["participant", "connection"]
    show_full_result_count = False


class NamedAnswerInline(ReadOnlyMixin, admin.TabularInline):
    model = SurveyAnswer
    fields = ["question", "number", "choice", "text"]
    readonly_fields = ["question", "number", "choice", "text"]
    extra = 0

    def get_queryset(self, request: HttpRequest) -> Any:
        return super().get_queryset(request).filter(response__is_anonymous=False)


@admin.register(SurveyResponse)
class NamedResponseAdmin(ReadOnlyMixin, admin.ModelAdmin):
    """Responses to surveys that are not anonymous, where people were told their name goes with
    their answers."""

    # No answer times here either (submitted_at, updated_at): see SurveyInvitationAdmin.
    list_display = ["survey", "participant"]
    list_select_related = ["survey", "participant__person"]
    fields = ["survey", "participant"]
    readonly_fields = ["survey", "participant"]
    inlines = [NamedAnswerInline]
    show_full_result_count = False

    def get_queryset(self, request: HttpRequest) -> Any:
        return super().get_queryset(request).filter(is_anonymous=False)
