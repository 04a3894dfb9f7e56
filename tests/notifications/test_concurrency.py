"""Two workers running the nudges at the same moment: every digest goes out exactly once.

SQLite serialises every writer, so the race only means something on PostgreSQL:
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/test .venv/bin/pytest tests/notifications
"""

from collections import Counter

import pytest
from django.core import mail
from django.db import connection as default_connection

from peermentor.core.models import AuditEvent
from peermentor.helpnetwork.models import AskStatus, HelpAsk
from peermentor.helpnetwork.services import help_asks_expire
from peermentor.notifications.digests import digests_send
from peermentor.notifications.models import Digest
from tests.concurrency import race
from tests.factories import HelpAskFactory, NotificationFactory, UserFactory
from tests.notifications.conftest import NOW

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _needs_postgresql():
    if default_connection.vendor != "postgresql":
        pytest.skip("claims under real concurrency need PostgreSQL (set DATABASE_URL)")


def test_racing_workers_send_each_digest_once():
    users = UserFactory.create_batch(30)
    for user in users:
        NotificationFactory.create_batch(2, recipient=user, created_at=NOW)

    outcomes = race([lambda: digests_send(now=NOW)] * 3)

    assert all(isinstance(outcome, int) for outcome in outcomes), outcomes
    assert sum(outcomes) == 30
    sent_to = Counter(message.to[0] for message in mail.outbox)
    assert sorted(sent_to) == sorted(user.email for user in users)
    assert set(sent_to.values()) == {1}
    assert Digest.objects.filter(sent_at__isnull=False).count() == 30


def test_racing_workers_expire_each_ask_once():
    import datetime

    asks = HelpAskFactory.create_batch(5, expires_at=NOW + datetime.timedelta(days=1))
    later = NOW + datetime.timedelta(days=2)

    outcomes = race([lambda: help_asks_expire(now=later)] * 3)

    assert sum(outcomes) == 5, outcomes
    assert (
        HelpAsk.objects.filter(pk__in=[a.pk for a in asks], status=AskStatus.EXPIRED).count() == 5
    )
    assert AuditEvent.objects.filter(action="help_ask.expired").count() == 5
