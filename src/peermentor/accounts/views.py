from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordResetForm
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render

from peermentor.accounts.forms import PreferencesForm
from peermentor.accounts.http import AuthenticatedHttpRequest
from peermentor.accounts.services import (
    ResetDecision,
    password_reset_request_record,
    user_update_preferences,
)
from peermentor.core.addresses import client_address


class ThrottledPasswordResetView(auth_views.PasswordResetView):
    """Django's reset page, sending at most a few links per e-mail address and per client an
    hour (accounts.services.password_reset_request_record)."""

    def form_valid(self, form: PasswordResetForm) -> HttpResponse:
        decision = password_reset_request_record(
            email=form.cleaned_data["email"], client_address=client_address(self.request)
        )
        if decision is ResetDecision.CLIENT_LIMITED:
            return render(
                self.request,
                "registration/password_reset_form.html",
                {"form": form, "is_throttled": True},
                status=429,
            )
        if decision is ResetDecision.EMAIL_LIMITED:
            # The same answer as a sent link: the page tells nobody about the address.
            return HttpResponseRedirect(self.get_success_url())
        return super().form_valid(form)


@login_required
def preferences(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = PreferencesForm(request.POST or None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        user_update_preferences(actor=request.user, **form.cleaned_data)
        messages.success(request, "Preferences saved.")
        return redirect("preferences")
    return render(request, "accounts/preferences.html", {"form": form})
