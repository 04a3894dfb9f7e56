from typing import cast

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from peermentor.accounts.models import User
from peermentor.people.models import Department, ImportBatch, JobChange, Person, Site, Skill
from peermentor.people.selectors import reporting_chain_ids
from peermentor.people.services import person_job_change_record


class PersonAdminForm(forms.ModelForm):
    """The import rejects manager cycles; a hand edit in the admin must not bring one in."""

    class Meta:
        model = Person
        fields = [
            "external_id",
            "full_name",
            "email",
            "department",
            "job_title",
            "level",
            "site",
            "time_zone",
            "manager",
            "hire_date",
            "leaving_date",
            "languages",
            "is_active",
            "user",
        ]

    def clean_manager(self) -> Person | None:
        manager: Person | None = self.cleaned_data.get("manager")
        if manager is not None and self.instance.pk is not None:
            if manager.pk == self.instance.pk:
                raise forms.ValidationError("A person cannot be their own manager.")
            if self.instance.pk in reporting_chain_ids(manager):
                raise forms.ValidationError(
                    f"{manager} reports to this person already; the managers would form a cycle."
                )
        return manager


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    search_fields = ["name"]


@admin.register(Site)
class SiteAdmin(admin.ModelAdmin):
    list_display = ["name", "time_zone"]
    search_fields = ["name"]


@admin.register(Skill)
class SkillAdmin(admin.ModelAdmin):
    list_display = ["name", "category"]
    list_filter = ["category"]
    search_fields = ["name", "category"]


JOB_CHANGE_FIELDS = [
    "changed_on",
    "department_before",
    "department_after",
    "job_title_before",
    "job_title_after",
    "level_before",
    "level_after",
    "site_before",
    "site_after",
]


class JobChangeInline(admin.TabularInline):
    """The person's job history, read-only here: edits of the person's job below record it."""

    model = JobChange
    fields = [*JOB_CHANGE_FIELDS, "source"]
    readonly_fields = [*JOB_CHANGE_FIELDS, "source"]
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Person)
class PersonAdmin(admin.ModelAdmin):
    form = PersonAdminForm
    inlines = [JobChangeInline]
    list_display = [
        "full_name",
        "external_id",
        "email",
        "department",
        "level",
        "site",
        "manager",
        "is_active",
    ]
    list_filter = ["is_active", "department", "site", "level"]
    search_fields = ["full_name", "email", "external_id"]
    list_select_related = ["department", "site", "manager"]
    raw_id_fields = ["manager", "user"]
    readonly_fields = ["created_at", "updated_at"]
    show_full_result_count = False

    def save_model(
        self, request: HttpRequest, obj: Person, form: forms.ModelForm[Person], change: bool
    ) -> None:
        # A hand edit of the department, job title or level is a job change like an import's.
        if change:
            before = Person.objects.select_related("department", "site").get(pk=obj.pk)
            # The admin lets only signed-in staff this far.
            person_job_change_record(actor=cast(User, request.user), before=before, after=obj)
        super().save_model(request, obj, form, change)


@admin.register(JobChange)
class JobChangeAdmin(admin.ModelAdmin):
    """Job history: add a change the HR import never saw (source "manual")."""

    list_display = ["person", "changed_on", "department_after", "job_title_after", "source"]
    list_filter = ["source"]
    list_select_related = ["person"]
    search_fields = ["person__full_name", "person__external_id"]
    raw_id_fields = ["person"]
    fields = ["person", *JOB_CHANGE_FIELDS, "source", "import_batch", "recorded_by", "recorded_at"]
    readonly_fields = ["source", "import_batch", "recorded_by", "recorded_at"]

    def save_model(
        self, request: HttpRequest, obj: JobChange, form: forms.ModelForm[JobChange], change: bool
    ) -> None:
        if not change:
            obj.recorded_by = cast(User, request.user)
        super().save_model(request, obj, form, change)


@admin.register(ImportBatch)
class ImportBatchAdmin(admin.ModelAdmin):
    """A record of imports: read-only, and without the stored rows, which can be megabytes."""

    list_display = ["file_name", "status", "row_count", "created_by", "created_at", "applied_at"]
    list_filter = ["status"]
    list_select_related = ["created_by"]
    exclude = ["rows"]
    readonly_fields = [
        "file_name",
        "file_format",
        "status",
        "row_count",
        "columns",
        "errors",
        "warnings",
        "preview",
        "deactivate_missing",
        "created_by",
        "created_at",
        "applied_by",
        "applied_at",
        "summary",
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[ImportBatch]:
        return super().get_queryset(request).defer("rows")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
