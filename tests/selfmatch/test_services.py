"""Self-match services: send, accept, decline, withdraw, expire, block/report, settings."""

import datetime as dt

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone

from peermentor.connections import services as connection_services
from peermentor.connections.models import Block, Connection, Report
from peermentor.core.errors import ApplicationError
from peermentor.core.models import AuditEvent
from peermentor.notifications.models import Notification
from peermentor.selfmatch import services
from peermentor.selfmatch.models import MatchRequest, SelfMatchSettings
from tests.factories import BlockFactory, ParticipantFactory
from tests.selfmatch.world import add_ready, self_match_world, send, user_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(db):
    return self_match_world()


def audit_actions(request):
    return list(
        AuditEvent.objects.filter(target_type="selfmatch.matchrequest", target_id=request.pk)
        .order_by("id")
        .values_list("action", flat=True)
    )


# --- send ---------------------------------------------------------------------------------
def test_send_makes_a_pending_request_that_expires_after_the_program_setting(
    world, django_capture_on_commit_callbacks
):
    ana, ben = world.participants[0], world.participants[1]
    with django_capture_on_commit_callbacks(execute=True):
        request = send(world, ana, ben, message="  Shall we swap Python for SQL?  ")
    request.refresh_from_db()
    assert request.status == "pending"
    assert request.message == "Shall we swap Python for SQL?"
    assert request.expires_at - request.created_at == dt.timedelta(days=7)
    assert request.score is not None and request.score > 0
    assert request.reasons
    assert audit_actions(request) == ["match_request.sent"]
    # The recipient hears of it in the app and by e-mail; the requester does not.
    assert Notification.objects.filter(recipient=user_of(ben)).count() == 1
    assert [message.to for message in mail.outbox] == [[ben.person.email]]
    assert "Shall we swap Python for SQL?" in mail.outbox[0].body


def test_send_uses_the_programs_expiry(world):
    SelfMatchSettings.objects.create(program=world.program, request_expiry_days=3)
    request = send(world, world.participants[0], world.participants[1])
    assert request.expires_at - request.created_at == dt.timedelta(days=3)


def test_send_refuses_bad_input(world):
    ana, ben = world.participants[0], world.participants[1]
    with pytest.raises(ApplicationError) as error:
        send(world, ana, ben, message="x" * 1001)
    assert error.value.field == "message"
    with pytest.raises(ApplicationError) as error:
        send(world, ana, ana)
    assert "yourself" in error.value.message
    stranger = ParticipantFactory()  # another program
    with pytest.raises(ApplicationError) as error:
        send(world, ana, stranger)
    assert "not taking part" in error.value.message
    assert not MatchRequest.objects.exists()


def test_send_refused_when_self_match_is_off(world):
    world.program.is_self_match_enabled = False
    world.program.save()
    with pytest.raises(PermissionDenied):
        send(world, world.participants[0], world.participants[1])


def test_send_refused_for_circles(db):
    world = self_match_world(format="circles")
    with pytest.raises(PermissionDenied):
        send(world, world.participants[0], world.participants[1])


def test_send_refused_to_non_participants_and_closed_programs(world, personas):
    with pytest.raises(PermissionDenied):
        services.request_send(
            actor=personas.outsider, program=world.program, recipient=world.participants[0]
        )
    world.program.status = "closed"
    world.program.save()
    with pytest.raises(ApplicationError, match="not taking requests"):
        send(world, world.participants[0], world.participants[1])


def test_send_refused_until_both_are_ready(world):
    ana, ben = world.participants[0], world.participants[1]
    not_ready = ParticipantFactory(program=world.program)
    with pytest.raises(ApplicationError, match="not ready"):
        send(world, ana, not_ready)
    with pytest.raises(ApplicationError, match="Finish your profile"):
        send(world, not_ready, ben)


