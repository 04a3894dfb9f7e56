"""The account's part of a subject-access export and of an erasure covers what sign-in keeps:
the identity provider links (with the claims sent) and the second factors, never a secret."""

import json

import pytest
from allauth.mfa.models import Authenticator
from allauth.socialaccount.models import SocialAccount

from peermentor.accounts.privacy import personal_data, personal_data_erase
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def signed_up_by_sso():
    user = UserFactory(email="ana@example.org")
    SocialAccount.objects.create(
        user=user,
        provider="entra",
        uid="4f1c-subject",
        extra_data={"userinfo": {"email": "ana@example.org", "name": "Ana Example"}},
    )
    Authenticator.objects.create(
        user=user, type=Authenticator.Type.TOTP, data={"secret": "TOTP-SECRET-VALUE"}
    )
    return user


def test_the_export_lists_sign_in_identities_and_second_factors_without_secrets(
    signed_up_by_sso,
):
    data = personal_data(user=signed_up_by_sso)
    identity = data["sign_in_identities"][0]
    assert (identity["provider"], identity["uid"]) == ("entra", "4f1c-subject")
    assert identity["extra_data"]["userinfo"]["name"] == "Ana Example"
    assert [factor["type"] for factor in data["second_factors"]] == ["TOTP Authenticator"]
    assert "TOTP-SECRET-VALUE" not in json.dumps(data, default=str)


def test_erasure_removes_the_links_and_factors(signed_up_by_sso):
    personal_data_erase(
        user=signed_up_by_sso, full_name="Former employee #1", email="1@erased.invalid"
    )
    assert not SocialAccount.objects.filter(user=signed_up_by_sso).exists()
    assert not Authenticator.objects.filter(user=signed_up_by_sso).exists()
