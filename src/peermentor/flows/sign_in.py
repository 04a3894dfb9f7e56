"""Sign-in rules that span accounts, people and programs, as django-allauth adapters and one
middleware (settings: ACCOUNT_ADAPTER, SOCIALACCOUNT_ADAPTER, MIDDLEWARE).

- Single sign-on finds the person in the directory by e-mail: an active person gets (or is
  linked to) an account at their first sign-in; anyone else is refused with a page saying why.
- When the sign-in policy requires two-factor authentication for staff, an organisation admin
  or program manager without a second factor is sent to set one up at sign-in, and can open
  nothing else until they have.
"""

import time
from collections.abc import Callable
from typing import Any

from allauth.account import app_settings as account_settings
from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.internal.flows.login import get_authentication_records
from allauth.core import context
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.mfa.utils import is_mfa_enabled
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from allauth.socialaccount.models import SocialLogin
from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from peermentor.accounts.models import User
from peermentor.accounts.selectors import sign_in_policy
from peermentor.core.services import audit_record
from peermentor.people.models import Person
from peermentor.programs.models import ProgramManager


class SignInRefused(Exception):
    """Single sign-on worked, but the person may not use Peermentor."""


NOT_IN_DIRECTORY = "this address is not in the organisation's directory."
LEFT = "the directory lists you as having left the organisation."
DISABLED = "your Peermentor account is disabled."


@transaction.atomic
def sso_account_for(*, email: str) -> User:
    """The account of the active directory person with this e-mail address, created (with no
    password) and linked to the person at their first single sign-on. Raises SignInRefused
    for an address the directory does not know, a leaver, or a disabled account."""
    person = (
        Person.objects.select_for_update(of=("self",))
        .select_related("user")
        .filter(email__iexact=email.strip())
        .first()
    )
    if person is None:
        raise SignInRefused(NOT_IN_DIRECTORY)
    if not person.is_active:
        raise SignInRefused(LEFT)
    user = person.user or User.objects.filter(email__iexact=person.email).first()
    if user is None:
        user = User.objects.create_user(
            person.email, full_name=person.full_name, time_zone=person.time_zone or "UTC"
        )
        audit_record(actor=user, action="user.created_by_sso", target=user)
    if not user.is_active:
        raise SignInRefused(DISABLED)
    if person.user_id != user.pk:
        if Person.objects.filter(user=user).exclude(pk=person.pk).exists():
            raise SignInRefused("this account belongs to someone else in the directory.")
        person.user = user
        person.save(update_fields=["user", "updated_at"])
        audit_record(actor=user, action="person.account_linked", target=person)
    return user


def _refusal(request: HttpRequest, email: str, reason: str) -> HttpResponse:
    return render(
        request, "accounts/sso_refused.html", {"email": email, "reason": reason}, status=403
    )


class DirectorySocialAccountAdapter(DefaultSocialAccountAdapter):
    """OpenID Connect and SAML sign-ins land on the directory person's account."""

    def pre_social_login(self, request: HttpRequest, sociallogin: SocialLogin) -> None:
        email = (sociallogin.user.email or "").strip()
        if not email and sociallogin.email_addresses:
            email = sociallogin.email_addresses[0].email
        try:
            if sociallogin.is_existing:
                linked = Person.objects.filter(user=sociallogin.user).first()
                if linked is not None and not linked.is_active:
                    raise SignInRefused(LEFT)
                if linked is None:
                    sso_account_for(email=email)
                if not sociallogin.user.is_active:
                    raise SignInRefused(DISABLED)
                return
            if not email:
                raise SignInRefused("the identity provider did not send an e-mail address.")
            user = sso_account_for(email=email)
        except SignInRefused as refused:
            raise ImmediateHttpResponse(_refusal(request, email, str(refused))) from None
        # Remember the provider's account for this user: later sign-ins find it directly.
        sociallogin.connect(request, user)

    def is_open_for_signup(self, request: HttpRequest, sociallogin: SocialLogin) -> bool:
        # pre_social_login has connected (or refused) everyone: nobody signs up here.
        return False


def needs_mfa_enrolment(user: User) -> bool:
    """Whether the sign-in policy requires a second factor of this user, who has none."""
    if not sign_in_policy().is_mfa_required_for_staff:
        return False
    is_staff = user.is_org_admin or ProgramManager.objects.filter(user=user).exists()
    return is_staff and not is_mfa_enabled(user)


MFA_ENROLMENT_SESSION_KEY = "peermentor_mfa_enrolment_required"
MFA_ENROLMENT_MESSAGE = (
    "Your organisation requires two-factor authentication for administrators and program "
    "managers. Set up an authenticator app or a passkey to continue."
)


class AccountAdapter(DefaultAccountAdapter):
    """No self sign-up (accounts come from invitations and single sign-on), and staff are
    sent to set up a second factor when the sign-in policy requires one."""

    def is_open_for_signup(self, request: HttpRequest) -> bool:
        return False

    def is_reauthentication_required(self, *, app: str, **kwargs: Any) -> bool:
        """Adding a second factor asks for the password again. An account that signs in only
        through single sign-on has no password to ask for (nor any other way to confirm):
        for it, a sign-in within the last few minutes counts instead."""
        required = bool(super().is_reauthentication_required(app=app, **kwargs))
        request = context.request
        user = getattr(request, "user", None)
        if not required or user is None or not user.is_authenticated:
            return required
        if user.has_usable_password():
            return True
        records = get_authentication_records(request, user)
        if not records:
            return True
        return time.time() - records[-1]["at"] >= account_settings.REAUTHENTICATION_TIMEOUT

    def post_login(self, request: HttpRequest, user: Any, **kwargs: Any) -> HttpResponse:
        response = super().post_login(request, user, **kwargs)
        if needs_mfa_enrolment(user):
            request.session[MFA_ENROLMENT_SESSION_KEY] = True
            messages.warning(request, MFA_ENROLMENT_MESSAGE)
            return redirect("mfa_index")
        return response


# What a user who must enrol may still open: the two-factor pages and signing out.
_ENROLMENT_URL_NAMES = {"logout", "account_logout", "account_reauthenticate", "login"}


class MfaEnrolmentMiddleware:
    """Holds a signed-in user marked at sign-in (AccountAdapter.post_login) on the two-factor
    pages until they have a second factor; costs no query for anyone else."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view: Any, args: Any, kwargs: Any
    ) -> HttpResponse | None:
        session = getattr(request, "session", None)
        if session is None or not session.get(MFA_ENROLMENT_SESSION_KEY):
            return None
        if not request.user.is_authenticated or is_mfa_enabled(request.user):
            session.pop(MFA_ENROLMENT_SESSION_KEY, None)
            return None
        name = request.resolver_match.url_name if request.resolver_match else ""
        if name and (name.startswith("mfa_") or name in _ENROLMENT_URL_NAMES):
            return None
        messages.warning(request, MFA_ENROLMENT_MESSAGE)
        return redirect("mfa_index")
