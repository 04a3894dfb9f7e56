"""SSO-only mode: password sign-in and reset are off for everyone but the break-glass admin."""

import pytest
from django.urls import reverse

from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _sso_only(settings):
    settings.PEERMENTOR_SSO_ONLY = True
    settings.PEERMENTOR_BREAK_GLASS_EMAIL = "root@example.org"


def _sign_in(client, email):
    return client.post(reverse("login"), {"username": email, "password": PASSWORD})


def test_the_right_password_is_refused_with_a_message(client):
    UserFactory(email="ana@example.org")
    response = _sign_in(client, "ana@example.org")
    assert response.status_code == 200
    assert "Password sign-in is turned off" in response.content.decode()
    assert not response.context["user"].is_authenticated


def test_the_break_glass_admin_still_signs_in_with_a_password(client):
    UserFactory(email="root@example.org", is_org_admin=True)
    response = _sign_in(client, " Root@Example.org")
    assert response.status_code == 302
    assert response["Location"] == reverse("home")


def test_the_page_keeps_the_password_form_only_for_the_administrator(client):
    page = client.get(reverse("login")).content.decode()
    assert "Administrator sign-in with a password" in page
    assert "Forgot your password?" not in page


def test_password_reset_sends_links_only_to_the_break_glass_admin(client, mailoutbox):
    UserFactory(email="ana@example.org")
    UserFactory(email="root@example.org")
    response = client.post(reverse("password_reset"), {"email": "ana@example.org"})
    # The same answer as for a sent link.
    assert response["Location"] == reverse("password_reset_done")
    assert mailoutbox == []
    client.post(reverse("password_reset"), {"email": "root@example.org"})
    assert len(mailoutbox) == 1


def test_without_sso_only_everyone_signs_in_with_a_password(client, settings):
    settings.PEERMENTOR_SSO_ONLY = False
    UserFactory(email="ana@example.org")
    assert _sign_in(client, "ana@example.org")["Location"] == reverse("home")