@pytest.mark.parametrize("direction", ["by_requester", "by_recipient"])
def test_send_refused_when_either_blocked_the_other_without_saying_who(world, direction):
    ana, ben = world.participants[0], world.participants[1]
    blocker, blocked = (ana, ben) if direction == "by_requester" else (ben, ana)
    BlockFactory(blocker=blocker.person, blocked=blocked.person)
    with pytest.raises(ApplicationError) as error:
        send(world, ana, ben)
    assert error.value.message == "You cannot send a request to this person."


def _connect(world, first, second):
    connection = connection_services.connection_propose(
        actor=world.manager,
        program=world.program,
        members=[(first, first.role), (second, second.role)],
        kind="pair",
        source="manual",
    )
    return connection_services.connection_activate(actor=world.manager, connection=connection)


def test_send_refused_when_either_already_has_a_connection(world):
    ana, ben, cleo, dan = world.participants[:4]
    _connect(world, ana, cleo)
    with pytest.raises(ApplicationError, match="You already have a connection"):
        send(world, ana, ben)
    with pytest.raises(ApplicationError, match="already has a connection"):
        send(world, dan, cleo)


def test_send_refused_between_past_partners(world):
    ana, ben = world.participants[0], world.participants[1]
    connection = _connect(world, ana, ben)
    connection_services.connection_complete(actor=world.manager, connection=connection)
    with pytest.raises(ApplicationError, match="connected before"):
        send(world, ana, ben)


def test_send_refused_when_a_request_already_waits_either_way(world):
    ana, ben = world.participants[0], world.participants[1]
    send(world, ana, ben)
    with pytest.raises(ApplicationError, match="already asked"):
        send(world, ana, ben)
    with pytest.raises(ApplicationError, match="has already asked you"):
        send(world, ben, ana)
    assert MatchRequest.objects.count() == 1


def test_an_expired_request_does_not_stop_a_new_one(world):
    ana, ben = world.participants[0], world.participants[1]
    old = send(world, ana, ben)
    MatchRequest.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - dt.timedelta(days=9),
        expires_at=timezone.now() - dt.timedelta(days=2),
    )
    new = send(world, ana, ben)
    old.refresh_from_db()
    assert (old.status, new.status) == ("expired", "pending")


def test_popular_people_hold_at_most_the_pending_cap(world):
    popular = world.participants[0]
    for asker in world.participants[1:4]:
        send(world, asker, popular)
    with pytest.raises(ApplicationError) as error:
        send(world, world.participants[4], popular)
    assert "3 requests waiting" in error.value.message
    assert error.value.field == "recipient"


def test_one_person_has_at_most_the_outgoing_cap(world):
    SelfMatchSettings.objects.create(program=world.program, max_pending_outgoing=2)
    asker = world.participants[0]
    send(world, asker, world.participants[1])
    send(world, asker, world.participants[2])
    with pytest.raises(ApplicationError, match="withdraw one"):
        send(world, asker, world.participants[3])


def test_send_refused_when_the_programs_rules_forbid_the_pair(world):
    world.save_policy(constraint=[{"kind": "must_differ", "field": "department"}])
    ana = world.participants[0]
    same_department = add_ready(world, "Same Dept", department=ana.person.department)
    with pytest.raises(ApplicationError, match="matching rules do not allow"):
        send(world, ana, same_department)


def test_send_refused_between_roles_that_cannot_be_connected(db):
    world = self_match_world(format="shadowing", people=0)
    shadow_one = add_ready(world, "Shadow One", role="shadow")
    shadow_two = add_ready(world, "Shadow Two", role="shadow")
    with pytest.raises(ApplicationError, match="takes part as shadow"):
        send(world, shadow_one, shadow_two)


