from datetime import date, timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone

from peermentor.core.errors import ApplicationError
from peermentor.core.models import AuditEvent
from peermentor.enrollment.models import Answer, Participant, TrainingCompletion
from peermentor.enrollment.services import (
    answers_save,
    participant_approve,
    participant_decline,
    participant_enroll,
    participant_refresh_readiness,
    participant_withdraw,
    program_participants_refresh_readiness,
    training_complete,
)
from tests.enrollment.conftest import complete_answers
from tests.factories import (
    DepartmentFactory,
    InvitationFactory,
    ParticipantFactory,
    PersonFactory,
    ProfileQuestionFactory,
    ProgramFactory,
    ProgramManagerFactory,
    TrackFactory,
    TrainingModuleFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def actions(target):
    return list(
        AuditEvent.objects.filter(target_type="enrollment.participant", target_id=target.pk)
        .order_by("id")
        .values_list("action", flat=True)
    )


def finish_training(participant):
    for module in participant.program.training_modules.filter(is_required=True):
        answers = [item["answer"] for item in module.quiz] if module.kind == "quiz" else None
        training_complete(
            actor=participant.person.user, participant=participant, module=module, answers=answers
        )


# --- enroll -----------------------------------------------------------------------------------
def test_enroll_creates_an_enrolled_participant_and_records_it(program, employee):
    participant = participant_enroll(actor=employee.user, program=program)

    assert participant.status == "enrolled"
    assert participant.role == "peer"
    assert participant.capacity == 1
    assert not participant.is_ready
    assert actions(participant) == ["participant.enrolled"]
    event = AuditEvent.objects.get(action="participant.enrolled")
    assert event.actor == employee.user and event.to_state == "enrolled"


def test_enroll_waits_for_approval_when_the_program_needs_it(program, employee):
    program.needs_manager_approval = True
    program.save()
    assert participant_enroll(actor=employee.user, program=program).status == "pending_approval"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"status": "draft"}, "Enrollment is not open"),
        ({"status": "running"}, "Enrollment is not open"),
        ({"enrollment_opens_on": date.today() + timedelta(days=2)}, "Enrollment opens on"),
        ({"enrollment_closes_on": date.today() - timedelta(days=1)}, "Enrollment closed on"),
    ],
)
def test_enroll_is_refused_outside_the_enrollment_window(program, employee, changes, message):
    for name, value in changes.items():
        setattr(program, name, value)
    program.save()
    with pytest.raises(ApplicationError, match=message):
        participant_enroll(actor=employee.user, program=program)
    assert not Participant.objects.exists()


def test_enroll_is_refused_to_the_ineligible_with_the_reason(program, employee):
    program.eligibility = {"department_ids": [DepartmentFactory(name="Legal").pk]}
    program.save()
    with pytest.raises(ApplicationError, match="is not one this program is open to") as error:
        participant_enroll(actor=employee.user, program=program)
    assert error.value.status == 403
    assert not Participant.objects.exists()


def test_enroll_twice_is_refused(program, employee):
    participant_enroll(actor=employee.user, program=program)
    with pytest.raises(ApplicationError, match="already enrolled"):
        participant_enroll(actor=employee.user, program=program)
    assert Participant.objects.count() == 1


def test_the_database_refuses_a_second_participation(program, employee):
    participant_enroll(actor=employee.user, program=program)
    with pytest.raises(IntegrityError), transaction.atomic():
        Participant.objects.create(program=program, person=employee, status="enrolled")


def test_an_account_without_a_directory_entry_cannot_enroll(program):
    with pytest.raises(ApplicationError, match="not linked to anyone in the directory"):
        participant_enroll(actor=UserFactory(), program=program)


def test_invitation_only_programs_take_only_the_invited(program, employee):
    program.is_self_enrollment_open = False
    program.save()
    with pytest.raises(ApplicationError, match="by invitation only"):
        participant_enroll(actor=employee.user, program=program)

    track = TrackFactory(program=program, name="Lyon")
    invitation = InvitationFactory(program=program, person=employee, track=track)
    participant = participant_enroll(actor=employee.user, program=program)
    invitation.refresh_from_db()
    assert participant.track == track
    assert invitation.accepted_at is not None


