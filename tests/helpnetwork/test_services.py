"""Help-network services: success, bad input and refusal for each; recommendations; the flash
connection and what follows it."""

import datetime
import zoneinfo

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from peermentor.connections.models import Connection, ConnectionMember
from peermentor.connections.services import block_person, connection_activate, connection_propose
from peermentor.core.errors import ApplicationError
from peermentor.core.models import AuditEvent
from peermentor.engagement.models import Meeting
from peermentor.helpnetwork import services
from peermentor.helpnetwork.models import AskStatus, HelpAsk, HelpOffer, OfferStatus
from peermentor.helpnetwork.selectors import recommendations
from peermentor.notifications.models import Notification
from tests.factories import ParticipantFactory, ProgramFactory, ProgramManagerFactory

pytestmark = pytest.mark.django_db

LONDON = zoneinfo.ZoneInfo("Europe/London")


def _ask(personas, skill, **options):
    options.setdefault("description", "How do I profile a slow pandas job?")
    return services.help_ask_create(
        actor=personas.participant, program=personas.program, skill=skill, **options
    )


def _notes(user, prefix):
    return list(
        Notification.objects.filter(recipient=user, dedupe_key__startswith=prefix).values_list(
            "title", flat=True
        )
    )


# --- asking -------------------------------------------------------------------------------------
def test_ask_stores_preferred_times_in_utc_and_is_audited(personas, help_program, python):
    personas.participant.time_zone = "Europe/London"
    personas.participant.save()
    now = timezone.now()
    wall = (
        (now + datetime.timedelta(days=3))
        .astimezone(LONDON)
        .replace(hour=10, minute=0, second=0, microsecond=0, tzinfo=None)
    )
    ask = _ask(personas, python, preferred_times=[wall], now=now)
    assert ask.status == AskStatus.OPEN
    assert ask.time_zone == "Europe/London"
    (stored,) = ask.preferred_times.values_list("starts_at", flat=True)
    assert stored == wall.replace(tzinfo=LONDON).astimezone(datetime.UTC)
    assert ask.expires_at == now + datetime.timedelta(days=14)
    event = AuditEvent.objects.get(action="help_ask.created", target_id=ask.pk)
    assert event.actor == personas.participant and event.to_state == "open"


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"description": "help"}, "description"),
        ({"description": "x" * 1001}, "description"),
        ({"expires_in_days": 5}, "expires_in_days"),
        ({"skill": None}, "skill"),
        ({"time_zone": "Mars/Olympus"}, "time_zone"),
    ],
)
def test_ask_bad_input_names_the_field(personas, help_program, python, options, field):
    options = {"skill": python, **options}
    with pytest.raises(ApplicationError) as error:
        _ask(personas, **options)
    assert error.value.field == field
    assert not HelpAsk.objects.exists()


def test_ask_refuses_past_times_too_many_times_and_a_second_open_ask(
    personas, help_program, python
):
    now = timezone.now()
    with pytest.raises(ApplicationError) as error:
        _ask(personas, python, preferred_times=[now - datetime.timedelta(hours=1)])
    assert error.value.field == "time_1"
    later = [now + datetime.timedelta(days=d) for d in (1, 2, 3, 4)]
    with pytest.raises(ApplicationError) as error:
        _ask(personas, python, preferred_times=later)
    assert error.value.field == "preferred_times"
    with pytest.raises(ApplicationError) as error:
        _ask(personas, python, preferred_times=[now + datetime.timedelta(days=20)])
    assert "before your ask expires" in error.value.message
    _ask(personas, python)
    with pytest.raises(ApplicationError) as error:
        _ask(personas, python)
    assert error.value.field == "skill"
    assert HelpAsk.objects.count() == 1


@pytest.mark.parametrize("role", ["manager", "admin", "outsider"])
def test_only_enrolled_participants_ask(personas, help_program, python, role):
    with pytest.raises(PermissionDenied):
        services.help_ask_create(
            actor=personas.user(role), program=help_program, skill=python, description="x" * 20
        )