# --- database rules -------------------------------------------------------------------------
def test_the_database_refuses_self_requests_and_a_second_pending_request_either_way(world):
    ana, ben = world.participants[0], world.participants[1]
    later = timezone.now() + dt.timedelta(days=7)
    with pytest.raises(IntegrityError), transaction.atomic():
        MatchRequest.objects.create(
            program=world.program, requester=ana, recipient=ana, expires_at=later
        )
    MatchRequest.objects.create(
        program=world.program, requester=ana, recipient=ben, expires_at=later
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        MatchRequest.objects.create(
            program=world.program, requester=ben, recipient=ana, expires_at=later
        )
    # Once answered, the pair may ask again.
    MatchRequest.objects.update(status="declined", responded_at=timezone.now())
    MatchRequest.objects.create(
        program=world.program, requester=ben, recipient=ana, expires_at=later
    )


# --- accept -------------------------------------------------------------------------------
def test_accept_connects_the_two_and_cancels_every_request_that_cannot_be_honoured(
    world, django_capture_on_commit_callbacks
):
    ana, ben, cleo, dan, eve, fay = world.participants[:6]
    accepted = send(world, ana, ben, message="Hello")
    ana_to_cleo = send(world, ana, cleo)  # Ana's other request: Ana is taken now
    dan_to_ana = send(world, dan, ana)  # a request to Ana: she is taken now
    eve_to_ben = send(world, eve, ben)  # a request to Ben: he is taken now
    fay_to_dan = send(world, fay, dan)  # nothing to do with them: stays
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        result = services.request_accept(actor=user_of(ben), request=accepted)

    assert result.status == "accepted"
    connection = Connection.objects.get(pk=result.connection_id)
    assert connection.status == "active"
    assert connection.source == "self_match"
    assert connection.reasons == accepted.reasons
    assert set(connection.members.values_list("participant_id", flat=True)) == {ana.pk, ben.pk}
    for other in (ana_to_cleo, dan_to_ana, eve_to_ben):
        other.refresh_from_db()
        assert other.status == "cancelled"
        assert other.responded_at is not None
        assert "has just been connected" in other.response_note
        assert audit_actions(other) == ["match_request.sent", "match_request.cancelled"]
    fay_to_dan.refresh_from_db()
    assert fay_to_dan.status == "pending"
    assert audit_actions(accepted) == ["match_request.sent", "match_request.accepted"]
    # Ana hears of the acceptance; both sides of each cancelled request get a notice.
    recipients = sorted(address for message in mail.outbox for address in message.to)
    assert recipients == sorted(
        [
            ana.person.email,  # the acceptance
            *(ana.person.email, cleo.person.email),  # Ana's request to Cleo, cancelled
            *(dan.person.email, ana.person.email),  # Dan's request to Ana, cancelled
            *(eve.person.email, ben.person.email),  # Eve's request to Ben, cancelled
        ]
    )
    assert any("accepted your request" in message.subject for message in mail.outbox)


def test_accept_is_for_the_recipient_only(world):
    ana, ben, cleo = world.participants[:3]
    request = send(world, ana, ben)
    for actor in (user_of(ana), user_of(cleo), world.manager):
        with pytest.raises(PermissionDenied):
            services.request_accept(actor=actor, request=request)
    request.refresh_from_db()
    assert request.status == "pending"
    assert not Connection.objects.exists()


def test_accept_refused_once_answered_or_expired(world):
    ana, ben, cleo = world.participants[:3]
    request = send(world, ana, ben)
    services.request_withdraw(actor=user_of(ana), request=request)
    with pytest.raises(ApplicationError, match="withdrawn"):
        services.request_accept(actor=user_of(ben), request=request)
    late = send(world, cleo, ben)
    MatchRequest.objects.filter(pk=late.pk).update(expires_at=timezone.now())
    with pytest.raises(ApplicationError, match="expired"):
        services.request_accept(actor=user_of(ben), request=late)
    assert not Connection.objects.exists()


def test_accept_refused_once_the_program_closed_or_turned_self_match_off(world):
    ana, ben = world.participants[:2]
    request = send(world, ana, ben)
    world.program.status = "closed"
    world.program.save()
    with pytest.raises(ApplicationError, match="no longer lets participants"):
        services.request_accept(actor=user_of(ben), request=request)
    world.program.status = "running"
    world.program.is_self_match_enabled = False
    world.program.save()
    with pytest.raises(ApplicationError, match="no longer lets participants"):
        services.request_accept(actor=user_of(ben), request=request)
    assert not Connection.objects.exists()


def test_accept_after_the_requester_was_matched_elsewhere_closes_the_request(world):
    ana, ben, cleo = world.participants[:3]
    request = send(world, ana, ben)
    # A manager connects Ana by hand; nothing told the request.
    _connect(world, ana, cleo)
    result = services.request_accept(actor=user_of(ben), request=request)
    assert result.status == "cancelled"
    assert "connected with someone else" in result.response_note
    assert Connection.objects.count() == 1


def test_hosts_take_requests_up_to_their_capacity(db):
    world = self_match_world(format="shadowing", people=0)
    host = add_ready(world, "Host", role="host", capacity=2)
    shadows = [add_ready(world, f"Shadow {i}", role="shadow") for i in range(3)]
    first, second, third = (send(world, shadow, host) for shadow in shadows)

    services.request_accept(actor=user_of(host), request=first)
    third.refresh_from_db()
    assert third.status == "pending"  # the host still has a free place
    services.request_accept(actor=user_of(host), request=second)
    third.refresh_from_db()
    assert third.status == "cancelled"  # now the host is full
    assert Connection.objects.filter(status="active", kind="shadowing").count() == 2


# --- decline, withdraw ----------------------------------------------------------------------
def test_decline_with_a_note_tells_the_requester(world, django_capture_on_commit_callbacks):
    ana, ben = world.participants[:2]
    request = send(world, ana, ben)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.request_decline(actor=user_of(ben), request=request, note="  Too busy now. ")
    request.refresh_from_db()
    assert (request.status, request.response_note) == ("declined", "Too busy now.")
    assert audit_actions(request)[-1] == "match_request.declined"
    assert [m.to for m in mail.outbox] == [[ana.person.email]]
    assert "Too busy now." in mail.outbox[0].body


def test_decline_refuses_bad_input_and_other_people(world):
    ana, ben = world.participants[:2]
    request = send(world, ana, ben)
    with pytest.raises(ApplicationError) as error:
        services.request_decline(actor=user_of(ben), request=request, note="x" * 1001)
    assert error.value.field == "note"
    with pytest.raises(PermissionDenied):
        services.request_decline(actor=user_of(ana), request=request)
    request.refresh_from_db()
    assert request.status == "pending"


def test_withdraw_by_the_requester_only(world, django_capture_on_commit_callbacks):
    ana, ben = world.participants[:2]
    request = send(world, ana, ben)
    with pytest.raises(PermissionDenied):
        services.request_withdraw(actor=user_of(ben), request=request)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.request_withdraw(actor=user_of(ana), request=request)
    request.refresh_from_db()
    assert request.status == "withdrawn"
    assert [m.to for m in mail.outbox] == [[ben.person.email]]
    with pytest.raises(ApplicationError, match="cannot be withdrawn"):
        services.request_withdraw(actor=user_of(ana), request=request)


# --- expiry ---------------------------------------------------------------------------------
def test_expiry_closes_old_requests_once_and_tells_the_requester(
    world, django_capture_on_commit_callbacks
):
    ana, ben, cleo = world.participants[:3]
    old = send(world, ana, ben)
    fresh = send(world, cleo, ben)
    now = timezone.now()
    MatchRequest.objects.filter(pk=old.pk).update(
        created_at=now - dt.timedelta(days=8), expires_at=now - dt.timedelta(days=1)
    )
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert services.requests_expire(now=now) == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert services.requests_expire(now=now) == 0
    old.refresh_from_db()
    fresh.refresh_from_db()
    assert (old.status, fresh.status) == ("expired", "pending")
    assert old.responded_at == now
    assert audit_actions(old) == ["match_request.sent", "match_request.expired"]
    assert [m.to for m in mail.outbox] == [[ana.person.email]]
    # A retried notice task sends nothing twice.
    assert services.request_notices_send(request_ids=[old.pk]) == 0


def test_expire_task_runs_the_service(world):
    from peermentor.selfmatch.tasks import requests_expire_task

    request = send(world, world.participants[0], world.participants[1])
    MatchRequest.objects.filter(pk=request.pk).update(expires_at=timezone.now())
    result = requests_expire_task.enqueue()
    assert result.return_value == 1


# --- other apps' changes ------------------------------------------------------------------------
def test_requests_of_people_placed_or_gone_elsewhere_are_cancelled(world):
    ana, ben, cleo, dan = world.participants[:4]
    to_ana = send(world, ben, ana)
    from_dan = send(world, dan, cleo)
    _connect(world, ana, world.participants[4])
    dan.status = "withdrawn"
    dan.withdrawn_at = timezone.now()
    dan.ready_at = None
    dan.save()
    assert (
        services.requests_cancel_unhonourable(actor=world.manager, participant_ids=[ana.pk, dan.pk])
        == 2
    )
    to_ana.refresh_from_db()
    from_dan.refresh_from_db()
    assert (to_ana.status, from_dan.status) == ("cancelled", "cancelled")
    assert "no longer taking part" in from_dan.response_note


# --- safety ---------------------------------------------------------------------------------
def test_block_from_a_request_closes_it_and_blocks_for_good(world):
    ana, ben = world.participants[:2]
    request = send(world, ana, ben)
    services.request_block(actor=user_of(ben), request=request, reason="Rude message")
    request.refresh_from_db()
    assert request.status == "declined"
    assert Block.objects.filter(blocker=ben.person, blocked=ana.person).exists()
    assert audit_actions(request)[-1] == "match_request.declined"
    with pytest.raises(ApplicationError, match="cannot send a request"):
        send(world, ana, ben)


def test_block_and_report_are_for_the_two_people_only(world):
    ana, ben, cleo = world.participants[:3]
    request = send(world, ana, ben)
    with pytest.raises(PermissionDenied):
        services.request_block(actor=user_of(cleo), request=request)
    with pytest.raises(PermissionDenied):
        services.request_report(actor=world.manager, request=request, text="Spam")
    assert not Block.objects.exists()


def test_report_from_a_request(world):
    ana, ben = world.participants[:2]
    request = send(world, ana, ben)
    with pytest.raises(ApplicationError) as error:
        services.request_report(actor=user_of(ben), request=request, text="  ")
    assert error.value.field == "text"
    report = services.request_report(actor=user_of(ben), request=request, text="Pushy message")
    assert isinstance(report, Report)
    assert (report.reporter, report.reported) == (ben.person, ana.person)
    request.refresh_from_db()
    assert request.status == "pending"


# --- settings -------------------------------------------------------------------------------
def test_settings_update_success_bad_input_and_refusal(world):
    settings = services.self_match_settings_update(
        actor=world.manager,
        program=world.program,
        request_expiry_days=10,
        max_pending_incoming=5,
        max_pending_outgoing=2,
    )
    assert (settings.request_expiry_days, settings.max_pending_incoming) == (10, 5)
    assert AuditEvent.objects.filter(action="self_match.settings_updated").count() == 1
    with pytest.raises(ApplicationError) as error:
        services.self_match_settings_update(
            actor=world.manager,
            program=world.program,
            request_expiry_days=0,
            max_pending_incoming=5,
            max_pending_outgoing=2,
        )
    assert error.value.field == "request_expiry_days"
    with pytest.raises(PermissionDenied):
        services.self_match_settings_update(
            actor=user_of(world.participants[0]),
            program=world.program,
            request_expiry_days=3,
            max_pending_incoming=3,
            max_pending_outgoing=3,
        )
    assert services.self_match_settings_for(world.program).request_expiry_days == 10


def test_a_line_break_in_a_name_does_not_lose_the_request_notice(
    world, django_capture_on_commit_callbacks
):
    ana, ben = world.participants[:2]
    ana.person.full_name = "Ana\nExample"
    ana.person.save()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        send(world, ana, ben)
    assert [message.to for message in mail.outbox] == [[ben.person.email]]
    assert "\n" not in mail.outbox[0].subject
    assert mail.outbox[0].subject.startswith("Ana Example would like to connect")
