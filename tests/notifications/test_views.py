"""Every notifications URL by persona; the centre, preferences and unsubscribe pages; budgets."""

import pytest
from django.db import connection as db_connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from peermentor.notifications.models import Notification, NotificationPreference, NudgeSettings
from peermentor.notifications.tokens import unsubscribe_token
from tests.conftest import ROLES
from tests.factories import NotificationFactory

pytestmark = pytest.mark.django_db

ALL_ROLES = [*ROLES, "other_participant"]


def _login(client, personas, role):
    if personas.user(role):
        client.force_login(personas.user(role))


@pytest.mark.parametrize("role", ALL_ROLES)
@pytest.mark.parametrize(
    ("method", "name"),
    [
        ("get", "notification_centre"),
        ("get", "notification_badge"),
        ("get", "notification_preferences"),
        ("post", "notifications_read_all"),
    ],
)
def test_own_pages_for_everyone_signed_in(client, personas, role, method, name):
    _login(client, personas, role)
    response = getattr(client, method)(reverse(name))
    if role == "anonymous" and name == "notification_badge":
        assert response.status_code == 204 and response.content == b""
    elif role == "anonymous":
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    else:
        assert response.status_code == (200 if method == "get" else 302)


@pytest.mark.parametrize("role", ALL_ROLES)
@pytest.mark.parametrize("name", ["notification_read", "notification_open"])
def test_a_notification_is_its_recipients_only(client, personas, role, name):
    note = NotificationFactory(recipient=personas.participant, url="/connections/")
    _login(client, personas, role)
    response = client.post(reverse(name, args=[note.pk]))
    expected = {"anonymous": 302, "participant": 302}.get(role, 404)
    assert response.status_code == expected
    note.refresh_from_db()
    assert (note.read_at is not None) == (role == "participant")
    if role == "participant" and name == "notification_open":
        assert response["Location"] == "/connections/"


@pytest.mark.parametrize("role", ALL_ROLES)
def test_unsubscribe_needs_no_sign_in_only_the_signed_link(client, personas, role):
    _login(client, personas, role)
    token = unsubscribe_token(personas.participant)
    response = client.get(reverse("notifications_unsubscribe", args=[token]))
    assert response.status_code == 200
    assert personas.participant.email in response.content.decode()
    other_last = "B" if token.endswith("A") else "A"
    tampered = client.get(reverse("notifications_unsubscribe", args=[token[:-1] + other_last]))
    assert tampered.status_code == 404
    assert "This link is not valid" in tampered.content.decode()


@pytest.mark.parametrize("role", ALL_ROLES)
def test_reminder_settings_are_for_the_programs_managers(client, personas, role):
    _login(client, personas, role)
    url = reverse("nudge_settings", args=[personas.program.pk])
    response = client.get(url)
    # The program is enrolling, so every employee may see it: read-only people get 403.
    expected = {"anonymous": 302, "manager": 200, "admin": 200}.get(role, 403)
    assert response.status_code == expected
    post = client.post(
        url, {"stalled_after_days": 30, "ending_soon_days": 7, "waiting_after_days": 2}
    )
    assert post.status_code == {"manager": 302, "admin": 302}.get(role, expected)
    assert NudgeSettings.objects.exists() == (role in ("manager", "admin"))


def test_reminder_settings_of_a_draft_program_are_hidden(client, personas):
    personas.program.status = "draft"
    personas.program.save()
    client.force_login(personas.outsider)
    assert client.get(reverse("nudge_settings", args=[personas.program.pk])).status_code == 404


def test_every_notifications_url_has_a_permission_test():
    from peermentor.notifications import urls

    tested = {
        "notification_centre",
        "notification_badge",
        "notification_preferences",
        "notifications_read_all",
        "notification_read",
        "notification_open",
        "notifications_unsubscribe",
        "nudge_settings",
    }
    assert {pattern.name for pattern in urls.urlpatterns} == tested


