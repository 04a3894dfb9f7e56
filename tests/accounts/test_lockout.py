"""The sign-in lockout (django-axes) with axes switched on, as it is outside tests."""

import pytest
from axes.models import AccessAttempt
from django.urls import reverse

from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

WRONG = "not-the-password"


@pytest.fixture(autouse=True)
def _axes_on(settings):
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 10


def _sign_in(client, email, password, address="10.0.0.1", **headers):
    return client.post(
        reverse("login"),
        {"username": email, "password": password},
        REMOTE_ADDR=address,
        **headers,
    )


def _signed_in(response) -> bool:
    return response.status_code == 302 and response["Location"] == reverse("home")


def test_twelve_wrong_passwords_lock_the_account_even_for_the_right_password(client):
    UserFactory(email="ana@example.org")
    for _ in range(12):
        assert not _signed_in(_sign_in(client, "ana@example.org", WRONG))
    response = _sign_in(client, "ana@example.org", PASSWORD)
    assert response.status_code == 429
    assert not _signed_in(response)
    # The failures are counted for the account, not for an empty username.
    assert AccessAttempt.objects.filter(username="ana@example.org").exists()
    assert not AccessAttempt.objects.filter(username=None).exists()


def test_the_account_stays_locked_from_another_address_and_in_another_spelling(client):
    UserFactory(email="ana@example.org")
    for attempt in range(12):
        _sign_in(client, "ana@example.org", WRONG, address=f"10.0.1.{attempt}")
    assert _sign_in(client, " Ana@Example.ORG ", PASSWORD, address="10.9.9.9").status_code == 429


def test_one_address_guessing_many_accounts_is_locked_too(client):
    UserFactory(email="ana@example.org")
    for attempt in range(12):
        _sign_in(client, f"guess{attempt}@example.org", WRONG, address="10.0.0.7")
    assert _sign_in(client, "ana@example.org", PASSWORD, address="10.0.0.7").status_code == 429
    # Someone else, from another address, still signs in.
    assert _signed_in(_sign_in(client, "ana@example.org", PASSWORD, address="10.0.0.8"))


def test_fewer_failures_than_the_limit_do_not_lock(client):
    UserFactory(email="ana@example.org")
    for _ in range(5):
        _sign_in(client, "ana@example.org", WRONG)
    assert _signed_in(_sign_in(client, "ana@example.org", PASSWORD))


def test_behind_a_trusted_proxy_the_forwarded_address_is_the_client(client, settings):
    settings.PEERMENTOR_TRUSTED_PROXY_COUNT = 1
    UserFactory(email="ana@example.org")
    for attempt in range(12):
        _sign_in(
            client,
            f"guess{attempt}@example.org",
            WRONG,
            address="192.168.0.1",
            HTTP_X_FORWARDED_FOR="203.0.113.5",
        )
    # The guesser's own address is locked...
    locked = _sign_in(
        client,
        "ana@example.org",
        PASSWORD,
        address="192.168.0.1",
        HTTP_X_FORWARDED_FOR="203.0.113.5",
    )
    assert locked.status_code == 429
    # ...while another client behind the same proxy still signs in.
    assert _signed_in(
        _sign_in(
            client,
            "ana@example.org",
            PASSWORD,
            address="192.168.0.1",
            HTTP_X_FORWARDED_FOR="198.51.100.20",
        )
    )


def test_a_forged_forwarded_header_does_not_escape_the_lock(client, settings):
    # One proxy appends the real client to whatever the client sent: only the last entry counts.
    settings.PEERMENTOR_TRUSTED_PROXY_COUNT = 1
    UserFactory(email="ana@example.org")
    for attempt in range(12):
        _sign_in(
            client,
            f"guess{attempt}@example.org",
            WRONG,
            address="192.168.0.1",
            HTTP_X_FORWARDED_FOR=f"1.2.3.{attempt}, 203.0.113.5",
        )
    response = _sign_in(
        client,
        "ana@example.org",
        PASSWORD,
        address="192.168.0.1",
        HTTP_X_FORWARDED_FOR="9.9.9.9, 203.0.113.5",
    )
    assert response.status_code == 429


def test_without_a_trusted_proxy_the_forwarded_header_is_ignored(client):
    UserFactory(email="ana@example.org")
    for attempt in range(12):
        _sign_in(
            client,
            "ana@example.org",
            WRONG,
            address="10.0.0.1",
            HTTP_X_FORWARDED_FOR=f"1.2.3.{attempt}",
        )
    assert AccessAttempt.objects.filter(ip_address="10.0.0.1").exists()
    assert not AccessAttempt.objects.filter(ip_address__startswith="1.2.3.").exists()
