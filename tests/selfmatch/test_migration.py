"""Self-match moved out of matches without losing a row: migrating back to where the models
were part of matches and forward again keeps every request, the program's settings, their
audit history, the permissions on their content types and a notice task still queued."""

import pytest
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from peermentor.core.models import AuditEvent
from peermentor.selfmatch import services
from peermentor.selfmatch.models import MatchRequest, SelfMatchSettings
from tests.selfmatch.world import self_match_world, send, user_of

pytestmark = [
    pytest.mark.django_db(transaction=True),
    # Runs migrations back and forth: needs a database that was migrated (CI's runs do).
    pytest.mark.usefixtures("migrated_database"),
]

# Where the models still belonged to matches: before the move.
BEFORE_THE_MOVE = [("matches", "0003_match_requests"), ("selfmatch", None)]
NOTICE_TASK = "peermentor.selfmatch.notices.request_notices_task"
OLD_NOTICE_TASK = "peermentor.matches.tasks_requests.request_notices_task"


def _migrate(targets=None):
    executor = MigrationExecutor(connection)
    executor.migrate(targets or executor.loader.graph.leaf_nodes())
    executor.loader.build_graph()


def _rows(table):
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id, program_id, requester_id, recipient_id, status, message, response_note "
            f"FROM {connection.ops.quote_name(table)} ORDER BY id"
        )
        return cursor.fetchall()


def _content_types():
    return dict(
        ContentType.objects.filter(model__in=["matchrequest", "selfmatchsettings"]).values_list(
            "pk", "app_label"
        )
    )


def test_the_move_to_selfmatch_keeps_every_row_both_ways():
    world = self_match_world(people=4)
    ana, ben, cleo, dan = world.participants
    send(world, ana, ben, message="Python for SQL?")
    declined = send(world, cleo, dan)
    services.request_decline(actor=user_of(dan), request=declined, note="Not now.")
    services.self_match_settings_update(
        actor=world.manager,
        program=world.program,
        request_expiry_days=10,
        max_pending_incoming=4,
        max_pending_outgoing=5,
    )
    DBTaskResult.objects.create(
        task_path=NOTICE_TASK,
        args_kwargs={"args": [], "kwargs": {"request_ids": [declined.pk]}},
        backend_name="default",
        run_after=timezone.now(),
        exception_class_path="",
        traceback="",
    )
    requests = _rows("selfmatch_matchrequest")
    content_types = _content_types()
    permissions = set(
        Permission.objects.filter(content_type__in=content_types).values_list("pk", flat=True)
    )
    audited = list(
        AuditEvent.objects.filter(target_type__startswith="selfmatch.")
        .order_by("pk")
        .values_list("pk", "target_type", "target_id")
    )
    assert len(requests) == 2 and len(content_types) == 2 and len(permissions) == 8
    assert len(audited) == 4  # two sent, one declined, the settings

    _migrate(BEFORE_THE_MOVE)
    tables = connection.introspection.table_names()
    assert "selfmatch_matchrequest" not in tables
    assert _rows("matches_matchrequest") == requests
    assert set(_content_types().values()) == {"matches"}
    assert DBTaskResult.objects.get().task_path == OLD_NOTICE_TASK
    assert AuditEvent.objects.filter(target_type__startswith="selfmatch.").count() == 0
    assert AuditEvent.objects.filter(target_type__startswith="matches.").count() == 4

    _migrate()
    tables = connection.introspection.table_names()
    assert {"matches_matchrequest", "matches_selfmatchsettings"}.isdisjoint(tables)
    assert _rows("selfmatch_matchrequest") == requests
    assert _content_types() == content_types
    assert (
        set(Permission.objects.filter(content_type__in=content_types).values_list("pk", flat=True))
        == permissions
    )
    assert (
        list(
            AuditEvent.objects.filter(target_type__startswith="selfmatch.")
            .order_by("pk")
            .values_list("pk", "target_type", "target_id")
        )
        == audited
    )
    assert DBTaskResult.objects.get().task_path == NOTICE_TASK
    settings = SelfMatchSettings.objects.get(program=world.program)
    assert (settings.request_expiry_days, settings.max_pending_outgoing) == (10, 5)
    # The app works on the moved tables: the pending request can still be answered.
    pending = MatchRequest.objects.get(status="pending")
    services.request_decline(actor=user_of(ben), request=pending)
    assert MatchRequest.objects.filter(status="declined").count() == 2