def test_reenrolling_after_withdrawal_reactivates_and_keeps_answers(program, employee):
    participant = participant_enroll(actor=employee.user, program=program)
    answers_save(actor=employee.user, participant=participant, data=complete_answers())
    participant_withdraw(actor=employee.user, participant=participant, reason="Too busy")

    again = participant_enroll(actor=employee.user, program=program)

    assert again.pk == participant.pk
    assert again.status == "enrolled"
    assert again.withdrawn_at is None and again.withdrawal_reason == ""
    assert again.is_profile_complete
    assert actions(again)[-1] == "participant.reenrolled"


def test_a_declined_person_cannot_simply_enroll_again(program, employee, program_manager):
    program.needs_manager_approval = True
    program.save()
    participant = participant_enroll(actor=employee.user, program=program)
    participant_decline(actor=program_manager, participant=participant, reason="Next cohort")
    with pytest.raises(ApplicationError, match="not approved"):
        participant_enroll(actor=employee.user, program=program)


@pytest.mark.parametrize(
    ("program_format", "role", "expected_role", "expected_capacity"),
    [
        ("pairs", None, "peer", 1),
        ("circles", None, "member", 1),
        ("shadowing", "host", "host", 3),
        ("shadowing", "shadow", "shadow", 1),
        ("buddies", "buddy", "buddy", 3),
        ("buddies", "newcomer", "newcomer", 1),
    ],
)
def test_role_defaults_by_format_and_hosts_get_the_default_capacity(
    employee, program_format, role, expected_role, expected_capacity
):
    program = ProgramFactory(format=program_format, default_capacity=3)
    participant = participant_enroll(actor=employee.user, program=program, role=role)
    assert (participant.role, participant.capacity) == (expected_role, expected_capacity)


@pytest.mark.parametrize(
    ("program_format", "role"),
    [("shadowing", None), ("buddies", None), ("pairs", "host"), ("circles", "facilitator")],
)
def test_a_missing_or_foreign_role_is_a_field_error(employee, program_format, role):
    program = ProgramFactory(format=program_format, has_facilitator=False)
    with pytest.raises(ApplicationError) as error:
        participant_enroll(actor=employee.user, program=program, role=role)
    assert error.value.field == "role"


def test_a_program_with_tracks_needs_one_of_its_own(program, employee):
    TrackFactory(program=program)
    with pytest.raises(ApplicationError) as error:
        participant_enroll(actor=employee.user, program=program)
    assert error.value.field == "track"
    with pytest.raises(ApplicationError) as error:
        participant_enroll(actor=employee.user, program=program, track=TrackFactory())
    assert error.value.field == "track"


# --- approval ---------------------------------------------------------------------------------
@pytest.fixture
def pending(program, employee):
    program.needs_manager_approval = True
    program.save()
    return participant_enroll(actor=employee.user, program=program)


@pytest.mark.parametrize("who", ["line_manager", "program_manager", "admin"])
def test_approval_by_line_manager_program_manager_or_admin(
    pending, line_manager, program_manager, who
):
    actor = {
        "line_manager": line_manager.user,
        "program_manager": program_manager,
        "admin": UserFactory(is_org_admin=True),
    }[who]
    participant = participant_approve(actor=actor, participant=pending)
    assert participant.status == "enrolled"
    assert participant.approved_by == actor and participant.approved_at is not None
    event = AuditEvent.objects.get(action="participant.approved")
    assert (event.from_state, event.to_state, event.actor) == (
        "pending_approval",
        "enrolled",
        actor,
    )


@pytest.mark.parametrize("who", ["self", "other_manager", "colleague"])
def test_approval_by_the_wrong_person_is_refused(pending, who):
    actor = {
        "self": pending.person.user,
        "other_manager": ProgramManagerFactory().user,
        "colleague": PersonFactory(user=UserFactory()).user,
    }[who]
    with pytest.raises(PermissionDenied):
        participant_approve(actor=actor, participant=pending)
    pending.refresh_from_db()
    assert pending.status == "pending_approval"