def test_withdrawn_participants_and_other_formats_cannot_ask(personas, help_program, python):
    record = personas.participant_record
    record.status = "withdrawn"
    record.withdrawn_at = timezone.now()
    record.save()
    with pytest.raises(PermissionDenied):
        _ask(personas, python)
    pairs = ProgramFactory(format="pairs")
    ParticipantFactory(program=pairs, person=personas.other_participant_record.person)
    with pytest.raises(ApplicationError, match="no help network"):
        services.help_ask_create(
            actor=personas.other_participant, program=pairs, skill=python, description="x" * 20
        )


# --- recommendations ----------------------------------------------------------------------------
def test_recommendations_only_suggest_people_who_offered_the_skill_outside_the_team_first(
    personas, help_program, python, make_helper
):
    teammate = make_helper("Tom Teammate", department="Engineering", site="London")
    remote = make_helper("Fay Finance", department="Finance", site="Leeds")
    same_site = make_helper("Sam Sales", department="Sales", site="London")
    make_helper("Sid Sql", department="Finance", site="Leeds", offers=["SQL"])
    make_helper("Nia Nothing", department="Finance", site="Leeds", offers=None)
    ask = _ask(personas, python)

    suggestions = recommendations(ask=ask)

    assert [s.participant for s in suggestions] == [remote, same_site, teammate]
    by_name = {s.participant.person.full_name: s for s in suggestions}
    assert by_name["Fay Finance"].reasons == (
        "Offered to help with Python. Works in Finance, Leeds — outside your team and site."
    )
    assert "Works in Sales, London — outside your team." in by_name["Sam Sales"].reasons
    assert by_name["Fay Finance"].is_outside_team and by_name["Fay Finance"].is_outside_site
    assert not by_name["Tom Teammate"].is_outside_team


def test_recommendations_leave_out_blocked_busy_and_the_asker(
    personas, help_program, python, make_helper
):
    blocked = make_helper("Bo Blocked", department="Finance", site="Leeds")
    busy = make_helper("Bu Busy", department="Finance", site="Leeds")
    partner = make_helper("Pat Partner", department="Finance", site="Leeds")
    free = make_helper("Fi Free", department="Finance", site="Leeds")
    block_person(actor=personas.participant, blocked=blocked.person)
    pair = connection_propose(
        actor=personas.manager,
        program=help_program,
        members=[(busy, "peer"), (partner, "peer")],
        kind="pair",
        source="manual",
    )
    connection_activate(actor=personas.manager, connection=pair)
    question = help_program.questions.get(key="skills_offered")
    from tests.factories import AnswerFactory

    AnswerFactory(participant=personas.participant_record, question=question, value=["Python"])
    ask = _ask(personas, python)

    assert [s.participant for s in recommendations(ask=ask)] == [free]


def test_someone_helping_right_now_still_gets_suggestions_and_free_helpers_are_suggested(
    personas, help_program, python, sql, make_helper
):
    busy_helper = make_helper("Hal Helper", department="Sales", site="Leeds", capacity=2)
    other_asker = make_helper("Olga Other", offers=None, capacity=2)
    first = services.help_ask_create(
        actor=other_asker.person.user,
        program=help_program,
        skill=python,
        description="Decorators confuse me.",
    )
    # Ana helps Olga with SQL right now (a flash meeting), and Hal helps Olga with Python.
    question = help_program.questions.get(key="skills_offered")
    from tests.factories import AnswerFactory

    AnswerFactory(participant=personas.participant_record, question=question, value=["SQL"])
    sql_ask = services.help_ask_create(
        actor=other_asker.person.user,
        program=help_program,
        skill=sql,
        description="Joins confuse me too.",
    )
    for ask, helper in ((first, busy_helper.person.user), (sql_ask, personas.participant)):
        offer = services.help_offer_create(actor=helper, ask=ask)
        services.help_offer_accept(actor=other_asker.person.user, offer=offer)

    ask = _ask(personas, python)

    # Hal has a second free place; Olga is busy with two flash meetings and offered nothing.
    assert [s.participant for s in recommendations(ask=ask)] == [busy_helper]


