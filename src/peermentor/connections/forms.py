from typing import Any, cast

from django import forms

from peermentor.connections.models import ConnectionKind, ConnectionStatus, EndReason
from peermentor.connections.services import COMPLETE_REASONS, EARLY_CLOSE_REASONS

RATING_CHOICES = [
    (5, "5: Excellent"),
    (4, "4: Good"),
    (3, "3: Okay"),
    (2, "2: Poor"),
    (1, "1: Very poor"),
]


def _reason_choices(values: tuple[str, ...]) -> list[tuple[str, str]]:
    return [(value, EndReason(value).label) for value in values]


class CompleteForm(forms.Form):
    reason_code = forms.ChoiceField(
        label="How did it end?", choices=_reason_choices(COMPLETE_REASONS)
    )
    reason_text = forms.CharField(
        label="Anything to add (optional)",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class CloseEarlyForm(forms.Form):
    reason_code = forms.ChoiceField(
        label="Why is it closing early?",
        choices=[("", "Choose a reason"), *_reason_choices(EARLY_CLOSE_REASONS)],
        error_messages={"required": "Choose why the connection is closing."},
    )
    reason_text = forms.CharField(
        label="In a few words",
        required=False,
        max_length=2000,
        help_text="Needed when the reason is “Other”. Your partner can read it.",
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class ExtendForm(forms.Form):
    planned_end_on = forms.DateField(
        label="New planned end",
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": "Enter a date such as 2026-12-31."},
    )
    reason = forms.CharField(
        label="Why extend it?", max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )


class ReflectionForm(forms.Form):
    went_well = forms.CharField(
        label="What went well?", max_length=5000, widget=forms.Textarea(attrs={"rows": 4})
    )
    learned = forms.CharField(
        label="What did you learn?", max_length=5000, widget=forms.Textarea(attrs={"rows": 4})
    )
    rating = forms.TypedChoiceField(
        label="How would you rate this connection overall?",
        choices=RATING_CHOICES,
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={"required": "Rate it from 1 to 5."},
    )
    may_quote = forms.BooleanField(
        label="The program team may quote this reflection, without my name, in the program report",
        required=False,
        help_text="Nobody else reads it: not your partner, not the program managers.",
    )


class PersonChoiceForm(forms.Form):
    """Choose one of the connection's other members."""

    def __init__(self, *args: Any, people: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["person"] = forms.TypedChoiceField(
            label="Who?", choices=people, coerce=int, empty_value=None
        )
        self.order_fields(["person"])


class BlockForm(PersonChoiceForm):
    reason = forms.CharField(
        label="Why (optional; only the program team can read it)",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class ReportForm(PersonChoiceForm):
    text = forms.CharField(
        label="What happened?",
        max_length=5000,
        help_text="Only organisation admins and this program's managers read reports.",
        widget=forms.Textarea(attrs={"rows": 5}),
    )


class ReviewForm(forms.Form):
    note = forms.CharField(
        label="What was done (optional)",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class ConnectionFilterForm(forms.Form):
    """Filters of the program's connection list; bad values are ignored, never an error page."""

    q = forms.CharField(label="Member name", required=False, max_length=100)
    status = forms.ChoiceField(
        label="Status", required=False, choices=[("", "Any"), *ConnectionStatus.choices]
    )
    kind = forms.ChoiceField(
        label="Kind", required=False, choices=[("", "Any"), *ConnectionKind.choices]
    )
    track = forms.TypedChoiceField(label="Track", required=False, coerce=int, empty_value=None)

    def __init__(self, *args: Any, tracks: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.TypedChoiceField, self.fields["track"]).choices = [("", "Any"), *tracks]
        if not tracks:
            del self.fields["track"]

    def filters(self) -> dict[str, Any]:
        self.is_valid()  # cleaned_data keeps the valid filters and drops the bad ones
        data = self.cleaned_data
        return {
            "search": (data.get("q") or "").strip(),
            "status": data.get("status") or None,
            "kind": data.get("kind") or None,
            "track_id": data.get("track"),
        }