def test_approving_twice_is_refused(pending, program_manager):
    participant_approve(actor=program_manager, participant=pending)
    with pytest.raises(ApplicationError, match="not waiting"):
        participant_approve(actor=program_manager, participant=pending)


def test_declining_needs_a_reason_and_records_it(pending, line_manager):
    with pytest.raises(ApplicationError) as error:
        participant_decline(actor=line_manager.user, participant=pending, reason="  ")
    assert error.value.field == "reason"

    participant = participant_decline(
        actor=line_manager.user, participant=pending, reason="Busy quarter"
    )
    assert participant.status == "declined"
    assert participant.decline_reason == "Busy quarter"
    assert AuditEvent.objects.get(action="participant.declined").reason == "Busy quarter"


# --- withdrawal -------------------------------------------------------------------------------
def test_a_participant_withdraws_themselves_without_a_reason(program, employee):
    participant = participant_enroll(actor=employee.user, program=program)
    participant = participant_withdraw(actor=employee.user, participant=participant)
    assert participant.status == "withdrawn" and participant.withdrawn_at is not None
    assert actions(participant)[-1] == "participant.withdrawn"


def test_a_manager_must_say_why_they_withdraw_someone(program, employee, program_manager):
    participant = participant_enroll(actor=employee.user, program=program)
    with pytest.raises(ApplicationError) as error:
        participant_withdraw(actor=program_manager, participant=participant, reason="")
    assert error.value.field == "reason"
    participant_withdraw(actor=program_manager, participant=participant, reason="Left the team")
    participant.refresh_from_db()
    assert participant.withdrawal_reason == "Left the team"


def test_another_participant_cannot_withdraw_someone(program, employee):
    participant = participant_enroll(actor=employee.user, program=program)
    other = ParticipantFactory(program=program)
    with pytest.raises(PermissionDenied):
        participant_withdraw(actor=other.person.user, participant=participant, reason="x")


def test_withdrawing_twice_is_refused(program, employee):
    participant = participant_enroll(actor=employee.user, program=program)
    participant_withdraw(actor=employee.user, participant=participant)
    with pytest.raises(ApplicationError, match="already ended"):
        participant_withdraw(actor=employee.user, participant=participant)


# --- answers ----------------------------------------------------------------------------------
@pytest.fixture
def enrolled(program, employee):
    return participant_enroll(actor=employee.user, program=program)


def test_answers_are_stored_in_their_normal_form(enrolled):
    answers_save(
        actor=enrolled.person.user,
        participant=enrolled,
        data=complete_answers(about="  I like maps  "),
    )
    stored = {answer.question.key: answer for answer in Answer.objects.select_related("question")}
    assert stored["goal"].value == "Learn"
    assert stored["skills_offered"].value == ["Python", "SQL"]
    assert stored["availability"].value == [{"day": 1, "start": "12:00", "end": "13:00"}]
    assert stored["availability"].time_zone == "Europe/Paris"
    assert stored["about"].value == "I like maps"
    enrolled.refresh_from_db()
    assert enrolled.is_profile_complete


