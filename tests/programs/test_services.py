"""Program services: success, bad input and refusal, each with its audit row."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction

from peermentor.core.errors import ApplicationError
from peermentor.core.models import AuditEvent
from peermentor.flows import program_copy as program_copy_flow
from peermentor.flows import program_setup
from peermentor.programs import services
from peermentor.programs.models import (
    Format,
    Goal,
    ProfileQuestion,
    Program,
    ProgramManager,
    ProgramStatus,
    QuestionKind,
    Track,
    TrainingKind,
    TrainingModule,
)
from peermentor.programs.policy import policy_fields
from peermentor.selfmatch import services as request_services
from peermentor.selfmatch.models import SelfMatchSettings
from tests.factories import (
    DepartmentFactory,
    ParticipantFactory,
    ProfileQuestionFactory,
    ProgramFactory,
    ProgramManagerFactory,
    SiteFactory,
    TrackFactory,
    TrainingModuleFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

DRAFT, ENROLLING, MATCHING, RUNNING, CLOSED = ProgramStatus.values


@pytest.fixture
def admin():
    return UserFactory(is_org_admin=True)


@pytest.fixture
def program(admin):
    return services.program_create(actor=admin, name="Skills Exchange", goals=[Goal.SKILL_LEARNING])


@pytest.fixture
def manager(program):
    return ProgramManagerFactory(program=program).user


def last_event(action):
    return AuditEvent.objects.filter(action=action).order_by("-id").first()


# --- program_create ---------------------------------------------------------------------------
def test_create_applies_the_goal_defaults_as_a_draft(admin):
    program = services.program_create(
        actor=admin,
        name="  Newcomers 2026 ",
        goals=[Goal.ONBOARDING],
        sponsor="Chief People Officer",
        enrollment_opens_on=datetime.date(2026, 1, 5),
        enrollment_closes_on=datetime.date(2026, 1, 31),
    )
    program.refresh_from_db()
    assert program.name == "Newcomers 2026"
    assert program.status == DRAFT
    assert program.format == Format.BUDDIES
    assert program.created_by == admin
    assert program.matching_policy["sides"] == {"field": "role", "a": "buddy", "b": "newcomer"}
    assert [q.key for q in program.questions.all()] == [
        "interests",
        "meeting_mode",
        "availability",
        "hopes",
    ]
    assert [m.title for m in program.training_modules.all()] == [
        "Being a good peer mentor",
        "Peer mentoring check",
        "Welcoming a newcomer",
    ]
    assert program.success_metrics[0]["key"] == "match_rate"
    event = last_event("program.created")
    assert (event.actor, event.target_id, event.program_id) == (admin, program.pk, program.pk)
    assert event.to_state == DRAFT


def test_create_with_an_explicit_format_overrides_the_goal_default(admin):
    program = services.program_create(
        actor=admin,
        name="Wellbeing pairs",
        goals=[Goal.WELLBEING],
        format=Format.PAIRS,
    )
    assert program.format == Format.PAIRS
    assert program.matching_policy["format"] == "pairs"
    assert "group_size" not in program.matching_policy


def test_create_circles_keeps_group_size_in_the_policy(admin):
    program = services.program_create(
        actor=admin,
        name="Circles",
        goals=[Goal.WELLBEING],
        group_size_min=5,
        group_size_max=7,
        has_facilitator=True,
    )
    assert program.matching_policy["group_size"] == [5, 7]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"goals": []}, "goals"),
        ({"goals": ["world_peace"]}, "goals"),
        ({"name": "  "}, "name"),
        ({"format": "triads"}, "format"),
        (
            {
                "enrollment_opens_on": datetime.date(2026, 2, 1),
                "enrollment_closes_on": datetime.date(2026, 1, 1),
            },
            "enrollment_closes_on",
        ),
        (
            {"starts_on": datetime.date(2026, 2, 1), "planned_end_on": datetime.date(2026, 2, 1)},
            "planned_end_on",
        ),
        ({"group_size_min": 6, "group_size_max": 4}, "group_size_max"),
        ({"anonymity_threshold": 1}, "anonymity_threshold"),
        ({"eligibility": {"department_ids": [999999]}}, "eligibility"),
        ({"eligibility": {"favourite_colour": "blue"}}, "eligibility"),
    ],
)
def test_create_refuses_bad_input_and_writes_nothing(admin, changes, field):
    arguments = {"actor": admin, "name": "A program", "goals": [Goal.NETWORKING], **changes}
    with pytest.raises(ApplicationError) as error:
        services.program_create(**arguments)
    assert error.value.field == field
    assert not Program.objects.exists()
    assert not AuditEvent.objects.exists()


def test_only_org_admins_create_programs():
    manager = ProgramManagerFactory().user
    with pytest.raises(PermissionDenied):
        services.program_create(actor=manager, name="Mine", goals=[Goal.NETWORKING])
    assert Program.objects.count() == 1  # only the factory's


# --- program_update ---------------------------------------------------------------------------
def test_managers_update_settings_and_the_change_is_recorded(program, manager):
    services.program_update(
        actor=manager,
        program=program,
        data={
            "name": "Skills Exchange 2026",
            "sponsor": "CTO",
            "starts_on": datetime.date(2026, 3, 1),
            "needs_manager_approval": True,
        },
    )
    program.refresh_from_db()
    assert program.name == "Skills Exchange 2026"
    assert program.needs_manager_approval
    event = last_event("program.updated")
    assert event.actor == manager
    assert event.data["changes"]["name"] == ["Skills Exchange", "Skills Exchange 2026"]
    assert event.data["changes"]["starts_on"] == [None, "2026-03-01"]


def test_update_to_circles_moves_the_policy_with_the_format(program, admin):
    services.program_update(
        actor=admin,
        program=program,
        data={"format": Format.CIRCLES, "group_size_min": 3, "group_size_max": 5},
    )
    program.refresh_from_db()
    assert program.matching_policy["format"] == "circles"
    assert program.matching_policy["group_size"] == [3, 5]
    # The goal's criteria survive the change of format.
    assert "skills_wanted" in policy_fields(program.matching_policy)


def test_update_validates_eligibility_metrics_and_policy(program, admin):
    department = DepartmentFactory()
    site = SiteFactory()
    services.program_update(
        actor=admin,
        program=program,
        data={
            "eligibility": {
                "department_ids": [str(department.pk)],
                "site_ids": [site.pk],
                "levels": [" L2 ", "L3", ""],
                "min_tenure_months": 6,
            },
            "success_metrics": ["match_rate", {"key": "satisfaction", "target": 4.5}],
        },
    )
    program.refresh_from_db()
    assert program.eligibility == {
        "department_ids": [department.pk],
        "site_ids": [site.pk],
        "levels": ["L2", "L3"],
        "min_tenure_months": 6,
    }
    assert [m["key"] for m in program.success_metrics] == ["match_rate", "satisfaction"]
    assert program.success_metrics[1]["target"] == 4.5
    for data, field in [
        ({"success_metrics": ["vanity_hours"]}, "success_metrics"),
        (
            {"matching_policy": {"criterion": [{"kind": "same", "field": "nope"}]}},
            "matching_policy",
        ),
        ({"eligibility": {"min_tenure_months": -3}}, "eligibility"),
    ]:
        with pytest.raises(ApplicationError) as error:
            services.program_update(actor=admin, program=program, data=data)
        assert error.value.field == field


def test_update_refuses_unknown_settings_and_status(program, admin):
    with pytest.raises(ApplicationError):
        services.program_update(actor=admin, program=program, data={"status": CLOSED})
    program.refresh_from_db()
    assert program.status == DRAFT


def test_format_cannot_change_once_people_enrolled(program, admin):
    ParticipantFactory(program=program)
    with pytest.raises(ApplicationError) as error:
        services.program_update(actor=admin, program=program, data={"format": Format.SHADOWING})
    assert error.value.field == "format"
    program.refresh_from_db()
    assert program.format == Format.PAIRS


def test_update_refused_for_other_managers_and_participants(program):
    other_manager = ProgramManagerFactory().user
    participant = ParticipantFactory(program=program).person.user
    for actor in (other_manager, participant):
        with pytest.raises(PermissionDenied):
            services.program_update(actor=actor, program=program, data={"name": "Mine now"})
    program.refresh_from_db()
    assert program.name == "Skills Exchange"


# --- program_transition -----------------------------------------------------------------------
ALLOWED = [
    (DRAFT, ENROLLING),
    (ENROLLING, MATCHING),
    (MATCHING, RUNNING),
    (RUNNING, CLOSED),
    (ENROLLING, DRAFT),
    (MATCHING, ENROLLING),
]
REFUSED = [
    (source, target)
    for source in ProgramStatus.values
    for target in ProgramStatus.values
    if (source, target) not in ALLOWED
]


@pytest.mark.parametrize(("source", "target"), ALLOWED)
def test_allowed_transitions_move_and_record_who_when_why(manager, program, source, target):
    Program.objects.filter(pk=program.pk).update(status=source)
    program.refresh_from_db()
    result = services.program_transition(
        actor=manager, program=program, to_status=target, reason="  Time to move on  "
    )
    assert result.status == target
    program.refresh_from_db()
    assert program.status == target
    event = last_event("program.status_changed")
    assert event.actor == manager
    assert (event.from_state, event.to_state) == (source, target)
    assert event.reason == "Time to move on"
    assert event.program_id == program.pk
    assert event.created_at is not None


@pytest.mark.parametrize(("source", "target"), REFUSED)
def test_other_transitions_are_refused_with_a_clear_message(admin, program, source, target):
    Program.objects.filter(pk=program.pk).update(status=source)
    program.refresh_from_db()
    before = AuditEvent.objects.count()
    with pytest.raises(ApplicationError) as error:
        services.program_transition(actor=admin, program=program, to_status=target, reason="Go")
    assert "can't move to" in error.value.message
    program.refresh_from_db()
    assert program.status == source
    assert AuditEvent.objects.count() == before


def test_transition_needs_a_reason_and_a_known_status(admin, program):
    with pytest.raises(ApplicationError) as error:
        services.program_transition(actor=admin, program=program, to_status=ENROLLING, reason=" ")
    assert error.value.field == "reason"
    with pytest.raises(ApplicationError) as error:
        services.program_transition(actor=admin, program=program, to_status="paused", reason="x")
    assert error.value.field == "to_status"
    program.refresh_from_db()
    assert program.status == DRAFT


def test_transition_refused_for_non_managers(program):
    participant = ParticipantFactory(program=program).person.user
    with pytest.raises(PermissionDenied):
        services.program_transition(
            actor=participant, program=program, to_status=ENROLLING, reason="Let me in"
        )
    program.refresh_from_db()
    assert program.status == DRAFT


def test_the_closed_message_says_it_is_final(admin, program):
    Program.objects.filter(pk=program.pk).update(status=CLOSED)
    program.refresh_from_db()
    with pytest.raises(ApplicationError) as error:
        services.program_transition(actor=admin, program=program, to_status=RUNNING, reason="x")
    assert "closed for good" in error.value.message


# --- program_copy -----------------------------------------------------------------------------
def test_copy_makes_the_next_cohort_as_a_draft_with_everything_but_people(program, admin, manager):
    services.program_update(
        actor=admin,
        program=program,
        data={
            "enrollment_opens_on": datetime.date(2026, 1, 1),
            "starts_on": datetime.date(2026, 2, 1),
            "needs_manager_approval": True,
        },
    )
    Program.objects.filter(pk=program.pk).update(status=RUNNING)
    program.refresh_from_db()
    TrackFactory(program=program, name="EMEA", eligibility={"levels": ["L2"]})
    ParticipantFactory(program=program)
    Program.objects.filter(pk=program.pk).update(is_self_match_enabled=True)
    program.refresh_from_db()
    request_services.self_match_settings_update(
        actor=manager,
        program=program,
        request_expiry_days=3,
        max_pending_incoming=5,
        max_pending_outgoing=2,
    )
    from peermentor.notifications.services import nudge_settings_for, nudge_settings_update

    nudge_settings_update(
        actor=manager,
        program=program,
        stalled_after_days=21,
        ending_soon_days=3,
        waiting_after_days=2,
    )
    copied = program_copy_flow.program_copy(actor=manager, program=program)
    assert copied.pk != program.pk
    assert copied.name == "Skills Exchange (next cohort)"
    assert copied.status == DRAFT
    assert copied.enrollment_opens_on is None and copied.starts_on is None
    assert copied.needs_manager_approval
    assert copied.matching_policy == program.matching_policy
    assert copied.goals == program.goals
    assert [(q.key, q.kind, q.choices) for q in copied.questions.all()] == [
        (q.key, q.kind, q.choices) for q in program.questions.all()
    ]
    assert [(m.title, m.quiz) for m in copied.training_modules.all()] == [
        (m.title, m.quiz) for m in program.training_modules.all()
    ]
    assert [(t.name, t.eligibility) for t in copied.tracks.all()] == [("EMEA", {"levels": ["L2"]})]
    assert list(copied.manager_links.values_list("user", flat=True)) == [manager.pk]
    assert not copied.participants.exists()
    assert copied.is_self_match_enabled
    settings = request_services.self_match_settings_for(copied)
    assert (
        settings.pk is not None,
        settings.request_expiry_days,
        settings.max_pending_incoming,
        settings.max_pending_outgoing,
    ) == (True, 3, 5, 2)
    reminders = nudge_settings_for(copied)
    assert (reminders.pk is not None, reminders.stalled_after_days) == (True, 21)
    assert (reminders.ending_soon_days, reminders.waiting_after_days) == (3, 2)
    assert last_event("program.copied").data == {"copy_id": copied.pk}
    assert last_event("program.created").data == {"copied_from": program.pk}
    # The source is untouched.
    program.refresh_from_db()
    assert program.status == RUNNING and program.participants.count() == 1


def test_copy_takes_a_name_and_is_refused_to_outsiders(program, admin):
    copied = program_copy_flow.program_copy(actor=admin, program=program, name="Cohort 2")
    assert copied.name == "Cohort 2"
    # A source on the default self-match settings gives a copy on the defaults: nothing saved.
    assert not SelfMatchSettings.objects.filter(program=copied).exists()
    outsider = UserFactory()
    with pytest.raises(PermissionDenied):
        program_copy_flow.program_copy(actor=outsider, program=program)
    assert Program.objects.count() == 2


# --- tracks -----------------------------------------------------------------------------------
def test_tracks_are_created_renamed_and_deleted(program, manager):
    track = services.track_create(actor=manager, program=program, name=" Americas ")
    assert track.name == "Americas"
    services.track_update(
        actor=manager, track=track, name="AMER", description="North and South America"
    )
    track.refresh_from_db()
    assert (track.name, track.description) == ("AMER", "North and South America")
    participant = ParticipantFactory(program=program, track=track)
    assert services.track_delete(actor=manager, track=track) == 1
    participant.refresh_from_db()
    assert participant.track is None
    assert not Track.objects.exists()
    assert [e.action for e in AuditEvent.objects.order_by("id")][-3:] == [
        "track.created",
        "track.updated",
        "track.deleted",
    ]
    assert last_event("track.deleted").data["participants_moved"] == 1


def test_track_names_are_required_and_unique_in_a_program(program, manager):
    services.track_create(actor=manager, program=program, name="EMEA")
    for name in ["", "emea"]:
        with pytest.raises(ApplicationError) as error:
            services.track_create(actor=manager, program=program, name=name)
        assert error.value.field == "name"
    # Another program may use the same name.
    other = ProgramFactory()
    services.track_create(actor=UserFactory(is_org_admin=True), program=other, name="EMEA")


def test_tracks_are_refused_to_participants(program):
    participant = ParticipantFactory(program=program).person.user
    track = TrackFactory(program=program)
    with pytest.raises(PermissionDenied):
        services.track_create(actor=participant, program=program, name="Mine")
    with pytest.raises(PermissionDenied):
        services.track_update(actor=participant, track=track, name="Mine")
    with pytest.raises(PermissionDenied):
        services.track_delete(actor=participant, track=track)
    assert list(Track.objects.values_list("name", flat=True)) == [track.name]


# --- managers ---------------------------------------------------------------------------------
def test_admins_add_and_remove_managers_by_email(program, admin):
    person = UserFactory(email="Maria@Example.com")
    services.program_manager_add(actor=admin, program=program, email=" maria@example.com ")
    assert list(program.manager_links.values_list("user", flat=True)) == [person.pk]
    assert last_event("program_manager.added").data["user_id"] == person.pk
    services.program_manager_remove(actor=admin, program=program, email="MARIA@example.com")
    assert not program.manager_links.exists()
    assert last_event("program_manager.removed").data["user_id"] == person.pk


def test_manager_emails_must_belong_to_someone_not_already_a_manager(program, admin, manager):
    for email, message in [
        ("", "Enter the e-mail"),
        ("nobody@example.com", "invite them first"),
        (manager.email, "already manages"),
    ]:
        with pytest.raises(ApplicationError) as error:
            services.program_manager_add(actor=admin, program=program, email=email)
        assert message in error.value.message
        assert error.value.field == "email"
    with pytest.raises(ApplicationError):
        services.program_manager_remove(actor=admin, program=program, email="nobody@example.com")
    assert program.manager_links.count() == 1


def test_managers_cannot_choose_managers(program, manager):
    with pytest.raises(PermissionDenied):
        services.program_manager_add(actor=manager, program=program, email=UserFactory().email)
    with pytest.raises(PermissionDenied):
        services.program_manager_remove(actor=manager, program=program, email=manager.email)
    assert program.manager_links.count() == 1


def test_the_database_refuses_a_duplicate_manager(program, manager):
    with pytest.raises(IntegrityError), transaction.atomic():
        ProgramManager.objects.create(program=program, user=manager)


# --- questions --------------------------------------------------------------------------------
def test_questions_are_created_last_with_clean_choices(program, manager):
    question = services.question_create(
        actor=manager,
        program=program,
        key="team_size",
        label=" How big is your team? ",
        kind=QuestionKind.SINGLE_CHOICE,
        choices=["Small", " Large ", "", "Small"],
    )
    assert question.label == "How big is your team?"
    assert question.choices == ["Small", "Large"]
    assert list(program.questions.all())[-1] == question
    assert last_event("question.created").data == {"key": "team_size", "kind": "single_choice"}
    number = services.question_create(
        actor=manager,
        program=program,
        key="years_coding",
        label="Years of coding",
        kind=QuestionKind.NUMBER,
        choices=["ignored"],
    )
    assert number.choices == []


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"key": "Team Size"}, "key"),
        ({"key": "1st"}, "key"),
        ({"key": "skills_wanted"}, "key"),  # taken by a default question
        ({"key": "department"}, "key"),  # comes from the directory
        ({"key": "role"}, "key"),  # reserved by the engine
        ({"label": " "}, "label"),
        ({"kind": "essay"}, "kind"),
        ({"choices": ["Only one"]}, "choices"),
        ({"choices": []}, "choices"),
    ],
)
def test_question_bad_input_is_refused(program, manager, arguments, field):
    before = program.questions.count()
    question = {
        "key": "team_size",
        "label": "Team size?",
        "kind": QuestionKind.MULTIPLE_CHOICE,
        "choices": ["Small", "Large"],
        **arguments,
    }
    with pytest.raises(ApplicationError) as error:
        services.question_create(actor=manager, program=program, **question)
    assert error.value.field == field
    assert program.questions.count() == before


def test_renaming_a_question_key_renames_it_in_the_policy(program, manager):
    question = program.questions.get(key="skills_wanted")
    services.question_update(
        actor=manager,
        question=question,
        key="wants",
        label="What do you want to learn?",
        kind=QuestionKind.SKILLS_WANTED,
    )
    program.refresh_from_db()
    assert "wants" in policy_fields(program.matching_policy)
    assert "skills_wanted" not in policy_fields(program.matching_policy)
    assert last_event("question.updated").data["previous_key"] == "skills_wanted"


def test_a_kind_change_that_breaks_the_policy_is_refused(program, manager):
    question = services.question_create(
        actor=manager, program=program, key="hours", label="Hours a month", kind=QuestionKind.NUMBER
    )
    services.program_update(
        actor=manager,
        program=program,
        data={
            "matching_policy": {
                **program.matching_policy,
                "criterion": [{"kind": "near", "field": "hours", "scale": 3, "weight": 1}],
            }
        },
    )
    with pytest.raises(ApplicationError) as error:
        services.question_update(
            actor=manager, question=question, key="hours", label="Hours", kind=QuestionKind.TEXT
        )
    assert error.value.field == "matching_policy"
    question.refresh_from_db()
    assert question.kind == QuestionKind.NUMBER


def test_an_answered_question_keeps_its_kind(program, manager):
    from peermentor.enrollment.models import Answer

    question = program.questions.get(key="meeting_frequency")
    Answer.objects.create(
        participant=ParticipantFactory(program=program), question=question, value="Weekly"
    )
    with pytest.raises(ApplicationError) as error:
        services.question_update(
            actor=manager,
            question=question,
            key="meeting_frequency",
            label="How often?",
            kind=QuestionKind.TEXT,
        )
    assert error.value.field == "kind"
    # Wording and choices may still change.
    services.question_update(
        actor=manager,
        question=question,
        key="meeting_frequency",
        label="How often?",
        kind=QuestionKind.SINGLE_CHOICE,
        choices=["Weekly", "Monthly"],
    )
    question.refresh_from_db()
    assert question.label == "How often?"


def test_deleting_a_question_removes_the_rules_that_used_it(program, manager):
    question = program.questions.get(key="skills_offered")
    assert services.question_delete(actor=manager, question=question) == 1
    program.refresh_from_db()
    assert "skills_offered" not in policy_fields(program.matching_policy)
    assert not program.questions.filter(key="skills_offered").exists()
    assert last_event("question.deleted").data == {"key": "skills_offered", "rules_removed": 1}


def test_questions_reorder_and_move(program, manager):
    keys = list(program.questions.values_list("key", flat=True))
    ids = list(program.questions.values_list("pk", flat=True))
    services.question_reorder(actor=manager, program=program, ordered_ids=list(reversed(ids)))
    assert list(program.questions.values_list("key", flat=True)) == list(reversed(keys))
    first = program.questions.first()
    services.question_move(actor=manager, question=first, direction="down")
    assert list(program.questions.values_list("key", flat=True))[1] == first.key
    # Moving the first question up changes nothing.
    top = program.questions.first()
    services.question_move(actor=manager, question=top, direction="up")
    assert program.questions.first() == top
    assert last_event("questions.reordered").actor == manager


def test_reorder_must_list_every_question_once(program, manager):
    ids = list(program.questions.values_list("pk", flat=True))
    other = ProfileQuestionFactory()
    for bad in [ids[:-1], [*ids, ids[0]], [*ids[:-1], other.pk], ["x"]]:
        with pytest.raises(ApplicationError):
            services.question_reorder(actor=manager, program=program, ordered_ids=bad)
    with pytest.raises(ApplicationError):
        services.question_move(actor=manager, question=program.questions.first(), direction="left")
    assert list(program.questions.values_list("pk", flat=True)) == ids


def test_questions_are_refused_to_other_managers(program):
    other_manager = ProgramManagerFactory().user
    question = program.questions.first()
    with pytest.raises(PermissionDenied):
        services.question_create(
            actor=other_manager, program=program, key="x", label="X?", kind=QuestionKind.TEXT
        )
    with pytest.raises(PermissionDenied):
        services.question_update(
            actor=other_manager, question=question, key="x", label="X", kind=question.kind
        )
    with pytest.raises(PermissionDenied):
        services.question_delete(actor=other_manager, question=question)
    with pytest.raises(PermissionDenied):
        services.question_reorder(actor=other_manager, program=program, ordered_ids=[])
    assert ProfileQuestion.objects.filter(pk=question.pk, key=question.key).exists()


# --- training ---------------------------------------------------------------------------------
QUIZ = [
    {"question": "Who sets the agenda?", "choices": ["Both of you", "Nobody"], "answer": 0},
]


def test_training_modules_are_created_updated_and_deleted(program, manager):
    module = services.training_module_create(
        actor=manager,
        program=program,
        title="Check",
        body="Answer this.",
        kind=TrainingKind.QUIZ,
        quiz=QUIZ,
        pass_mark_percent=100,
    )
    assert module.quiz == QUIZ
    assert list(program.training_modules.all())[-1] == module
    services.training_module_update(
        actor=manager,
        module=module,
        title="Read me",
        body="Now just read.",
        kind=TrainingKind.ACKNOWLEDGE,
        quiz=QUIZ,
    )
    module.refresh_from_db()
    assert (module.kind, module.quiz) == (TrainingKind.ACKNOWLEDGE, [])
    services.training_module_delete(actor=manager, module=module)
    assert not TrainingModule.objects.filter(pk=module.pk).exists()
    assert [e.action for e in AuditEvent.objects.order_by("id")][-3:] == [
        "training_module.created",
        "training_module.updated",
        "training_module.deleted",
    ]


@pytest.mark.parametrize(
    ("arguments", "field", "message"),
    [
        ({"quiz": []}, "quiz", "at least one question"),
        ({"quiz": [{"question": "", "choices": ["a", "b"], "answer": 0}]}, "quiz", "no text"),
        ({"quiz": [{"question": "Q", "choices": ["a"], "answer": 0}]}, "quiz", "two answers"),
        ({"quiz": [{"question": "Q", "choices": ["a", "b"], "answer": 2}]}, "quiz", "correct"),
        ({"quiz": [{"question": "Q", "choices": ["a", "b"], "answer": True}]}, "quiz", "correct"),
        ({"quiz": [{"question": "Q", "choices": ["a", ""], "answer": 0}]}, "quiz", "none empty"),
        ({"title": ""}, "title", "title"),
        ({"body": " "}, "body", "read"),
        ({"kind": "video"}, "kind", "kind"),
        ({"pass_mark_percent": 120}, "pass_mark_percent", "percentage"),
    ],
)
def test_training_bad_input_is_refused(program, manager, arguments, field, message):
    before = program.training_modules.count()
    module = {
        "title": "Check",
        "body": "Answer this.",
        "kind": TrainingKind.QUIZ,
        "quiz": QUIZ,
        **arguments,
    }
    with pytest.raises(ApplicationError) as error:
        services.training_module_create(actor=manager, program=program, **module)
    assert error.value.field == field
    assert message in error.value.message
    assert program.training_modules.count() == before


def test_training_is_refused_to_participants(program):
    participant = ParticipantFactory(program=program).person.user
    module = TrainingModuleFactory(program=program)
    with pytest.raises(PermissionDenied):
        services.training_module_create(actor=participant, program=program, title="T", body="B")
    with pytest.raises(PermissionDenied):
        services.training_module_update(
            actor=participant, module=module, title="T", body="B", kind=TrainingKind.ACKNOWLEDGE
        )
    with pytest.raises(PermissionDenied):
        services.training_module_delete(actor=participant, module=module)
    assert TrainingModule.objects.filter(pk=module.pk, title=module.title).exists()


def test_quiz_text_round_trips():
    text = "Q: Who sets the agenda?\n- Nobody\n* Both of you\n\nQ: Second?\n* Yes\n- No"
    quiz = services.quiz_from_text(text)
    assert quiz == [
        {"question": "Who sets the agenda?", "choices": ["Nobody", "Both of you"], "answer": 1},
        {"question": "Second?", "choices": ["Yes", "No"], "answer": 0},
    ]
    assert services.quiz_from_text(services.quiz_to_text(quiz)) == quiz


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("- an answer first", "Line 1: an answer before any question"),
        ("Q: One?\n* a\n* b", "Line 3: question 1 already has a correct answer"),
        ("Q: One?\nwhat", "Line 2: start with"),
    ],
)
def test_quiz_text_errors_name_the_line(text, message):
    with pytest.raises(ApplicationError) as error:
        services.quiz_from_text(text)
    assert error.value.message.startswith(message)


def test_required_training_and_questions_decide_who_stays_ready(admin):
    from peermentor.enrollment.services import participant_refresh_readiness

    program = ProgramFactory(status=ENROLLING)  # no questions, no training: ready at once
    participant = participant_refresh_readiness(ParticipantFactory(program=program))
    assert participant.ready_at is not None
    program_setup.training_module_create(
        actor=admin, program=program, title="Extra", body="Read.", is_required=False
    )
    participant.refresh_from_db()
    assert participant.ready_at is not None, "an optional module changes nothing"
    module = program_setup.training_module_create(actor=admin, program=program, title="T", body="B")
    participant.refresh_from_db()
    assert participant.ready_at is None and not participant.is_training_complete
    program_setup.training_module_delete(actor=admin, module=module)
    participant.refresh_from_db()
    assert participant.ready_at is not None
    program_setup.question_create(
        actor=admin, program=program, key="team", label="Team?", kind=QuestionKind.TEXT
    )
    participant.refresh_from_db()
    assert participant.ready_at is None and not participant.is_profile_complete
