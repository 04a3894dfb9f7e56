"""Password reset is throttled per e-mail address and per client address."""

import pytest
from django.urls import reverse

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _ask(client, email, address="10.0.0.1"):
    return client.post(reverse("password_reset"), {"email": email}, REMOTE_ADDR=address)


def test_twenty_requests_for_one_address_send_only_a_few_e_mails(client, mailoutbox, settings):
    UserFactory(email="ana@example.org")
    for attempt in range(20):
        # From many client addresses, so only the per-e-mail limit applies.
        response = _ask(client, "ana@example.org", address=f"10.0.1.{attempt}")
        # The page never tells whether the limit was reached (nor whether the account exists).
        assert response.status_code == 302
        assert response["Location"] == reverse("password_reset_done")
    assert len(mailoutbox) == settings.PASSWORD_RESET_MAX_PER_EMAIL == 3


def test_one_client_asking_for_many_addresses_is_refused(client, mailoutbox, settings):
    users = [UserFactory(email=f"user{index}@example.org") for index in range(15)]
    statuses = [_ask(client, user.email).status_code for user in users]
    assert statuses[: settings.PASSWORD_RESET_MAX_PER_ADDRESS] == [302] * 10
    assert set(statuses[settings.PASSWORD_RESET_MAX_PER_ADDRESS :]) == {429}
    assert len(mailoutbox) == 10
    refused = _ask(client, "user0@example.org")
    assert "Too many password reset requests" in refused.content.decode()
    # Another client is not held up.
    assert _ask(client, "user14@example.org", address="10.0.0.2").status_code == 302
    assert len(mailoutbox) == 11


def test_the_limit_is_per_hour(client, mailoutbox):
    import datetime

    from django.utils import timezone

    from peermentor.accounts.models import PasswordResetRequest

    UserFactory(email="ana@example.org")
    for _ in range(3):
        _ask(client, "ana@example.org")
    PasswordResetRequest.objects.update(
        requested_at=timezone.now() - datetime.timedelta(minutes=61)
    )
    _ask(client, "ana@example.org")
    assert len(mailoutbox) == 4
