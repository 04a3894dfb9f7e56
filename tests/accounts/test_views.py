import pytest
from django.urls import reverse

from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def test_sign_in_with_email_and_password_reaches_home(client):
    UserFactory(email="ana@example.org")
    response = client.post(
        reverse("login"), {"username": "ana@example.org", "password": PASSWORD}, follow=True
    )
    assert response.redirect_chain[-1][0] == reverse("home")
    assert response.context["user"].email == "ana@example.org"


def test_wrong_password_shows_an_error_and_stays_signed_out(client):
    UserFactory(email="ana@example.org")
    response = client.post(reverse("login"), {"username": "ana@example.org", "password": "nope"})
    assert response.status_code == 200
    assert "Please enter a correct" in response.content.decode()
    assert not response.context["user"].is_authenticated


def test_password_reset_sends_a_link_by_email(client, mailoutbox):
    UserFactory(email="ana@example.org")
    client.post(reverse("password_reset"), {"email": "ana@example.org"})
    assert len(mailoutbox) == 1
    assert "/accounts/reset/" in mailoutbox[0].body


def test_preferences_reject_an_unknown_time_zone(client):
    user = UserFactory()
    client.force_login(user)
    response = client.post(reverse("preferences"), {"full_name": "A", "time_zone": "Mars/Base"})
    assert response.status_code == 200
    assert "time_zone" in response.context["form"].errors
    user.refresh_from_db()
    assert user.time_zone == "UTC"


def test_home_needs_sign_in(client):
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
