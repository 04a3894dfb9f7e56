"""The scheduled nudges: who is reminded of what, once; one digest per person; bounded queries."""

import datetime
import io

import pytest
from django.apps import apps
from django.core import mail
from django.core.management import call_command
from django.db import connection as db_connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from peermentor.connections.models import Connection
from peermentor.connections.services import connection_propose
from peermentor.engagement.models import Plan, PlanItem
from peermentor.flows.nudges import nudges_collect, nudges_run, week_key
from peermentor.notifications.models import Digest, Notification, NudgeSettings
from peermentor.notifications.services import notification_preference_update
from tests.factories import (
    CheckInFactory,
    HelpAskFactory,
    HelpOfferFactory,
    MeetingFactory,
    ReadyParticipantFactory,
    SkillFactory,
)
from tests.notifications.conftest import NOW

pytestmark = pytest.mark.django_db


@pytest.fixture
def bea(make_member):
    return make_member("Bea Partner")


@pytest.fixture
def pair(personas, bea, make_connection):
    """The participant and Bea, started 25 days ago: stalled (21 days), no check-in due yet."""
    return make_connection(personas.participant_record, bea, days_ago=25)


def _titles(user, kind=None):
    notes = Notification.objects.filter(recipient=user)
    if kind:
        notes = notes.filter(kind=kind)
    return sorted(notes.values_list("title", flat=True))


def test_a_stalled_pair_reminds_both_members_once_a_week(personas, bea, pair):
    result = nudges_run(now=NOW)

    assert result.notifications_created == 2
    assert _titles(personas.participant) == ["Time to meet Bea Partner again"]
    note = Notification.objects.get(recipient=bea.person.user)
    assert note.title == f"Time to meet {personas.participant_record.person.full_name} again"
    assert note.dedupe_key == f"stalled:{pair.pk}:{week_key(NOW.date())}"
    assert note.url == f"/engagement/connections/{pair.pk}/"
    assert "You have not met yet since you were connected on" in note.body
    assert sorted(m.to[0] for m in mail.outbox) == sorted(
        [personas.participant.email, bea.person.user.email]
    )

    again = nudges_run(now=NOW + datetime.timedelta(hours=3))
    assert (again.notifications_created, again.digests_sent) == (0, 0)
    assert len(mail.outbox) == 2

    next_week = NOW + datetime.timedelta(days=7)
    assert nudges_run(now=next_week).digests_sent == 2
    assert (
        Notification.objects.filter(
            dedupe_key=f"stalled:{pair.pk}:{week_key(next_week.date())}"
        ).count()
        == 2
    )


def test_a_recent_meeting_or_a_higher_threshold_means_no_reminder(personas, pair):
    NudgeSettings.objects.create(program=personas.program, stalled_after_days=40)
    assert not [n for n in nudges_collect(now=NOW) if n.kind == "stalled_connection"]
    NudgeSettings.objects.all().delete()
    MeetingFactory(
        connection=pair,
        status="held",
        starts_at=NOW - datetime.timedelta(days=3),
        outcome_logged_at=NOW - datetime.timedelta(days=2),
    )
    assert not [n for n in nudges_collect(now=NOW) if n.kind == "stalled_connection"]


def test_plans_behind_remind_the_members(personas, bea, make_connection):
    connection = make_connection(personas.participant_record, bea, days_ago=3)
    # The plan was made when the connection started; replace its items with these.
    plan = Plan.objects.get(connection=connection)
    plan.items.all().delete()
    for title in ("Agree goals", "First meeting"):
        PlanItem.objects.create(
            plan=plan, kind="milestone", title=title, due_on=NOW.date() - datetime.timedelta(days=2)
        )
    PlanItem.objects.create(plan=plan, kind="task", title="Later", due_on=NOW.date())
    nudges_run(now=NOW)
    assert _titles(personas.participant) == ["Your plan with Bea Partner is falling behind"]
    note = Notification.objects.get(recipient=bea.person.user)
    assert note.body.startswith("2 plan items are past the due date.")


def test_ends_coming_up_are_announced_once_per_end_date(personas, bea, make_connection):
    end = NOW.date() + datetime.timedelta(days=5)
    connection = make_connection(personas.participant_record, bea, days_ago=3, planned_end_on=end)
    make_connection(
        ReadyParticipantFactory(program=personas.program),
        ReadyParticipantFactory(program=personas.program),
        days_ago=3,
        planned_end_on=NOW.date() + datetime.timedelta(days=10),
    )
    nudges_run(now=NOW)
    nudges_run(now=NOW + datetime.timedelta(days=1))
    assert _titles(personas.participant) == [
        f"Your connection with Bea Partner ends on {end:%d %b %Y}"
    ]
    assert Notification.objects.filter(kind="ending_soon").count() == 2
    assert (
        Notification.objects.get(recipient=bea.person.user).url == f"/connections/{connection.pk}/"
    )


def test_check_ins_due_remind_each_member_who_has_not_answered(personas, bea, make_connection):
    connection = make_connection(personas.participant_record, bea, days_ago=31)
    CheckInFactory(
        connection=connection,
        participant=bea,
        period=1,
        due_on=NOW.date() - datetime.timedelta(days=1),
    )
    nudges_run(now=NOW)
    assert _titles(personas.participant, "check_in_due") == ["How is it going with Bea Partner?"]
    assert _titles(bea.person.user, "check_in_due") == []
    note = Notification.objects.get(kind="check_in_due")
    assert note.url == f"/engagement/connections/{connection.pk}/check-in/"


