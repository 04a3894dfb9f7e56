"""`manage.py run_periodic`: one entry point that queues (or runs) every periodic job, and
whose rounds can repeat without sending anything twice."""

import datetime
import io

import pytest
from django.core import mail
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from peermentor.core.models import AuditEvent
from peermentor.flows.management.commands import run_periodic
from peermentor.notifications.models import Digest, Notification
from peermentor.selfmatch.models import MatchRequest

pytestmark = pytest.mark.django_db


def _zone_around_noon():
    """A zone where it is around noon now: past the digest hour (the command uses the real
    clock)."""
    offset = (12 - timezone.now().hour + 12) % 24 - 12
    return f"Etc/GMT{-offset:+d}" if offset else "UTC"


@pytest.fixture
def due_work(personas, make_member, make_connection):
    """A stalled pair (a nudge is due for both) and a request past its expiry date."""
    zone = _zone_around_noon()
    personas.participant.time_zone = zone
    personas.participant.save()
    bea = make_member("Bea Partner", time_zone=zone)
    pair = make_connection(personas.participant_record, bea, days_ago=25)
    cleo, dan = make_member("Cleo Asker", time_zone=zone), make_member("Dan Asked", time_zone=zone)
    now = timezone.now()
    overdue = MatchRequest.objects.create(
        program=personas.program,
        requester=cleo,
        recipient=dan,
        created_at=now - datetime.timedelta(days=8),
        expires_at=now - datetime.timedelta(days=1),
    )
    return pair, overdue, cleo


def _run(*args):
    out = io.StringIO()
    call_command("run_periodic", *args, stdout=out)
    return out.getvalue()


def test_once_now_expires_requests_sends_nudges_and_a_second_round_sends_nothing_again(
    personas, due_work, django_capture_on_commit_callbacks
):
    pair, overdue, cleo = due_work
    with django_capture_on_commit_callbacks(execute=True):
        out = _run("--once", "--now")

    assert (
        "ran request expiry: 1; leavers: participations withdrawn 0; "
        "planned ends: connections completed 0, programs closed 0; "
        "nudges: notifications created 2"
    ) in out
    assert "surveys: invitations created 0" in out
    overdue.refresh_from_db()
    assert overdue.status == "expired"
    stalled = Notification.objects.filter(dedupe_key__startswith=f"stalled:{pair.pk}:")
    assert stalled.count() == 2
    assert Digest.objects.filter(sent_at__isnull=False).count() == 2
    # The requester hears of the expiry; both members of the pair get their digest.
    recipients = sorted(address for message in mail.outbox for address in message.to)
    assert recipients == sorted(
        [
            cleo.person.email,
            personas.participant.email,
            pair.members.exclude(participant=personas.participant_record)
            .get()
            .participant.person.user.email,
        ]
    )

    with django_capture_on_commit_callbacks(execute=True):
        again = _run("--once", "--now")

    assert "ran request expiry: 0; leavers: participations withdrawn 0" in again
    assert "nudges: notifications created 0, digests sent 0" in again
    assert len(mail.outbox) == 3
    assert Notification.objects.count() == 2
    assert AuditEvent.objects.filter(action="match_request.expired").count() == 1


def test_once_queues_every_periodic_job_for_the_worker(settings, due_work):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    from django_tasks_db.models import DBTaskResult

    _pair, overdue, _cleo = due_work
    out = _run("--once")

    assert " UTC queued request expiry " in out
    queued = DBTaskResult.objects.all()
    assert sorted(queued.values_list("task_path", flat=True)) == [
        "peermentor.flows.tasks.apply_retention_task",
        "peermentor.flows.tasks.leavers_task",
        "peermentor.flows.tasks.planned_ends_task",
        "peermentor.flows.tasks.send_nudges_task",
        "peermentor.notifications.tasks.emails_retry_task",
        "peermentor.selfmatch.tasks.requests_expire_task",
        "peermentor.surveys.tasks.send_surveys_task",
    ]
    assert set(queued.values_list("status", flat=True)) == {"READY"}
    # Queued, not run: the worker does that.
    overdue.refresh_from_db()
    assert overdue.status == "pending"
    assert Notification.objects.count() == 0


def test_once_through_the_test_backend_runs_the_queued_jobs(due_work):
    # Tests use the immediate backend: queueing runs the task at once.
    _pair, overdue, _cleo = due_work
    _run("--once")
    overdue.refresh_from_db()
    assert overdue.status == "expired"
    assert Notification.objects.filter(kind="stalled_connection").count() == 2


def test_a_failing_job_does_not_stop_the_others_and_once_reports_it(monkeypatch, due_work):
    from peermentor.flows import nudges

    def broken(**_kwargs):
        raise RuntimeError("mail server down")

    monkeypatch.setattr(nudges, "nudges_run", broken)
    out = io.StringIO()
    with pytest.raises(CommandError, match="Failed: nudges"):
        call_command("run_periodic", "--once", "--now", stdout=out)
    _pair, overdue, _cleo = due_work
    overdue.refresh_from_db()
    assert overdue.status == "expired"
    assert "surveys: invitations created 0" in out.getvalue()
    assert "FAILED nudges" in out.getvalue()


def test_the_loop_runs_a_round_every_period_until_stopped(monkeypatch, due_work):
    waits = []

    class TwoRounds(run_periodic.threading.Event):
        def wait(self, timeout=None):
            waits.append(timeout)
            if len(waits) == 2:
                self.set()
            return self.is_set()

    monkeypatch.setattr(run_periodic.threading, "Event", TwoRounds)
    monkeypatch.setattr(run_periodic.signal, "signal", lambda *args: None)
    out = _run("--every", "60")

    assert waits == [60, 60]
    lines = out.splitlines()
    assert lines[0] == "Periodic jobs: queueing a round every 60 seconds (Ctrl-C stops)."
    assert len(lines) == 3
    assert all(" UTC queued request expiry " in line for line in lines[1:])
    # Two rounds, each job idempotent: the reminders were written once.
    assert Notification.objects.filter(kind="stalled_connection").count() == 2


def test_a_period_below_one_second_is_refused():
    with pytest.raises(CommandError, match="at least 1 second"):
        call_command("run_periodic", "--every", "0")
