"""Single sign-on by OpenID Connect against a real provider (django-oauth-toolkit on
127.0.0.1, tests/sso/oidc_provider.py), configured by the documented environment variables:
a directory person gets an account at first sign-in, anyone else is refused."""

import pyotp
import pytest
from allauth.socialaccount.models import SocialAccount
from django.urls import reverse

from peermentor.accounts.models import User
from peermentor.accounts.services import sign_in_policy_update
from peermentor.core.models import AuditEvent
from peermentor.sso_env import oidc_apps
from tests.factories import PersonFactory, ProgramManagerFactory, UserFactory
from tests.sso.oidc_provider import running_oidc_provider, sign_in_at_provider

pytestmark = pytest.mark.django_db

PROVIDER_PASSWORD = "provider-password"
CALLBACK = "http://testserver/accounts/oidc/keycloak/login/callback/"


@pytest.fixture(scope="module")
def oidc_provider():
    users = [
        (email, PROVIDER_PASSWORD, name)
        for email, name in [
            ("ana@example.org", "Ana Example"),
            ("leaver@example.org", "Lee Leaver"),
            ("stranger@example.org", "Sam Stranger"),
        ]
    ]
    with running_oidc_provider(redirect_uris=[CALLBACK], users=users) as provider:
        yield provider


@pytest.fixture
def keycloak(oidc_provider, monkeypatch, settings):
    """Peermentor configured as docs/integrations.md says, pointing at the local provider."""
    monkeypatch.setenv("PEERMENTOR_OIDC_PROVIDERS", "keycloak")
    monkeypatch.setenv("PEERMENTOR_OIDC_KEYCLOAK_ISSUER", oidc_provider.issuer)
    monkeypatch.setenv("PEERMENTOR_OIDC_KEYCLOAK_CLIENT_ID", oidc_provider.client_id)
    monkeypatch.setenv("PEERMENTOR_OIDC_KEYCLOAK_CLIENT_SECRET", oidc_provider.client_secret)
    settings.SOCIALACCOUNT_PROVIDERS = {
        "openid_connect": {"APPS": oidc_apps(), "OAUTH_PKCE_ENABLED": True},
        "saml": {"APPS": []},
    }
    return oidc_provider


def sign_in_with_oidc(client, email):
    started = client.post(reverse("openid_connect_login", kwargs={"provider_id": "keycloak"}))
    assert started.status_code == 302
    assert "code_challenge=" in started["Location"]  # PKCE
    callback = sign_in_at_provider(started["Location"], email, PROVIDER_PASSWORD)
    assert callback.startswith(CALLBACK)
    return client.get(callback.removeprefix("http://testserver"), follow=True)


def test_the_sign_in_page_offers_the_provider(client, keycloak):
    page = client.get(reverse("login")).content.decode()
    assert "Sign in with Keycloak" in page
    # ...and still the password form.
    assert 'name="password"' in page


def test_a_directory_person_gets_an_account_at_first_sign_in(client, keycloak):
    person = PersonFactory(email="Ana@Example.org", full_name="Ana Example")
    response = sign_in_with_oidc(client, "ana@example.org")
    assert response.redirect_chain[-1][0] == reverse("home")
    user = response.context["user"]
    assert user.is_authenticated
    assert user.email == "ana@example.org"
    assert not user.has_usable_password()
    person.refresh_from_db()
    assert person.user == user
    assert SocialAccount.objects.filter(user=user, provider="keycloak").exists()
    assert AuditEvent.objects.filter(action="user.created_by_sso").exists()

    # The second sign-in finds the same account.
    client.logout()
    again = sign_in_with_oidc(client, "ana@example.org")
    assert again.context["user"] == user
    assert User.objects.filter(email__iexact="ana@example.org").count() == 1


def test_an_existing_account_is_linked_not_duplicated(client, keycloak):
    user = UserFactory(email="ana@example.org")
    person = PersonFactory(email="ana@example.org")
    response = sign_in_with_oidc(client, "ana@example.org")
    assert response.context["user"] == user
    person.refresh_from_db()
    assert person.user == user


def test_someone_outside_the_directory_is_refused_with_a_clear_page(client, keycloak):
    response = sign_in_with_oidc(client, "stranger@example.org")
    assert response.status_code == 403
    page = response.content.decode()
    assert "You cannot sign in to Peermentor" in page
    assert "not in the organisation&#x27;s directory" in page
    assert not response.context["user"].is_authenticated
    assert not User.objects.filter(email="stranger@example.org").exists()


def test_a_leaver_is_refused_even_with_an_account(client, keycloak):
    PersonFactory(
        email="leaver@example.org", is_active=False, user=UserFactory(email="leaver@example.org")
    )
    response = sign_in_with_oidc(client, "leaver@example.org")
    assert response.status_code == 403
    assert "having left the organisation" in response.content.decode()
    assert not response.context["user"].is_authenticated


def test_a_person_who_left_after_linking_is_refused(client, keycloak):
    person = PersonFactory(email="ana@example.org")
    sign_in_with_oidc(client, "ana@example.org")
    client.logout()
    person.is_active = False
    person.save()
    response = sign_in_with_oidc(client, "ana@example.org")
    assert response.status_code == 403
    assert not response.context["user"].is_authenticated


def test_a_manager_signing_in_by_sso_enrols_a_second_factor_when_the_policy_says_so(
    client, keycloak, settings
):
    settings.MFA_TOTP_TOLERANCE = 1
    sign_in_policy_update(actor=UserFactory(is_org_admin=True), is_mfa_required_for_staff=True)
    manager = ProgramManagerFactory(user=UserFactory(email="ana@example.org")).user
    manager.set_unusable_password()  # signs in only through the identity provider
    manager.save()
    PersonFactory(email="ana@example.org", user=manager)
    response = sign_in_with_oidc(client, "ana@example.org")
    assert response.redirect_chain[-1][0] == reverse("mfa_index")
    assert client.get(reverse("home"))["Location"] == reverse("mfa_index")
    # No password to ask for again: the sign-in a moment ago is enough to add a factor.
    page = client.get(reverse("mfa_activate_totp"))
    assert page.status_code == 200
    code = pyotp.TOTP(page.context["form"].secret).now()
    assert client.post(reverse("mfa_activate_totp"), {"code": code}).status_code == 302
    assert client.get(reverse("home")).status_code == 200

    # The next single sign-on asks for the code too.
    client.logout()
    challenged = sign_in_with_oidc(client, "ana@example.org")
    assert challenged.redirect_chain[-1][0] == reverse("mfa_authenticate")
    assert not challenged.context["user"].is_authenticated
