from typing import Any, cast

from django import forms
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile

from peermentor.people.models import Department, Site

MAX_UPLOAD_BYTES = settings.FILE_UPLOAD_MAX_MEMORY_SIZE
STATUS_CHOICES = [("active", "Active"), ("inactive", "Inactive (left)"), ("all", "Everyone")]


class DirectoryFilterForm(forms.Form):
    q = forms.CharField(
        label="Search",
        required=False,
        max_length=200,
        help_text="Name, e-mail address or external id.",
    )
    department = forms.ModelChoiceField(
        queryset=Department.objects.order_by("name"),
        required=False,
        empty_label="All departments",
    )
    site = forms.ModelChoiceField(
        queryset=Site.objects.order_by("name"), required=False, empty_label="All sites"
    )
    level = forms.ChoiceField(required=False)
    status = forms.ChoiceField(choices=STATUS_CHOICES, required=False)

    def __init__(self, *args: Any, levels: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["level"]).choices = [
            ("", "All levels"),
            *((level, level) for level in levels),
        ]

    def filters(self) -> dict[str, Any]:
        """Selector arguments from the valid fields; an invalid one simply does not filter."""
        data: dict[str, Any] = {}
        if self.is_bound:
            self.is_valid()
            data = self.cleaned_data
        department, site = data.get("department"), data.get("site")
        status = data.get("status") or "active"
        return {
            "search": data.get("q", ""),
            "department_id": department.pk if department else None,
            "site_id": site.pk if site else None,
            "level": data.get("level", ""),
            "is_active": {"active": True, "inactive": False}.get(status),
        }


class ImportUploadForm(forms.Form):
    file = forms.FileField(
        label="HR export",
        help_text="A .csv (UTF-8) or .xlsx file with a header row.",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx,text/csv"}),
    )

    def clean_file(self) -> UploadedFile:
        upload: UploadedFile = self.cleaned_data["file"]
        if upload.size and upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(
                f"The file is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB."
            )
        return upload


class ImportApplyForm(forms.Form):
    deactivate_missing = forms.BooleanField(
        label="Deactivate active people who are not in this file (leavers)",
        required=False,
    )
