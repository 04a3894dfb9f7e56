"""Two-factor authentication with django-allauth: an admin enrols an authenticator app (TOTP,
codes computed with pyotp as a phone app would), then every password sign-in asks for a code;
recovery codes work once each; the sign-in policy sends staff without a second factor to set
one up and holds them there."""

import pyotp
import pytest
from allauth.mfa.models import Authenticator
from django.urls import reverse

from peermentor.accounts.services import sign_in_policy_update
from tests.factories import PASSWORD, ProgramManagerFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _one_period_of_clock_drift(settings):
    # A code computed just before a 30-second boundary is still accepted just after it.
    settings.MFA_TOTP_TOLERANCE = 1


def sign_in(client, email):
    return client.post(reverse("login"), {"username": email, "password": PASSWORD})


def enrol_totp(client) -> pyotp.TOTP:
    """Set up an authenticator app from the activation page; return the 'phone app'."""
    page = client.get(reverse("mfa_activate_totp"))
    # Adding a factor is a sensitive change: allauth asks for the password again first.
    assert page.status_code == 302
    assert page["Location"].startswith(reverse("account_reauthenticate"))
    client.post(page["Location"], {"password": PASSWORD})
    page = client.get(reverse("mfa_activate_totp"))
    assert page.status_code == 200
    totp = pyotp.TOTP(page.context["form"].secret)
    wrong = client.post(reverse("mfa_activate_totp"), {"code": "000000"})
    if totp.now() != "000000":
        assert wrong.status_code == 200
        assert "code" in wrong.context["form"].errors
    done = client.post(reverse("mfa_activate_totp"), {"code": totp.now()})
    assert done.status_code == 302
    return totp


def test_an_admin_enrols_totp_and_is_then_asked_for_a_code_at_sign_in(client):
    admin = UserFactory(email="admin@example.org", is_org_admin=True)
    assert sign_in(client, "admin@example.org")["Location"] == reverse("home")
    totp = enrol_totp(client)
    assert Authenticator.objects.filter(user=admin, type=Authenticator.Type.TOTP).exists()
    client.post(reverse("logout"))

    # The right password alone no longer signs in: it leads to the code page.
    response = sign_in(client, "admin@example.org")
    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_authenticate")
    assert client.get(reverse("home"))["Location"].startswith(reverse("login"))
    challenge = client.get(reverse("mfa_authenticate"))
    assert challenge.status_code == 200

    wrong = client.post(reverse("mfa_authenticate"), {"code": "12345"})
    assert wrong.status_code == 200
    assert not wrong.context["user"].is_authenticated

    signed_in = client.post(reverse("mfa_authenticate"), {"code": totp.now()}, follow=True)
    assert signed_in.redirect_chain[-1][0] == reverse("home")
    assert signed_in.context["user"] == admin


def test_a_recovery_code_signs_in_once(client):
    admin = UserFactory(email="admin@example.org", is_org_admin=True)
    sign_in(client, "admin@example.org")
    enrol_totp(client)
    codes = (
        Authenticator.objects.get(user=admin, type=Authenticator.Type.RECOVERY_CODES)
        .wrap()
        .get_unused_codes()
    )
    assert len(codes) == 10
    client.post(reverse("logout"))

    sign_in(client, "admin@example.org")
    used = client.post(reverse("mfa_authenticate"), {"code": codes[0]}, follow=True)
    assert used.context["user"] == admin
    client.post(reverse("logout"))

    sign_in(client, "admin@example.org")
    again = client.post(reverse("mfa_authenticate"), {"code": codes[0]})
    assert again.status_code == 200
    assert not again.context["user"].is_authenticated


def test_when_the_policy_requires_it_an_admin_must_enrol_before_anything_else(client):
    admin = UserFactory(email="admin@example.org", is_org_admin=True)
    sign_in_policy_update(actor=admin, is_mfa_required_for_staff=True)

    response = sign_in(client, "admin@example.org")
    assert response["Location"] == reverse("mfa_index")
    # Every other page sends them back to set up a second factor...
    for name in ["home", "program_list", "preferences", "person_list"]:
        held = client.get(reverse(name))
        assert held.status_code == 302
        assert held["Location"] == reverse("mfa_index")
    page = client.get(reverse("mfa_index"), follow=True)
    assert "requires two-factor authentication" in page.content.decode()
    # ...until they have one.
    enrol_totp(client)
    assert client.get(reverse("home")).status_code == 200


def test_program_managers_are_held_too_but_participants_are_not(client):
    admin = UserFactory(is_org_admin=True)
    sign_in_policy_update(actor=admin, is_mfa_required_for_staff=True)
    manager = ProgramManagerFactory(user=UserFactory(email="manager@example.org")).user
    assert sign_in(client, manager.email)["Location"] == reverse("mfa_index")
    assert client.get(reverse("home"))["Location"] == reverse("mfa_index")
    client.post(reverse("logout"))

    UserFactory(email="ana@example.org")
    assert sign_in(client, "ana@example.org")["Location"] == reverse("home")
    assert client.get(reverse("home")).status_code == 200


def test_without_the_policy_staff_sign_in_without_a_second_factor(client):
    UserFactory(email="admin@example.org", is_org_admin=True)
    assert sign_in(client, "admin@example.org")["Location"] == reverse("home")
    assert client.get(reverse("home")).status_code == 200


def test_signing_out_works_while_held(client):
    admin = UserFactory(email="admin@example.org", is_org_admin=True)
    sign_in_policy_update(actor=admin, is_mfa_required_for_staff=True)
    sign_in(client, "admin@example.org")
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert client.get(reverse("home"))["Location"].startswith(reverse("login"))


def test_the_django_admin_login_is_not_a_way_around_the_second_factor(client):
    UserFactory(email="root@example.org", is_org_admin=True, is_staff=True)
    sign_in(client, "root@example.org")
    enrol_totp(client)
    client.post(reverse("logout"))

    page = client.get("/django-admin/login/")
    assert page.status_code == 302
    assert page["Location"].startswith(reverse("login"))
    posted = client.post(
        "/django-admin/login/", {"username": "root@example.org", "password": PASSWORD}
    )
    assert posted.status_code == 302
    assert posted["Location"].startswith(reverse("login"))
    assert client.get("/django-admin/")["Location"].startswith("/django-admin/login/")
    assert "_auth_user_id" not in client.session
