import zoneinfo

from django import forms

from peermentor.accounts.models import User


class PreferencesForm(forms.ModelForm):
    time_zone = forms.ChoiceField(
        choices=[(name, name) for name in sorted(zoneinfo.available_timezones())],
        help_text="Times are shown in this zone.",
    )

    class Meta:
        model = User
        fields = ["full_name", "time_zone"]
