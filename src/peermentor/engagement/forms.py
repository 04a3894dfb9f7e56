"""Forms of the engagement pages. They parse input; the services validate what matters."""

from datetime import datetime
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.forms.fields import BaseTemporalField
from django.utils.dateparse import parse_datetime

from peermentor.engagement.models import (
    NOTE_MAX_LENGTH,
    POST_MAX_LENGTH,
    ROLE_CHOICES,
    NoteVisibility,
    PlanItemKind,
)

DURATION_CHOICES = [
    (15, "15 minutes"),
    (30, "30 minutes"),
    (45, "45 minutes"),
    (60, "1 hour"),
    (90, "1 hour 30 minutes"),
    (120, "2 hours"),
    (180, "3 hours"),
    (240, "4 hours"),
]
RATING_CHOICES = [
    (5, "5: Going very well"),
    (4, "4: Going well"),
    (3, "3: Okay"),
    (2, "2: Not so well"),
    (1, "1: Not well at all"),
]
# The service takes up to five; three fit on the page.
OPTIONS_SHOWN = 3
WALL_CLOCK_INPUT = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class WallClockField(forms.DateTimeField):
    """A date and time as the person typed it, WITHOUT attaching a zone: the service reads it
    in the zone it belongs to (Django's own field would use the active zone and refuse a
    skipped hour with a generic message)."""

    default_error_messages = {"invalid": "Enter a date and a time, such as 2027-03-29 10:00."}

    def to_python(self, value: Any) -> datetime | None:
        if value in self.empty_values:
            return None
        if isinstance(value, datetime):
            return value
        text = str(value).strip()
        try:
            parsed = parse_datetime(text)
        except ValueError:
            raise ValidationError(self.error_messages["invalid"], code="invalid") from None
        if parsed is not None:
            return parsed
        return BaseTemporalField.to_python(self, text)


def _duration_field(initial: int = 60) -> forms.TypedChoiceField:
    return forms.TypedChoiceField(
        label="How long", choices=DURATION_CHOICES, coerce=int, initial=initial
    )


class MeetingProposeForm(forms.Form):
    def __init__(self, *args: Any, zone_name: str = "UTC", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for number in range(1, OPTIONS_SHOWN + 1):
            self.fields[f"option_{number}"] = WallClockField(
                label=f"Time {number}" + ("" if number == 1 else " (optional)"),
                required=number == 1,
                widget=WALL_CLOCK_INPUT,
                help_text=f"In your time zone, {zone_name}." if number == 1 else "",
                error_messages={"required": "Give at least one time that suits you."},
            )
        self.fields["duration_minutes"] = _duration_field()
        self.fields["title"] = forms.CharField(
            label="Title (optional)", required=False, max_length=200
        )
        self.fields["location"] = forms.CharField(
            label="Place or video link (optional)", required=False, max_length=300
        )
        self.fields["agenda"] = forms.CharField(
            label="What you would like to talk about (optional)",
            required=False,
            max_length=2000,
            widget=forms.Textarea(attrs={"rows": 3}),
        )

    def service_arguments(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "options": [
                data[name]
                for name in sorted(self.fields)
                if name.startswith("option_") and data.get(name)
            ],
            "duration_minutes": data["duration_minutes"],
            "title": data["title"],
            "location": data["location"],
            "agenda": data["agenda"],
        }


class MeetingAcceptForm(forms.Form):
    option = forms.IntegerField(widget=forms.HiddenInput)


class MeetingRescheduleForm(forms.Form):
    starts_at = WallClockField(label="New time", widget=WALL_CLOCK_INPUT)
    duration_minutes = _duration_field()
    location = forms.CharField(label="Place or video link", required=False, max_length=300)


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label="Reason (optional)",
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class OutcomeForm(forms.Form):
    happened = forms.TypedChoiceField(
        label="Did the meeting happen?",
        choices=[("yes", "Yes, we met"), ("no", "No, it did not happen")],
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
    )


class PlanItemForm(forms.Form):
    kind = forms.ChoiceField(
        label="Kind",
        choices=[
            (PlanItemKind.GOAL, PlanItemKind.GOAL.label),
            (PlanItemKind.MILESTONE, PlanItemKind.MILESTONE.label),
            (PlanItemKind.TASK, PlanItemKind.TASK.label),
        ],
        initial=PlanItemKind.TASK,
    )
    title = forms.CharField(label="Title", max_length=200)
    description = forms.CharField(
        label="Details (optional)",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    due_on = forms.DateField(label="Due (optional)", required=False, widget=DATE_INPUT)


class PlanItemEditForm(forms.Form):
    title = forms.CharField(label="Title", max_length=200)
    description = forms.CharField(
        label="Details (optional)",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    due_on = forms.DateField(label="Due (optional)", required=False, widget=DATE_INPUT)


class AssignmentForm(forms.Form):
    title = forms.CharField(label="The task", max_length=200)
    description = forms.CharField(
        label="Details (optional)",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Keep it low-risk: no customer or production impact.",
    )
    effort_hours = forms.DecimalField(
        label="Expected effort (hours)", min_value=0.5, max_value=200, decimal_places=1
    )
    due_on = forms.DateField(label="Due", widget=DATE_INPUT)
    learning_goal = forms.CharField(
        label="What the shadow should learn",
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class ReflectionForm(forms.Form):
    reflection = forms.CharField(
        label="What you did, what you learned, what was hard",
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 5}),
    )


class FeedbackForm(forms.Form):
    feedback = forms.CharField(
        label="Your feedback: what went well, one thing to try next time",
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 5}),
    )


