"""Sign-in end to end in Chromium: through a real OpenID Connect provider and a real SAML
identity provider on 127.0.0.1 (tests/sso/), and an admin setting up an authenticator app
(codes computed with pyotp) that is then asked for at sign-in. axe checks the new pages."""

import pyotp
import pytest

from peermentor.sso_env import identity_provider_origins, oidc_apps, saml_apps
from tests.browser.axe import assert_accessible
from tests.factories import PASSWORD, PersonFactory, UserFactory
from tests.sso.oidc_provider import running_oidc_provider
from tests.sso.saml_idp import running_saml_idp

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PROVIDER_PASSWORD = "provider-password"
SP_ENTITY_ID = "http://peermentor.test/saml"
ANA = ("ana@example.org", PROVIDER_PASSWORD, "Ana Example")


@pytest.fixture(scope="module")
def providers(live_server):
    oidc_callback = f"{live_server.url}/accounts/oidc/keycloak/login/callback/"
    acs = f"{live_server.url}/accounts/saml/idp/acs/"
    with (
        running_oidc_provider(redirect_uris=[oidc_callback], users=[ANA]) as oidc,
        running_saml_idp(sp_entity_id=SP_ENTITY_ID, acs_urls=[acs], users=[ANA]) as idp,
    ):
        yield oidc, idp


@pytest.fixture
def sso_configured(providers, settings, monkeypatch):
    """Both providers configured by the documented variables, as in docs/integrations.md."""
    oidc, idp = providers
    for name, value in {
        "PEERMENTOR_OIDC_PROVIDERS": "keycloak",
        "PEERMENTOR_OIDC_KEYCLOAK_ISSUER": oidc.issuer,
        "PEERMENTOR_OIDC_KEYCLOAK_CLIENT_ID": oidc.client_id,
        "PEERMENTOR_OIDC_KEYCLOAK_CLIENT_SECRET": oidc.client_secret,
        "PEERMENTOR_SAML_IDP_ENTITY_ID": idp.entity_id,
        "PEERMENTOR_SAML_IDP_METADATA_URL": idp.metadata_url,
        "PEERMENTOR_SAML_SP_ENTITY_ID": SP_ENTITY_ID,
        "PEERMENTOR_SAML_NAME": "Contoso SAML",
    }.items():
        monkeypatch.setenv(name, value)
    oidc_list, saml_list = oidc_apps(), saml_apps()
    settings.SOCIALACCOUNT_PROVIDERS = {
        "openid_connect": {"APPS": oidc_list, "OAUTH_PKCE_ENABLED": True},
        "saml": {"APPS": saml_list},
    }
    policy = settings.CONTENT_SECURITY_POLICY
    settings.CONTENT_SECURITY_POLICY = {
        "DIRECTIVES": {
            **policy["DIRECTIVES"],
            "form-action": ["'self'", *identity_provider_origins(oidc_list, saml_list)],
        }
    }


def _sign_in_at(page, email, password, button):
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name=button).click()


def test_a_person_signs_in_with_openid_connect(page, live_server, sso_configured):
    PersonFactory(email="ana@example.org", full_name="Ana Example")
    page.goto(f"{live_server.url}/accounts/login/")
    assert_accessible(page)
    page.get_by_role("button", name="Sign in with Keycloak").click()
    page.wait_for_url("http://127.0.0.1:*/login/**")
    _sign_in_at(page, "ana@example.org", PROVIDER_PASSWORD, "Sign in to the provider")
    page.wait_for_url(f"{live_server.url}/")
    assert page.get_by_role("link", name="Ana Example").is_visible()


def test_a_person_signs_in_with_saml(page, live_server, sso_configured):
    PersonFactory(email="ana@example.org", full_name="Ana Example")
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_role("button", name="Sign in with Contoso SAML").click()
    page.wait_for_url("http://127.0.0.1:*/sso/redirect**")
    _sign_in_at(page, "ana@example.org", PROVIDER_PASSWORD, "Sign in to the identity provider")
    page.wait_for_url(f"{live_server.url}/")
    assert page.get_by_role("link", name="Ana Example").is_visible()


def test_someone_outside_the_directory_sees_why(page, live_server, sso_configured):
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_role("button", name="Sign in with Keycloak").click()
    _sign_in_at(page, "ana@example.org", PROVIDER_PASSWORD, "Sign in to the provider")
    page.get_by_role("heading", name="You cannot sign in to Peermentor").wait_for()
    assert_accessible(page)


def test_an_admin_enrols_totp_and_then_needs_a_code(page, live_server, settings):
    settings.MFA_TOTP_TOLERANCE = 1
    UserFactory(email="admin@example.org", full_name="Ada Admin", is_org_admin=True)
    page.goto(f"{live_server.url}/accounts/login/")
    _sign_in_at(page, "admin@example.org", PASSWORD, "Sign in")
    page.wait_for_url(f"{live_server.url}/")

    page.goto(f"{live_server.url}/accounts/preferences/")
    page.get_by_role("link", name="Set up an authenticator app").click()
    assert_accessible(page)
    page.get_by_role("link", name="Activate").click()
    # Adding a factor asks for the password again.
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Confirm").click()
    secret = page.locator("#authenticator_secret").input_value()
    assert_accessible(page)
    page.get_by_label("Authenticator code").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Activate").click()
    page.get_by_role("heading", name="Recovery Codes").wait_for()

    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(f"{live_server.url}/accounts/login/")
    _sign_in_at(page, "admin@example.org", PASSWORD, "Sign in")
    page.wait_for_url("**/accounts/2fa/authenticate/")
    assert_accessible(page)
    page.get_by_label("Code").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_url(f"{live_server.url}/")
    assert page.get_by_role("link", name="Ada Admin").is_visible()
