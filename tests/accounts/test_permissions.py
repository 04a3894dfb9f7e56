"""Every accounts URL (ours and the django-allauth pages mounted under /accounts/) and every
persona → status. A new URL fails `test_every_url_is_listed` until it is added to ENDPOINTS."""

import pytest
from django.urls import URLResolver, reverse

from peermentor.accounts.urls import allauth_urlpatterns, urlpatterns
from tests.conftest import ROLES

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"
SIGNED_IN = ["outsider", "participant", "other_manager", "manager", "admin"]


def everyone(status):
    return dict.fromkeys(ROLES, status)


def signed_in(status):
    """Anonymous visitors are sent to sign in; everyone signed in gets `status`."""
    return {"anonymous": "login", **dict.fromkeys(SIGNED_IN, status)}


def signed_out(status):
    """A page for signing in: signed-in people are sent home (302)."""
    return {"anonymous": status, **dict.fromkeys(SIGNED_IN, 302)}


ADMIN_ONLY = {"anonymous": "login", **dict.fromkeys(SIGNED_IN, 403), "admin": 200}
RESET = {"uidb64": "MQ", "token": "set-password"}

# (url name, kwargs, GET status by role; "login" is a redirect to the sign-in page)
ENDPOINTS = [
    ("login", {}, signed_out(200)),
    ("account_login", {}, signed_out(200)),
    ("logout", {}, everyone(405)),  # signing out is a POST
    ("account_logout", {}, everyone(405)),
    ("password_reset", {}, everyone(200)),
    ("password_reset_done", {}, everyone(200)),
    ("password_reset_confirm", RESET, everyone(200)),  # an invalid link says so
    ("password_reset_complete", {}, everyone(200)),
    ("preferences", {}, signed_in(200)),
    ("sign_in_policy", {}, ADMIN_ONLY),
    ("account_inactive", {}, everyone(200)),
    # Asking for the password again, before adding a second factor.
    ("account_reauthenticate", {}, signed_in(200)),
    ("mfa_index", {}, signed_in(200)),
    # The code page belongs to a sign-in in progress: without one it goes back to sign-in.
    ("mfa_authenticate", {}, {"anonymous": 302, **dict.fromkeys(SIGNED_IN, 302)}),
    ("mfa_reauthenticate", {}, signed_in(302)),  # only for an account with a second factor
    ("mfa_activate_totp", {}, signed_in(302)),  # asks for the password again first
    ("mfa_deactivate_totp", {}, signed_in(404)),  # nothing to remove
    ("mfa_view_recovery_codes", {}, signed_in(404)),
    ("mfa_generate_recovery_codes", {}, signed_in(302)),
    ("mfa_download_recovery_codes", {}, signed_in(404)),
    ("mfa_list_webauthn", {}, signed_in(200)),
    ("mfa_add_webauthn", {}, signed_in(302)),
    ("mfa_reauthenticate_webauthn", {}, signed_in(302)),
    ("mfa_remove_webauthn", {"pk": 999}, signed_in(302)),  # the password again first
    ("mfa_edit_webauthn", {"pk": 999}, signed_in(302)),
    ("socialaccount_login_cancelled", {}, everyone(200)),
    ("socialaccount_login_error", {}, everyone(401)),
    ("socialaccount_signup", {}, everyone(302)),  # no sign-up in progress
    # Single sign-on is not configured in the test settings: its endpoints do not exist.
    # The assertion consumer hands every request on to its "finish" step, which answers 404.
    ("saml_acs", {"organization_slug": "idp"}, everyone(302)),
    ("saml_finish_acs", {"organization_slug": "idp"}, everyone(404)),
    ("saml_sls", {"organization_slug": "idp"}, everyone(404)),
    ("saml_metadata", {"organization_slug": "idp"}, everyone(404)),
    ("saml_login", {"organization_slug": "idp"}, everyone(404)),
    ("openid_connect_login", {"provider_id": "keycloak"}, everyone(404)),
    ("openid_connect_callback", {"provider_id": "keycloak"}, everyone(404)),
]


def _names(patterns):
    found = []
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            found += _names(pattern.url_patterns)
        else:
            found.append(pattern.name)
    return found


def test_every_url_is_listed():
    names = _names(urlpatterns) + _names(allauth_urlpatterns)
    assert sorted(names) == sorted(endpoint[0] for endpoint in ENDPOINTS)


@pytest.mark.parametrize(("name", "kwargs", "expected"), ENDPOINTS, ids=[e[0] for e in ENDPOINTS])
def test_get(client, personas, name, kwargs, expected):
    # The roles in one test: most of these pages are the same for every role.
    for role in ROLES:
        client.logout()
        user = personas.user(role)
        if user is not None:
            client.force_login(user)
        response = client.get(reverse(name, kwargs=kwargs))
        if expected[role] == "login":
            assert response.status_code == 302, role
            assert response["Location"].startswith(LOGIN), role
        else:
            assert response.status_code == expected[role], (role, response.get("Location"))


@pytest.mark.parametrize("role", ROLES)
def test_only_admins_change_the_sign_in_policy(client, personas, role):
    from peermentor.accounts.selectors import sign_in_policy

    user = personas.user(role)
    if user is not None:
        client.force_login(user)
    response = client.post(reverse("sign_in_policy"), {"is_mfa_required_for_staff": "on"})
    expected = {"anonymous": 302, "admin": 302}.get(role, 403)
    assert response.status_code == expected
    assert sign_in_policy().is_mfa_required_for_staff is (role == "admin")
