import pytest
from django.urls import reverse

from peermentor.api.models import ApiToken
from peermentor.api.services import api_token_create
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

ME = "/api/v1/me"


def test_a_token_acts_as_its_user(client):
    user = UserFactory(email="ana@example.org")
    _token, raw = api_token_create(actor=user, name="script")
    response = client.get(ME, headers={"Authorization": f"Bearer {raw}"})
    assert response.status_code == 200
    assert response.json()["email"] == "ana@example.org"
    assert ApiToken.objects.get().last_used_at is not None


def test_only_the_hash_of_a_token_is_stored():
    _token, raw = api_token_create(actor=UserFactory(), name="script")
    assert not ApiToken.objects.filter(key_hash=raw).exists()
    assert raw not in str(list(ApiToken.objects.values_list()))


@pytest.mark.parametrize("header", [None, "Bearer nope", "Basic abc"])
def test_the_api_refuses_a_missing_or_wrong_token(client, header):
    headers = {"Authorization": header} if header else {}
    response = client.get(ME, headers=headers)
    assert response.status_code == 401


def test_a_revoked_token_stops_working(client):
    user = UserFactory()
    client.force_login(user)
    token, raw = api_token_create(actor=user, name="script")
    client.post(reverse("api_token_revoke", args=[token.pk]))
    client.logout()
    assert client.get(ME, headers={"Authorization": f"Bearer {raw}"}).status_code == 401


def test_a_session_also_authenticates_the_api(client):
    client.force_login(UserFactory(email="ana@example.org"))
    assert client.get(ME).json()["email"] == "ana@example.org"


def test_the_token_page_shows_a_new_token_once(client):
    client.force_login(UserFactory())
    response = client.post(reverse("api_token_list"), {"name": "nightly export"})
    key = response.context["new_key"]
    assert key.startswith("pm_") and key in response.content.decode()
    assert key not in client.get(reverse("api_token_list")).content.decode()


def test_a_token_needs_a_name(client):
    client.force_login(UserFactory())
    response = client.post(reverse("api_token_list"), {"name": "   "})
    assert response.context["form"].errors["name"]
    assert not ApiToken.objects.exists()


def test_nobody_can_revoke_someone_elses_token(client):
    token, _raw = api_token_create(actor=UserFactory(), name="theirs")
    client.force_login(UserFactory())
    assert client.post(reverse("api_token_revoke", args=[token.pk])).status_code == 404
    token.refresh_from_db()
    assert token.is_active


def test_token_pages_need_sign_in(client):
    assert client.get(reverse("api_token_list")).status_code == 302


def test_the_openapi_schema_is_published(client):
    client.force_login(UserFactory())
    schema = client.get("/api/v1/openapi.json").json()
    assert schema["info"]["title"] == "Peermentor API"
    assert "/api/v1/me" in schema["paths"]
