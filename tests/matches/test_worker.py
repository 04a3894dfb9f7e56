"""One run through the real database task backend and its worker, as in production."""

import pytest
from django.core.management import call_command

from peermentor.matches import services
from peermentor.matches.models import Proposal
from tests.matches.conftest import MatchingWorld

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_db_worker_runs_a_queued_match_run(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    from django_tasks_db.models import DBTaskResult

    world = MatchingWorld()
    world.save_policy()
    run = services.match_run_start(actor=world.manager, program=world.program)
    run.refresh_from_db()
    # Enqueued after commit, not run yet: the worker is a separate process in production.
    assert run.status == "queued"
    assert DBTaskResult.objects.filter(status="READY").count() == 1

    call_command("db_worker", batch=True, startup_delay=False, reload=False, verbosity=0)

    run.refresh_from_db()
    assert run.status == "succeeded", run.error_message
    assert Proposal.objects.filter(run=run).count() == 3
    assert DBTaskResult.objects.get().status == "SUCCESSFUL"
