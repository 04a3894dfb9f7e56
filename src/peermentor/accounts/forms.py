import zoneinfo

from django import forms
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm

from peermentor.accounts.models import SignInPolicy, User

SSO_ONLY_MESSAGE = (
    "Password sign-in is turned off for this organisation: sign in with your organisation's "
    "account above."
)


class PreferencesForm(forms.ModelForm):
    time_zone = forms.ChoiceField(
        choices=[(name, name) for name in sorted(zoneinfo.available_timezones())],
        help_text="Times are shown in this zone.",
    )

    class Meta:
        model = User
        fields = ["full_name", "time_zone"]


def is_password_sign_in_allowed(email: str) -> bool:
    """In SSO-only mode only the break-glass admin signs in (or resets) with a password."""
    if not settings.PEERMENTOR_SSO_ONLY:
        return True
    break_glass = settings.PEERMENTOR_BREAK_GLASS_EMAIL
    return bool(break_glass) and email.strip().lower() == break_glass


class SignInForm(AuthenticationForm):
    """E-mail and password. The field is still posted as `username`, which the lockout
    (django-axes, accounts/lockout.py) counts failures under."""

    def clean(self) -> dict[str, object]:
        if not is_password_sign_in_allowed(self.data.get("username") or ""):
            # Refused before the password is checked: it is not a guess to count.
            raise forms.ValidationError(SSO_ONLY_MESSAGE, code="sso_only")
        return super().clean()


class SignInPolicyForm(forms.Form):
    is_mfa_required_for_staff = forms.BooleanField(
        label=SignInPolicy._meta.get_field("is_mfa_required_for_staff").verbose_name,
        help_text=SignInPolicy._meta.get_field("is_mfa_required_for_staff").help_text,
        required=False,
    )
