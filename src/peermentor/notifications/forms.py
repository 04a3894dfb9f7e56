"""Forms of the notification pages: they parse input; the services validate what matters."""

from typing import Any, cast

from django import forms
from django.core.validators import BaseValidator
from django.db.models import Field

from peermentor.notifications.models import (
    DigestFrequency,
    NotificationKind,
    NudgeSettings,
)


class PreferencesForm(forms.Form):
    digest_frequency = forms.ChoiceField(
        label="How often may we e-mail you?",
        choices=DigestFrequency.choices,
        widget=forms.RadioSelect,
        help_text="Everything new goes into one e-mail. The notification centre always has it all.",
    )
    email_kinds = forms.MultipleChoiceField(
        label="What should the e-mail include?",
        choices=NotificationKind.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )


def _days_field(name: str, label: str) -> forms.IntegerField:
    field = cast("Field[Any, Any]", NudgeSettings._meta.get_field(name))
    low, high = (cast(BaseValidator, validator).limit_value for validator in field.validators[:2])
    return forms.IntegerField(label=label, min_value=low, max_value=high, help_text=field.help_text)


class NudgeSettingsForm(forms.Form):
    stalled_after_days = _days_field("stalled_after_days", "Days without a meeting")
    ending_soon_days = _days_field("ending_soon_days", "Days before the planned end")
    waiting_after_days = _days_field("waiting_after_days", "Days a request may wait")
