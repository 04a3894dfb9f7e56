"""Single sign-on by SAML 2.0 against a real identity provider (pysaml2's IdP on 127.0.0.1,
tests/sso/saml_idp.py), configured by the documented environment variables."""

import pytest
import requests
from allauth.socialaccount.models import SocialAccount
from django.urls import reverse

from peermentor.accounts.models import User
from peermentor.sso_env import saml_apps
from tests.factories import PersonFactory
from tests.sso.saml_idp import running_saml_idp, sign_in_at_idp

pytestmark = pytest.mark.django_db

IDP_PASSWORD = "idp-password"
SP_ENTITY_ID = "http://peermentor.test/saml"
ACS = "http://testserver/accounts/saml/idp/acs/"


@pytest.fixture(scope="module")
def saml_idp():
    users = [
        ("ana@example.org", IDP_PASSWORD, "Ana Example"),
        ("stranger@example.org", IDP_PASSWORD, "Sam Stranger"),
    ]
    with running_saml_idp(sp_entity_id=SP_ENTITY_ID, acs_urls=[ACS], users=users) as idp:
        yield idp


@pytest.fixture
def client(client):
    # Browsers always send Host; the SAML toolkit builds its URLs from it.
    client.defaults["HTTP_HOST"] = "testserver"
    return client


def _configure(settings, monkeypatch, **environment):
    monkeypatch.setenv("PEERMENTOR_SAML_SP_ENTITY_ID", SP_ENTITY_ID)
    monkeypatch.setenv("PEERMENTOR_SAML_NAME", "Contoso sign-in")
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    settings.SOCIALACCOUNT_PROVIDERS = {
        "openid_connect": {"APPS": []},
        "saml": {"APPS": saml_apps()},
    }


@pytest.fixture
def saml_by_metadata_url(saml_idp, settings, monkeypatch):
    _configure(
        settings,
        monkeypatch,
        PEERMENTOR_SAML_IDP_ENTITY_ID=saml_idp.entity_id,
        PEERMENTOR_SAML_IDP_METADATA_URL=saml_idp.metadata_url,
    )


def sign_in_with_saml(client, email):
    started = client.post(reverse("saml_login", kwargs={"organization_slug": "idp"}))
    assert started.status_code == 302
    assert "SAMLRequest=" in started["Location"]
    acs, fields = sign_in_at_idp(started["Location"], email, IDP_PASSWORD)
    assert acs == ACS
    return client.post(acs.removeprefix("http://testserver"), fields, follow=True)


def test_the_sign_in_page_offers_the_idp(client, saml_by_metadata_url):
    assert "Sign in with Contoso sign-in" in client.get(reverse("login")).content.decode()


def test_a_directory_person_signs_in_with_saml(client, saml_by_metadata_url):
    person = PersonFactory(email="ana@example.org", full_name="Ana Example")
    response = sign_in_with_saml(client, "ana@example.org")
    assert response.redirect_chain[-1][0] == reverse("home")
    user = response.context["user"]
    assert user.is_authenticated
    assert user.email == "ana@example.org"
    person.refresh_from_db()
    assert person.user == user
    assert SocialAccount.objects.get(user=user).uid == "ana@example.org"

    client.logout()
    again = sign_in_with_saml(client, "ana@example.org")
    assert again.context["user"] == user


def test_someone_outside_the_directory_is_refused(client, saml_by_metadata_url):
    response = sign_in_with_saml(client, "stranger@example.org")
    assert response.status_code == 403
    assert "You cannot sign in to Peermentor" in response.content.decode()
    assert not User.objects.filter(email="stranger@example.org").exists()


def test_the_idp_can_be_configured_by_its_metadata_xml(
    client, saml_idp, settings, monkeypatch, tmp_path
):
    metadata = tmp_path / "idp-metadata.xml"
    metadata.write_text(requests.get(saml_idp.metadata_url, timeout=10).text)
    _configure(
        settings,
        monkeypatch,
        PEERMENTOR_SAML_IDP_ENTITY_ID=saml_idp.entity_id,
        PEERMENTOR_SAML_IDP_METADATA_XML=str(metadata),
    )
    PersonFactory(email="ana@example.org")
    response = sign_in_with_saml(client, "ana@example.org")
    assert response.context["user"].email == "ana@example.org"


def test_a_tampered_assertion_is_refused(client, saml_by_metadata_url):
    import base64

    PersonFactory(email="ana@example.org")
    PersonFactory(email="boss@example.org", user=None)
    started = client.post(reverse("saml_login", kwargs={"organization_slug": "idp"}))
    acs, fields = sign_in_at_idp(started["Location"], "ana@example.org", IDP_PASSWORD)
    forged = base64.b64decode(fields["SAMLResponse"]).replace(
        b"ana@example.org", b"boss@example.org"
    )
    fields["SAMLResponse"] = base64.b64encode(forged).decode()
    response = client.post(acs.removeprefix("http://testserver"), fields, follow=True)
    assert not response.context["user"].is_authenticated
    assert not User.objects.filter(email="boss@example.org").exists()