def test_unanswered_meeting_times_remind_the_partner_not_the_proposer(
    personas, bea, make_connection
):
    connection = make_connection(personas.participant_record, bea, days_ago=3)
    meeting = MeetingFactory(connection=connection, proposed_by=personas.participant)
    type(meeting).objects.filter(pk=meeting.pk).update(created_at=NOW - datetime.timedelta(days=3))
    nudges_run(now=NOW)
    name = personas.participant.full_name
    assert _titles(bea.person.user, "request_waiting") == [
        f"{name} is waiting for you to pick a time"
    ]
    assert _titles(personas.participant, "request_waiting") == []


def test_self_match_requests_waiting_remind_the_one_who_must_answer(personas, bea, running):
    personas.program.is_self_match_enabled = True
    personas.program.save()
    request = connection_propose(
        actor=personas.participant,
        program=personas.program,
        members=[(personas.participant_record, "peer"), (bea, "peer")],
        kind="pair",
        source="self_match",
    )
    nudges_run(now=NOW)
    assert _titles(bea.person.user, "request_waiting") == []
    Connection.objects.filter(pk=request.pk).update(created_at=NOW - datetime.timedelta(days=3))
    nudges_run(now=NOW)
    name = personas.participant_record.person.full_name
    assert _titles(bea.person.user, "request_waiting") == [f"{name} would like to connect with you"]
    assert _titles(personas.participant, "request_waiting") == []


def test_match_requests_waiting_remind_their_recipient_once_a_week(personas, bea, running):
    try:
        request_model = apps.get_model("selfmatch", "MatchRequest")
    except LookupError:
        pytest.skip("This deployment has no self-match requests.")
    request = request_model.objects.create(
        program=personas.program,
        requester=personas.participant_record,
        recipient=bea,
        created_at=NOW - datetime.timedelta(days=3),
        expires_at=NOW + datetime.timedelta(days=4),
    )
    nudges_run(now=NOW)
    nudges_run(now=NOW + datetime.timedelta(days=1))
    name = personas.participant_record.person.full_name
    assert _titles(bea.person.user, "request_waiting") == [f"{name} is waiting for your answer"]
    assert Notification.objects.get(kind="request_waiting").url == reverse(
        "match_request_detail", args=[request.pk]
    )
    assert _titles(personas.participant, "request_waiting") == []


def test_offers_waiting_for_the_asker_remind_them(personas, running):
    personas.program.format = "help_network"
    personas.program.save()
    ask = HelpAskFactory(
        program=personas.program,
        asker=personas.participant_record,
        skill=SkillFactory(name="Python"),
        expires_at=NOW + datetime.timedelta(days=10),
    )
    offer = HelpOfferFactory(ask=ask, helper=personas.other_participant_record)
    nudges_run(now=NOW)
    assert _titles(personas.participant) == []
    type(offer).objects.filter(pk=offer.pk).update(created_at=NOW - datetime.timedelta(days=2))
    nudges_run(now=NOW)
    assert _titles(personas.participant) == ["1 person offered to help with Python"]


def test_everything_for_one_person_comes_in_one_digest(personas, bea, make_member, make_connection):
    make_connection(
        personas.participant_record,
        bea,
        days_ago=25,
        planned_end_on=NOW.date() + datetime.timedelta(days=2),
    )
    nudges_run(now=NOW)
    mine = [m for m in mail.outbox if m.to == [personas.participant.email]]
    assert len(mine) == 1
    assert "== Connections that have not met for a while ==" in mine[0].body
    assert "== Connections ending soon ==" in mine[0].body
    assert mine[0].subject == "Peermentor: 2 things for you today"


def test_preferences_are_honoured_by_the_nudge_run(personas, bea, pair):
    notification_preference_update(
        actor=personas.participant, digest_frequency="daily", email_kinds=["check_in_due"]
    )
    nudges_run(now=NOW)
    assert [m.to for m in mail.outbox] == [[bea.person.user.email]]
    # In the app the reminder is there all the same.
    assert _titles(personas.participant) == ["Time to meet Bea Partner again"]


def test_the_nudge_run_does_not_grow_its_queries_with_connections(
    personas, make_member, make_connection
):
    def add_pairs(count, days_ago):
        for number in range(count):
            make_connection(
                make_member(f"First {days_ago}-{number}"),
                make_member(f"Second {days_ago}-{number}"),
                days_ago=days_ago,
                planned_end_on=NOW.date() + datetime.timedelta(days=3),
            )

    add_pairs(1, 25)
    add_pairs(1, 31)
    with CaptureQueriesContext(db_connection) as few:
        first = nudges_run(now=NOW)
    Notification.objects.all().delete()
    Digest.objects.all().delete()
    add_pairs(6, 25)
    add_pairs(6, 31)
    with CaptureQueriesContext(db_connection) as many:
        second = nudges_run(now=NOW)
    assert second.notifications_created > first.notifications_created
    assert second.digests_sent == 28 > first.digests_sent
    assert len(many) == len(few), [q["sql"] for q in many.captured_queries]


def test_the_command_runs_the_nudges_and_can_queue_them_for_the_worker(personas, pair):
    out = io.StringIO()
    call_command("send_nudges", stdout=out)
    assert "2 new notifications" in out.getvalue()
    out = io.StringIO()
    call_command("send_nudges", "--enqueue", stdout=out)
    # Tests run tasks immediately; in production the db_worker picks it up.
    assert out.getvalue().startswith("Queued for the task worker:")
    assert Notification.objects.count() == 2