# --- offers -------------------------------------------------------------------------------------
def test_offer_notifies_the_asker_and_can_be_withdrawn_and_renewed(
    personas, help_program, python, offers_python
):
    ask = _ask(personas, python)
    offer = services.help_offer_create(
        actor=personas.other_participant, ask=ask, message="I use it daily."
    )
    assert offer.status == OfferStatus.OPEN
    assert _notes(personas.participant, "help_offer:") == ["Omar Other offered to help with Python"]
    services.help_offer_withdraw(actor=personas.other_participant, offer=offer)
    offer.refresh_from_db()
    assert offer.status == OfferStatus.WITHDRAWN and offer.decided_at is not None
    renewed = services.help_offer_create(actor=personas.other_participant, ask=ask)
    assert renewed.pk == offer.pk and renewed.status == OfferStatus.OPEN
    assert (
        AuditEvent.objects.filter(target_id=offer.pk, action__startswith="help_offer.").count() == 3
    )


def test_offer_refusals(personas, help_program, python, offers_python, make_helper):
    ask = _ask(personas, python)
    with pytest.raises(PermissionDenied):
        services.help_offer_create(actor=personas.participant, ask=ask)
    with pytest.raises(PermissionDenied):
        services.help_offer_create(actor=personas.manager, ask=ask)
    with pytest.raises(PermissionDenied):
        services.help_offer_create(actor=personas.outsider, ask=ask)
    services.help_offer_create(actor=personas.other_participant, ask=ask)
    with pytest.raises(ApplicationError, match="already offered"):
        services.help_offer_create(actor=personas.other_participant, ask=ask)
    with pytest.raises(ApplicationError, match="too long"):
        services.help_offer_create(
            actor=make_helper("Lou Long").person.user, ask=ask, message="x" * 1001
        )
    blocked = make_helper("Bo Blocked")
    block_person(actor=blocked.person.user, blocked=personas.participant_record.person)
    with pytest.raises(ApplicationError, match="cannot offer"):
        services.help_offer_create(actor=blocked.person.user, ask=ask)
    offer = HelpOffer.objects.get(helper=offers_python)
    with pytest.raises(PermissionDenied):
        services.help_offer_withdraw(actor=personas.participant, offer=offer)
    services.help_ask_close(actor=personas.participant, ask=ask)
    with pytest.raises(ApplicationError, match="closed"):
        services.help_offer_create(actor=make_helper("Late Larry").person.user, ask=ask)


# --- taking an offer up -------------------------------------------------------------------------
def test_accepting_an_offer_makes_a_flash_connection_with_a_meeting_and_declines_the_rest(
    personas, help_program, python, offers_python, make_helper
):
    now = timezone.now()
    soon = now + datetime.timedelta(days=2)
    ask = _ask(personas, python, preferred_times=[soon, soon + datetime.timedelta(hours=2)])
    taken = services.help_offer_create(actor=personas.other_participant, ask=ask)
    other_helper = make_helper("Otto Also")
    other = services.help_offer_create(actor=other_helper.person.user, ask=ask)

    connection = services.help_offer_accept(actor=personas.participant, offer=taken)

    assert connection.kind == "flash" and connection.status == "active"
    assert connection.source == "help_network"
    members = ConnectionMember.objects.filter(connection=connection, is_current=True)
    assert {m.participant_id for m in members} == {
        personas.participant_record.pk,
        offers_python.pk,
    }
    assert all(m.uses_capacity for m in members)
    ask.refresh_from_db()
    taken.refresh_from_db()
    other.refresh_from_db()
    assert ask.status == AskStatus.MATCHED and ask.connection == connection
    assert taken.status == OfferStatus.ACCEPTED
    assert other.status == OfferStatus.DECLINED
    meeting = Meeting.objects.get(connection=connection)
    assert meeting.status == "proposed" and meeting.proposed_by == personas.participant
    assert sorted(meeting.options.values_list("starts_at", flat=True)) == sorted(
        ask.preferred_times.values_list("starts_at", flat=True)
    )
    assert _notes(personas.other_participant, "help_accepted:") == [
        "Ana Asker took up your offer to help with Python"
    ]
    assert _notes(other_helper.person.user, "help_declined:") == [
        "Your offer to help with Python was not needed"
    ]
    assert AuditEvent.objects.filter(action="help_ask.matched", target_id=ask.pk).exists()


def test_accept_refusals(personas, help_program, python, offers_python, make_helper):
    ask = _ask(personas, python)
    offer = services.help_offer_create(actor=personas.other_participant, ask=ask)
    second = services.help_offer_create(actor=make_helper("Sec Ond").person.user, ask=ask)
    for role in ("other_participant", "manager", "admin"):
        with pytest.raises(PermissionDenied):
            services.help_offer_accept(actor=personas.user(role), offer=offer)
    services.help_offer_accept(actor=personas.participant, offer=offer)
    with pytest.raises(ApplicationError, match="matched"):
        services.help_offer_accept(actor=personas.participant, offer=second)
    assert Connection.objects.count() == 1


