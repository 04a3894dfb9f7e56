"""The nudges through the real database task backend and its worker, as in production."""

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from peermentor.notifications.models import Notification
from tests.factories import NotificationFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_db_worker_runs_queued_nudges(settings, personas):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    from django_tasks_db.models import DBTaskResult

    # The worker uses the real clock: put the recipient where it is around noon now, so that
    # their digest hour has come.
    offset = (12 - timezone.now().hour + 12) % 24 - 12
    personas.participant.time_zone = f"Etc/GMT{-offset:+d}" if offset else "UTC"
    personas.participant.save()
    NotificationFactory(recipient=personas.participant, title="Time to meet Bea again")
    call_command("send_nudges", "--enqueue", verbosity=0)
    # Queued, not run: the worker is a separate process in production.
    assert DBTaskResult.objects.get().status == "READY"
    assert mail.outbox == []

    call_command("db_worker", batch=True, startup_delay=False, reload=False, verbosity=0)

    task = DBTaskResult.objects.get()
    assert task.status == "SUCCESSFUL"
    assert task.return_value["digests_sent"] == 1
    (message,) = mail.outbox
    assert "Time to meet Bea again" in message.subject
    assert Notification.objects.get().digest.sent_at is not None
