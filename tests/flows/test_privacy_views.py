"""Who may open the data-protection pages: every page for every persona (tests/conftest.py)."""

import pytest
from django.urls import resolve, reverse

from peermentor.flows.privacy import urls as privacy_urls
from tests.conftest import ROLES

pytestmark = pytest.mark.django_db

# Everyone with a directory entry reads their own data; the personas without one (the managers
# and the admin) get 404 there, and Preferences does not offer them the link.
OWN = {
    "anonymous": 302,
    "outsider": 200,
    "participant": 200,
    "other_manager": 404,
    "manager": 404,
    "admin": 404,
}
ADMIN_ONLY = {
    "anonymous": 302,
    "outsider": 403,
    "participant": 403,
    "other_manager": 403,
    "manager": 403,
    "admin": 200,
}


def page_urls(personas):
    person = personas.other_participant_record.person
    return [
        (reverse("my_data"), OWN),
        (reverse("my_data_download", args=["json"]), OWN),
        (reverse("person_data", args=[person.pk]), ADMIN_ONLY),
        (reverse("person_data_download", args=[person.pk, "json"]), ADMIN_ONLY),
        (reverse("person_erase", args=[person.pk]), ADMIN_ONLY),
        (reverse("retention_settings"), ADMIN_ONLY),
        (reverse("audit_log"), ADMIN_ONLY),
        (reverse("audit_log_export"), ADMIN_ONLY),
    ]


def test_every_privacy_url_is_in_the_permission_matrix(personas):
    """A new page fails here until it is added to `page_urls` and so to the matrix below."""
    listed = {resolve(url).url_name for url, _ in page_urls(personas)}
    assert listed == {pattern.name for pattern in privacy_urls.urlpatterns}


@pytest.mark.parametrize("role", ROLES)
def test_privacy_pages_by_role(client, personas, role):
    user = personas.user(role)
    if user:
        client.force_login(user)
    for url, expected in page_urls(personas):
        response = client.get(url)
        assert response.status_code == expected[role], (role, url)
        if role == "anonymous":
            assert response["Location"].startswith(reverse("login"))


def test_preferences_offer_the_export_only_to_people_in_the_directory(client, personas):
    client.force_login(personas.participant)
    assert reverse("my_data") in client.get(reverse("preferences")).content.decode()
    client.force_login(personas.manager)
    assert reverse("my_data") not in client.get(reverse("preferences")).content.decode()


def test_an_admin_s_pdf_of_someone_s_data_and_unknown_formats(client, personas):
    person = personas.other_participant_record.person
    client.force_login(personas.admin)
    pdf = client.get(reverse("person_data_download", args=[person.pk, "pdf"]))
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert client.get(reverse("person_data_download", args=[person.pk, "csv"])).status_code == 404
    assert client.get(reverse("person_data", args=[999999])).status_code == 404