def test_a_helper_without_room_cannot_be_taken_up(
    personas, help_program, python, offers_python, make_helper
):
    partner = make_helper("Pat Partner")
    ask = _ask(personas, python)
    offer = services.help_offer_create(actor=personas.other_participant, ask=ask)
    # Omar starts an ongoing pair meanwhile: a pair is one at a time, so no flash either.
    pair = connection_propose(
        actor=personas.manager,
        program=help_program,
        members=[(offers_python, "peer"), (partner, "peer")],
        kind="pair",
        source="manual",
    )
    connection_activate(actor=personas.manager, connection=pair)
    with pytest.raises(ApplicationError, match="already has a current connection"):
        services.help_offer_accept(actor=personas.participant, offer=offer)
    ask.refresh_from_db()
    offer.refresh_from_db()
    assert ask.status == AskStatus.OPEN and offer.status == OfferStatus.OPEN


def test_a_helper_with_capacity_holds_several_flash_meetings(
    personas, help_program, python, sql, make_helper
):
    helper = make_helper("Hal Helper", offers=["Python", "SQL"], capacity=2)
    first = _ask(personas, python)
    other_asker = personas.other_participant
    second = services.help_ask_create(
        actor=other_asker, program=help_program, skill=sql, description="Joins confuse me a lot."
    )
    for ask, asker in ((first, personas.participant), (second, other_asker)):
        offer = services.help_offer_create(actor=helper.person.user, ask=ask)
        services.help_offer_accept(actor=asker, offer=offer)
    assert ConnectionMember.objects.filter(participant=helper, is_current=True).count() == 2


# --- after the meeting --------------------------------------------------------------------------
@pytest.fixture
def matched(personas, help_program, python, offers_python):
    ask = _ask(personas, python)
    offer = services.help_offer_create(actor=personas.other_participant, ask=ask)
    services.help_offer_accept(actor=personas.participant, offer=offer)
    ask.refresh_from_db()
    return ask


def test_thank_you_completes_the_flash_and_reaches_the_helper(personas, matched):
    services.help_thank(actor=personas.participant, ask=matched, message="That saved my week!")
    matched.refresh_from_db()
    assert matched.thank_you == "That saved my week!" and matched.thanked_at is not None
    assert matched.connection.status == "completed"
    note = Notification.objects.get(
        recipient=personas.other_participant, dedupe_key__startswith="help_thanks:"
    )
    assert note.body == "That saved my week!"
    with pytest.raises(ApplicationError, match="already"):
        services.help_thank(actor=personas.participant, ask=matched, message="Again!")


def test_thank_you_refusals(personas, help_program, python, matched):
    with pytest.raises(PermissionDenied):
        services.help_thank(actor=personas.other_participant, ask=matched, message="Thanks")
    with pytest.raises(ApplicationError) as error:
        services.help_thank(actor=personas.participant, ask=matched, message="  ")
    assert error.value.field == "message"
    open_ask = services.help_ask_create(
        actor=personas.participant,
        program=help_program,
        skill=__import__("tests.factories").factories.SkillFactory(name="Go"),
        description="Goroutines leak somewhere.",
    )
    with pytest.raises(ApplicationError, match="once someone's offer"):
        services.help_thank(actor=personas.participant, ask=open_ask, message="Thanks")


def test_either_side_turns_the_flash_into_an_ongoing_pair_and_the_other_accepts(personas, matched):
    pair = services.help_ongoing_propose(actor=personas.other_participant, ask=matched)
    assert pair.kind == "pair" and pair.status == "proposed"
    matched.refresh_from_db()
    assert matched.connection.status == "completed"
    assert _notes(personas.participant, "help_ongoing:") == [
        "Omar Other would like to keep meeting you"
    ]
    with pytest.raises(PermissionDenied):
        services.help_ongoing_answer(actor=personas.other_participant, ask=matched, accept=True)
    with pytest.raises(ApplicationError, match="already asked"):
        services.help_ongoing_propose(actor=personas.participant, ask=matched)
    pair = services.help_ongoing_answer(actor=personas.participant, ask=matched, accept=True)
    assert pair.status == "active"
    assert _notes(personas.other_participant, "help_ongoing_answer:") == [
        "Ana Asker agreed to keep meeting"
    ]