class NoteForm(forms.Form):
    body = forms.CharField(
        label="Note", max_length=NOTE_MAX_LENGTH, widget=forms.Textarea(attrs={"rows": 3})
    )
    visibility = forms.ChoiceField(
        label="Who can read it",
        choices=NoteVisibility.choices,
        initial=NoteVisibility.PRIVATE,
        widget=forms.RadioSelect,
        help_text="Program managers and administrators never see notes.",
    )


class CheckInForm(forms.Form):
    rating = forms.TypedChoiceField(
        label="How is it going?", choices=RATING_CHOICES, coerce=int, widget=forms.RadioSelect
    )
    comment = forms.CharField(
        label="Anything to add (optional)",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class SessionForm(forms.Form):
    title = forms.CharField(label="Title", max_length=200)
    starts_at = WallClockField(label="Date and time", widget=WALL_CLOCK_INPUT)
    duration_minutes = _duration_field()
    location = forms.CharField(label="Place (optional)", required=False, max_length=300)
    video_url = forms.CharField(label="Video link (optional)", required=False, max_length=500)
    capacity = forms.IntegerField(
        label="Seats (optional)", required=False, min_value=1, max_value=500
    )
    agenda = forms.CharField(
        label="Agenda (optional)",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class PostForm(forms.Form):
    body = forms.CharField(
        label="Your message", max_length=POST_MAX_LENGTH, widget=forms.Textarea(attrs={"rows": 3})
    )


class ResourceForm(forms.Form):
    title = forms.CharField(label="Title", max_length=200)
    url = forms.CharField(label="Web address", max_length=500)


class RsvpForm(forms.Form):
    is_attending = forms.TypedChoiceField(
        choices=[("yes", "Yes"), ("no", "No")], coerce=lambda value: value == "yes"
    )


class OpennessForm(forms.Form):
    is_open = forms.TypedChoiceField(
        choices=[("yes", "Open"), ("no", "Closed")], coerce=lambda value: value == "yes"
    )


class DirectionForm(forms.Form):
    direction = forms.ChoiceField(choices=[("up", "Up"), ("down", "Down")])


class DoneForm(forms.Form):
    is_done = forms.TypedChoiceField(
        choices=[("yes", "Done"), ("no", "Not done")], coerce=lambda value: value == "yes"
    )


class TemplateItemForm(forms.Form):
    kind = forms.ChoiceField(label="Kind", choices=PlanItemKind.choices)
    title = forms.CharField(label="Title", max_length=200)
    description = forms.CharField(
        label="Details (optional)",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    due_after_days = forms.IntegerField(
        label="Due after (days from the start, optional)",
        required=False,
        min_value=0,
        max_value=3650,
    )
    for_role = forms.ChoiceField(label="For", choices=ROLE_CHOICES, required=False)
    effort_hours = forms.DecimalField(
        label="Expected effort in hours (assignments, optional)",
        required=False,
        min_value=0.5,
        max_value=200,
        decimal_places=1,
    )
    learning_goal = forms.CharField(
        label="What the shadow should learn (assignments, optional)",
        required=False,
        max_length=1000,
    )


class CheckInSettingsForm(forms.Form):
    first_check_in_after_days = forms.IntegerField(
        label="First check-in after (days)", min_value=1, max_value=365
    )
    check_in_every_days = forms.IntegerField(label="Then every (days)", min_value=7, max_value=365)