# --- what people see ----------------------------------------------------------------------------
def test_the_centre_lists_newest_first_with_unread_count_and_filter(client, personas):
    NotificationFactory(recipient=personas.participant, title="Older one")
    read = NotificationFactory(recipient=personas.participant, title="Already read")
    NotificationFactory(recipient=personas.participant, title="Newest one")
    NotificationFactory(recipient=personas.other_participant, title="Not yours")
    Notification.objects.filter(pk=read.pk).update(read_at=read.created_at)
    client.force_login(personas.participant)
    body = client.get(reverse("notification_centre")).content.decode()
    assert "2 unread." in body
    assert body.index("Newest one") < body.index("Already read") < body.index("Older one")
    assert "Not yours" not in body
    unread = client.get(reverse("notification_centre") + "?show=unread").content.decode()
    assert "Already read" not in unread and "Newest one" in unread
    badge = client.get(reverse("notification_badge")).content.decode()
    assert ">2<" in badge and "unread" in badge


def test_mark_all_read_and_htmx_mark_one(client, personas):
    one = NotificationFactory(recipient=personas.participant, title="One")
    NotificationFactory(recipient=personas.participant, title="Two")
    client.force_login(personas.participant)
    partial = client.post(reverse("notification_read", args=[one.pk]), HTTP_HX_REQUEST="true")
    assert partial.status_code == 200
    assert "Mark as read" not in partial.content.decode() and "One" in partial.content.decode()
    response = client.post(reverse("notifications_read_all"), follow=True)
    assert "All caught up." in response.content.decode()
    assert not Notification.objects.filter(read_at__isnull=True).exists()
    badge = client.get(reverse("notification_badge")).content.decode()
    assert "badge" not in badge


def test_mark_read_goes_back_only_to_pages_of_this_site(client, personas):
    note = NotificationFactory(recipient=personas.participant)
    client.force_login(personas.participant)
    response = client.post(
        reverse("notification_read", args=[note.pk]), {"next": "https://evil.example/"}
    )
    assert response["Location"] == reverse("notification_centre")


def test_the_centre_query_count_does_not_grow_with_notifications(client, personas):
    client.force_login(personas.participant)
    NotificationFactory.create_batch(3, recipient=personas.participant)
    url = reverse("notification_centre")
    with CaptureQueriesContext(db_connection) as few:
        client.get(url)
    NotificationFactory.create_batch(60, recipient=personas.participant)
    with CaptureQueriesContext(db_connection) as many:
        response = client.get(url)
    assert len(response.context["centre"].page.object_list) == 50
    assert len(many) == len(few) <= 8


def test_preferences_page_saves_and_shows_errors(client, personas):
    client.force_login(personas.participant)
    url = reverse("notification_preferences")
    body = client.get(url).content.decode()
    assert "How often may we e-mail you?" in body and 'value="daily"' in body
    response = client.post(url, {"digest_frequency": "weekly", "email_kinds": ["check_in_due"]})
    assert response.status_code == 302
    preference = NotificationPreference.objects.get(user=personas.participant)
    assert preference.digest_frequency == "weekly"
    assert preference.email_muted_kinds != []
    bad = client.post(url, {"digest_frequency": "hourly"})
    assert bad.status_code == 200
    assert "Select a valid choice" in bad.content.decode()
    preference.refresh_from_db()
    assert preference.digest_frequency == "weekly"


def test_one_click_unsubscribe_from_a_mail_client(personas):
    mail_client = Client(enforce_csrf_checks=True)
    token = unsubscribe_token(personas.participant)
    response = mail_client.post(
        reverse("notifications_unsubscribe", args=[token]),
        "List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200
    assert "E-mails stopped" in response.content.decode()
    assert NotificationPreference.objects.get(user=personas.participant).digest_frequency == "off"
    assert (
        mail_client.post(reverse("notifications_unsubscribe", args=["forged:token"])).status_code
        == 404
    )


def test_reminder_settings_page_shows_field_errors(client, personas):
    client.force_login(personas.manager)
    url = reverse("nudge_settings", args=[personas.program.pk])
    response = client.post(
        url, {"stalled_after_days": 2, "ending_soon_days": 7, "waiting_after_days": 2}
    )
    assert response.status_code == 200
    assert "greater than or equal to 7" in response.content.decode()
    assert not NudgeSettings.objects.exists()
