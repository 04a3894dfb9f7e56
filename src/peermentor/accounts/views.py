from allauth.account.internal.flows.login import perform_password_login
from allauth.account.models import Login
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordResetForm
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render

from peermentor.accounts.forms import (
    PreferencesForm,
    SignInForm,
    SignInPolicyForm,
    is_password_sign_in_allowed,
)
from peermentor.accounts.http import AuthenticatedHttpRequest
from peermentor.accounts.selectors import sign_in_policy
from peermentor.accounts.services import (
    ResetDecision,
    password_reset_request_record,
    sign_in_policy_update,
    user_update_preferences,
)
from peermentor.core.addresses import client_address
from peermentor.core.forms import handle_form
from peermentor.core.permissions import require


class SignInView(auth_views.LoginView):
    """The one sign-in page: e-mail and password (checked by Django's backends behind the
    lockout), and a button per single sign-on provider. A correct password goes through
    django-allauth's login flow, so a second factor is asked for when the account has one."""

    form_class = SignInForm
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs: object) -> dict[str, object]:
        context = super().get_context_data(**kwargs)
        context["is_sso_only"] = settings.PEERMENTOR_SSO_ONLY
        return context

    def form_valid(self, form: SignInForm) -> HttpResponse:  # type: ignore[override]
        user = form.get_user()
        login = Login(user=user, redirect_url=self.get_success_url(), email=user.email)
        return perform_password_login(self.request, {"email": user.email}, login)


class ThrottledPasswordResetView(auth_views.PasswordResetView):
    """Django's reset page, sending at most a few links per e-mail address and per client an
    hour (accounts.services.password_reset_request_record); in SSO-only mode, links go only to
    the break-glass admin."""

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
        if decision is ResetDecision.EMAIL_LIMITED or not is_password_sign_in_allowed(
            form.cleaned_data["email"]
        ):
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


@login_required
def sign_in_policy_edit(request: AuthenticatedHttpRequest) -> HttpResponse:
    require(request.user.is_org_admin, "Only organisation admins change the sign-in policy.")
    policy = sign_in_policy()
    form = SignInPolicyForm(
        request.POST or None,
        initial={"is_mfa_required_for_staff": policy.is_mfa_required_for_staff},
    )
    response = handle_form(
        request,
        form,
        lambda data: sign_in_policy_update(actor=request.user, **data),
        success="Sign-in policy saved.",
        next_url="sign_in_policy",
    )
    return response or render(
        request,
        "accounts/sign_in_policy.html",
        {
            "form": form,
            "is_sso_only": settings.PEERMENTOR_SSO_ONLY,
            "provider_count": len(settings.SSO_PROVIDER_ORIGINS),
        },
    )