def test_a_missing_required_answer_is_a_field_error_and_saves_nothing(enrolled):
    with pytest.raises(ApplicationError) as error:
        answers_save(
            actor=enrolled.person.user,
            participant=enrolled,
            data=complete_answers(skills_offered=[]),
        )
    assert error.value.field == "skills_offered"
    assert not Answer.objects.exists()


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"goal": "Sleep"}, "goal", "not one of the choices"),
        ({"skills_offered": ["Juggling"]}, "skills_offered", "skill list"),
        (
            {
                "availability": {
                    "time_zone": "Mars/Base",
                    "slots": [{"day": 1, "start": "09:00", "end": "10:00"}],
                }
            },
            "availability",
            "not a known time zone",
        ),
        (
            {
                "availability": {
                    "time_zone": "UTC",
                    "slots": [{"day": 1, "start": "10:00", "end": "09:00"}],
                }
            },
            "availability",
            "end time must be after",
        ),
        (
            {
                "availability": {
                    "time_zone": "UTC",
                    "slots": [
                        {"day": 2, "start": "09:00", "end": "11:00"},
                        {"day": 2, "start": "10:30", "end": "12:00"},
                    ],
                }
            },
            "availability",
            "overlap on Wednesday",
        ),
        (
            {
                "availability": {
                    "time_zone": "UTC",
                    "slots": [{"day": 7, "start": "09:00", "end": "10:00"}],
                }
            },
            "availability",
            "day of the week",
        ),
        ({"about": "x" * 2001}, "about", "under 2000"),
    ],
)
def test_invalid_answers_are_field_errors(enrolled, overrides, field, message):
    with pytest.raises(ApplicationError, match=message) as error:
        answers_save(
            actor=enrolled.person.user, participant=enrolled, data=complete_answers(**overrides)
        )
    assert error.value.field == field


def test_numbers_are_parsed_and_nonsense_refused(enrolled):
    ProfileQuestionFactory(
        program=enrolled.program, key="years", kind="number", choices=[], is_required=False
    )
    answers_save(actor=enrolled.person.user, participant=enrolled, data=complete_answers(years="4"))
    assert Answer.objects.get(question__key="years").value == 4
    for bad in ("four", float("nan"), True):
        with pytest.raises(ApplicationError) as error:
            answers_save(
                actor=enrolled.person.user, participant=enrolled, data=complete_answers(years=bad)
            )
        assert error.value.field == "years"


def test_an_unknown_question_key_is_refused(enrolled):
    with pytest.raises(ApplicationError, match="not a question"):
        answers_save(
            actor=enrolled.person.user, participant=enrolled, data=complete_answers(salary=1)
        )


def test_blanking_an_optional_answer_removes_it(enrolled):
    answers_save(
        actor=enrolled.person.user, participant=enrolled, data=complete_answers(about="Hi")
    )
    answers_save(actor=enrolled.person.user, participant=enrolled, data=complete_answers(about=""))
    assert not Answer.objects.filter(question__key="about").exists()


def test_only_the_participant_answers_their_questions(enrolled, program_manager):
    for actor in (program_manager, ParticipantFactory(program=enrolled.program).person.user):
        with pytest.raises(PermissionDenied):
            answers_save(actor=actor, participant=enrolled, data=complete_answers())


def test_a_withdrawn_participant_cannot_change_answers(enrolled):
    participant_withdraw(actor=enrolled.person.user, participant=enrolled)
    with pytest.raises(ApplicationError, match="ended"):
        answers_save(actor=enrolled.person.user, participant=enrolled, data=complete_answers())


def test_answer_values_stay_out_of_the_audit_trail(enrolled):
    answers_save(actor=enrolled.person.user, participant=enrolled, data=complete_answers())
    event = AuditEvent.objects.get(action="participant.answers_saved")
    assert event.data == {"questions": ["goal", "skills_offered", "availability"]}


# --- training ---------------------------------------------------------------------------------
def modules(program):
    acknowledge, quiz, optional = program.training_modules.order_by("position")
    return acknowledge, quiz, optional


def test_acknowledging_a_module_completes_it(enrolled):
    acknowledge, _, _ = modules(enrolled.program)
    result = training_complete(actor=enrolled.person.user, participant=enrolled, module=acknowledge)
    assert result.is_passed and result.completion is not None
    assert TrainingCompletion.objects.filter(participant=enrolled, module=acknowledge).count() == 1


