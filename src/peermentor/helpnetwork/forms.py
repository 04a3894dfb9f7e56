"""Forms of the help-network pages. They parse input; the services validate what matters."""

from django import forms

from peermentor.helpnetwork.models import DESCRIPTION_MAX_LENGTH, MESSAGE_MAX_LENGTH
from peermentor.helpnetwork.services import DEFAULT_EXPIRY_DAYS, EXPIRY_CHOICES_DAYS
from peermentor.people.models import Skill

TIME_INPUT = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


def _time_field(number: int) -> forms.DateTimeField:
    # Django reads the value in the viewer's zone (the middleware activates it) and refuses an
    # hour skipped by a clock change with a field error.
    return forms.DateTimeField(
        label=f"A time that suits you ({number}, optional)",
        required=False,
        widget=TIME_INPUT,
        help_text="In your own time zone." if number == 1 else "",
    )


class AskForm(forms.Form):
    skill = forms.ModelChoiceField(
        label="Topic",
        queryset=Skill.objects.order_by("name"),
        empty_label="Choose a topic",
        help_text="From the organisation's skill list: people who offered it are suggested.",
    )
    description = forms.CharField(
        label="What do you need help with?",
        max_length=DESCRIPTION_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="A few sentences: what you are trying to do and where you are stuck.",
    )
    time_1 = _time_field(1)
    time_2 = _time_field(2)
    time_3 = _time_field(3)
    expires_in_days = forms.TypedChoiceField(
        label="Keep the ask open for",
        coerce=int,
        choices=[(days, f"{days} days") for days in EXPIRY_CHOICES_DAYS],
        initial=DEFAULT_EXPIRY_DAYS,
    )

    def preferred_times(self) -> list:
        return [
            self.cleaned_data[name]
            for name in ("time_1", "time_2", "time_3")
            if self.cleaned_data.get(name)
        ]


class OfferForm(forms.Form):
    message = forms.CharField(
        label="A note to the asker (optional)",
        required=False,
        max_length=MESSAGE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="How you can help, or when you are free.",
    )


class InviteForm(forms.Form):
    helper = forms.IntegerField(widget=forms.HiddenInput)


class ThankForm(forms.Form):
    message = forms.CharField(
        label="Your thank-you",
        max_length=MESSAGE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="What helped? Your helper will see it.",
    )


class CloseForm(forms.Form):
    reason = forms.CharField(
        label="Why are you closing it? (optional)",
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class AnswerForm(forms.Form):
    accept = forms.TypedChoiceField(
        label="Keep meeting?",
        choices=[("yes", "Yes, let's keep meeting"), ("no", "No, thank you")],
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
    )