def test_ongoing_refusals(personas, matched, make_helper):
    with pytest.raises(PermissionDenied):
        services.help_ongoing_propose(actor=make_helper("Stranger").person.user, ask=matched)
    with pytest.raises(PermissionDenied):
        services.help_ongoing_propose(actor=personas.manager, ask=matched)
    with pytest.raises(ApplicationError, match="Nobody asked"):
        services.help_ongoing_answer(actor=personas.participant, ask=matched, accept=True)


def test_a_declined_ongoing_request_can_be_asked_again(personas, matched):
    services.help_ongoing_propose(actor=personas.participant, ask=matched)
    pair = services.help_ongoing_answer(actor=personas.other_participant, ask=matched, accept=False)
    assert pair.status == "cancelled"
    again = services.help_ongoing_propose(actor=personas.participant, ask=matched)
    assert again.status == "proposed" and again.pk != pair.pk


# --- closing and expiry -------------------------------------------------------------------------
def test_close_by_asker_or_manager_declines_open_offers(
    personas, help_program, python, offers_python
):
    ask = _ask(personas, python)
    services.help_offer_create(actor=personas.other_participant, ask=ask)
    with pytest.raises(PermissionDenied):
        services.help_ask_close(actor=personas.other_participant, ask=ask)
    with pytest.raises(PermissionDenied):
        services.help_ask_close(actor=ProgramManagerFactory().user, ask=ask)
    services.help_ask_close(actor=personas.manager, ask=ask, reason="Off topic")
    ask.refresh_from_db()
    assert ask.status == AskStatus.CLOSED and ask.close_reason == "Off topic"
    assert HelpOffer.objects.get().status == OfferStatus.DECLINED
    assert _notes(personas.participant, "help_closed:") == [
        "Your ask for help with Python was closed by the program's managers"
    ]
    with pytest.raises(ApplicationError, match="nothing to close"):
        services.help_ask_close(actor=personas.participant, ask=ask)


def test_expiry_closes_old_asks_once_and_tells_asker_and_helpers(
    personas, help_program, python, sql, offers_python
):
    old = _ask(personas, python, expires_in_days=3)
    fresh = _ask(personas, sql, expires_in_days=30)
    services.help_offer_create(actor=personas.other_participant, ask=old)
    later = timezone.now() + datetime.timedelta(days=4)

    assert services.help_asks_expire(now=later) == 1
    assert services.help_asks_expire(now=later) == 0

    old.refresh_from_db()
    fresh.refresh_from_db()
    assert old.status == AskStatus.EXPIRED and old.closed_at == later
    assert fresh.status == AskStatus.OPEN
    assert HelpOffer.objects.get(ask=old).status == OfferStatus.DECLINED
    assert _notes(personas.participant, "help_expired:") == [
        "Your ask for help with Python has expired"
    ]
    assert len(_notes(personas.other_participant, "help_declined:")) == 1
    assert AuditEvent.objects.filter(action="help_ask.expired", target_id=old.pk).count() == 1


# --- invitations --------------------------------------------------------------------------------
def test_the_asker_invites_a_suggested_helper_once(personas, help_program, python, make_helper):
    helper = make_helper("Fay Finance", department="Finance", site="Leeds")
    stranger = make_helper("Sid Sql", offers=["SQL"])
    ask = _ask(personas, python)
    services.help_ask_invite(actor=personas.participant, ask=ask, helper=helper)
    assert _notes(helper.person.user, "help_invited:") == [
        "Ana Asker asks for your help with Python"
    ]
    with pytest.raises(ApplicationError, match="already invited"):
        services.help_ask_invite(actor=personas.participant, ask=ask, helper=helper)
    with pytest.raises(ApplicationError, match="does not offer"):
        services.help_ask_invite(actor=personas.participant, ask=ask, helper=stranger)
    with pytest.raises(PermissionDenied):
        services.help_ask_invite(actor=personas.other_participant, ask=ask, helper=helper)
    assert [s.is_invited for s in recommendations(ask=ask)] == [True]