def test_a_quiz_below_the_pass_mark_fails_shows_wrong_answers_and_can_be_retried(enrolled):
    _, quiz, _ = modules(enrolled.program)
    failed = training_complete(
        actor=enrolled.person.user, participant=enrolled, module=quiz, answers=[1, 1, 0]
    )
    assert not failed.is_passed
    assert failed.score_percent == 33
    assert failed.wrong_questions == [1, 2]
    assert not TrainingCompletion.objects.filter(module=quiz).exists()
    assert AuditEvent.objects.filter(action="training.failed").count() == 1

    passed = training_complete(
        actor=enrolled.person.user, participant=enrolled, module=quiz, answers=[1, 0, 0]
    )
    assert passed.is_passed and passed.score_percent == 67 and passed.wrong_questions == [2]
    assert TrainingCompletion.objects.get(module=quiz).score_percent == 67


def test_a_quiz_needs_an_answer_to_every_question(enrolled):
    _, quiz, _ = modules(enrolled.program)
    for answers in ([1, 0], [1, 0, 9], [1, None, 1]):
        with pytest.raises(ApplicationError) as error:
            training_complete(
                actor=enrolled.person.user, participant=enrolled, module=quiz, answers=answers
            )
        assert error.value.field.startswith("question_")


def test_training_is_refused_for_another_program_or_person(enrolled):
    with pytest.raises(ApplicationError, match="not part of your program"):
        training_complete(
            actor=enrolled.person.user, participant=enrolled, module=TrainingModuleFactory()
        )
    acknowledge, _, _ = modules(enrolled.program)
    with pytest.raises(PermissionDenied):
        training_complete(actor=UserFactory(), participant=enrolled, module=acknowledge)


# --- readiness --------------------------------------------------------------------------------
def test_ready_only_with_profile_and_required_training_done(enrolled):
    user = enrolled.person.user
    answers_save(actor=user, participant=enrolled, data=complete_answers())
    enrolled.refresh_from_db()
    assert enrolled.is_profile_complete and not enrolled.is_training_complete
    assert not enrolled.is_ready

    finish_training(enrolled)  # The optional module stays undone.
    enrolled.refresh_from_db()
    assert enrolled.is_training_complete and enrolled.is_ready
    assert actions(enrolled)[-1] == "participant.ready"


def test_a_pending_participant_becomes_ready_only_when_approved(pending, program_manager):
    answers_save(actor=pending.person.user, participant=pending, data=complete_answers())
    finish_training(pending)
    pending.refresh_from_db()
    assert pending.is_profile_complete and pending.is_training_complete
    assert not pending.is_ready

    assert participant_approve(actor=program_manager, participant=pending).is_ready


def test_withdrawing_clears_readiness(enrolled):
    answers_save(actor=enrolled.person.user, participant=enrolled, data=complete_answers())
    finish_training(enrolled)
    participant = participant_withdraw(actor=enrolled.person.user, participant=enrolled)
    assert not participant.is_ready


def test_a_new_required_question_makes_ready_people_not_ready(enrolled, program_manager):
    answers_save(actor=enrolled.person.user, participant=enrolled, data=complete_answers())
    finish_training(enrolled)
    ProfileQuestionFactory(program=enrolled.program, key="new", kind="text", choices=[])

    assert program_participants_refresh_readiness(program=enrolled.program) == 1
    enrolled.refresh_from_db()
    assert not enrolled.is_profile_complete and not enrolled.is_ready


def test_a_program_without_questions_or_training_is_ready_at_enrollment(employee):
    participant = participant_enroll(actor=employee.user, program=ProgramFactory())
    assert participant.is_ready


def test_refresh_keeps_the_first_ready_time(enrolled):
    answers_save(actor=enrolled.person.user, participant=enrolled, data=complete_answers())
    finish_training(enrolled)
    enrolled.refresh_from_db()
    first = enrolled.ready_at
    assert participant_refresh_readiness(enrolled).ready_at == first


def test_the_database_refuses_a_ready_participant_who_is_not(program):
    for values in (
        {"status": "pending_approval", "is_profile_complete": True, "is_training_complete": True},
        {"status": "enrolled", "is_profile_complete": False, "is_training_complete": True},
        {"status": "enrolled", "is_profile_complete": True, "is_training_complete": False},
    ):
        with pytest.raises(IntegrityError), transaction.atomic():
            ParticipantFactory(program=program, ready_at=timezone.now(), **values)
