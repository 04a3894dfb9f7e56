from datetime import date
from typing import Any

from django import forms

from peermentor.programs.models import Program, Track

EARLIEST = date(2000, 1, 1)
LATEST = date(2199, 12, 31)


class DashboardFilterForm(forms.Form):
    """Track and period filters (GET). Bad values are reported beside their field and the page
    shows the figures without that filter, so nothing typed is lost and nothing fails."""

    track = forms.ModelChoiceField(
        queryset=Track.objects.none(), required=False, empty_label="All tracks"
    )
    start = forms.DateField(
        required=False,
        label="From",
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Enrolled, invited or connected on or after this day.",
    )
    end = forms.DateField(
        required=False,
        label="To",
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Up to and including this day.",
    )

    def __init__(self, *args: Any, program: Program, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        track_field = self.fields["track"]
        assert isinstance(track_field, forms.ModelChoiceField)
        track_field.queryset = Track.objects.filter(program=program).order_by("name")

    def _clean_day(self, name: str) -> date | None:
        day: date | None = self.cleaned_data.get(name)
        # Days far from now cannot be turned into times (year 1 or 9999 overflow) and mean
        # nothing for a program: refuse them with a message rather than fail.
        if day is not None and not (EARLIEST <= day <= LATEST):
            raise forms.ValidationError(
                f"Choose a day between {EARLIEST.year} and {LATEST.year}.", code="out_of_range"
            )
        return day

    def clean_start(self) -> date | None:
        return self._clean_day("start")

    def clean_end(self) -> date | None:
        return self._clean_day("end")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end and end < start:
            self.add_error("end", "The end date must be on or after the start date.")
        return cleaned

    def filters(self) -> dict[str, Any]:
        """The valid filters as keyword arguments for `scope_for` (invalid ones dropped)."""
        self.is_valid()
        cleaned = getattr(self, "cleaned_data", {})
        start: date | None = cleaned.get("start") if "start" not in self.errors else None
        end: date | None = cleaned.get("end") if "end" not in self.errors else None
        track = cleaned.get("track") if "track" not in self.errors else None
        return {"track": track, "start_on": start, "end_on": end}
