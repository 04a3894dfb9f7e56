import pytest

from peermentor.enrollment.models import Participant
from tests.api.conftest import assert_error
from tests.factories import (
    AnswerFactory,
    ParticipantFactory,
    PersonFactory,
    ProfileQuestionFactory,
    ProgramFactory,
    ReadyParticipantFactory,
    TrackFactory,
    TrainingModuleFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def participants_url(program):
    return f"/api/v1/enrollment/programs/{program.pk}/participants"


def enroll_url(program):
    return f"/api/v1/enrollment/programs/{program.pk}/enroll"


MINE = "/api/v1/enrollment/participations/mine"


# --- a program's participants ------------------------------------------------------------------
def test_managers_see_each_participants_status_and_what_is_missing(api_as, personas):
    program = personas.program
    question = ProfileQuestionFactory(program=program, is_required=True)
    TrainingModuleFactory(program=program, is_required=True)
    AnswerFactory(participant=personas.participant_record, question=question)
    ParticipantFactory(program=program, status="pending_approval", person__full_name="Zed")
    response = api_as(personas.manager).get(participants_url(program))
    assert response.status_code == 200
    body = response.json()
    assert body["requirements"] == {"required_questions": 1, "required_modules": 1}
    by_id = {item["id"]: item for item in body["items"]}
    assert by_id[personas.participant_record.pk]["missing"] == ["Training: 1 of 1 module left"]
    assert by_id[personas.other_participant_record.pk]["missing"] == [
        "Profile: 1 required question unanswered",
        "Training: 1 of 1 module left",
    ]
    pending = body["items"][-1]
    assert pending["person"]["full_name"] == "Zed" and pending["status"] == "pending_approval"
    assert pending["missing"][0] == "Waiting for approval"


def test_the_participant_list_filters(api_as, personas):
    program = personas.program
    ready = ReadyParticipantFactory(program=program, person__full_name="Ready Rita")
    track = TrackFactory(program=program)
    on_track = ParticipantFactory(program=program, track=track, status="withdrawn")
    api = api_as(personas.manager)

    def ids(**filters):
        return [
            item["id"] for item in api.get(participants_url(program), **filters).json()["items"]
        ]

    assert ids(readiness="ready") == [ready.pk]
    assert ids(status="withdrawn") == [on_track.pk]
    assert ids(track_id=track.pk) == [on_track.pk]
    assert ids(search="rita") == [ready.pk]
    assert_error(api.get(participants_url(program), readiness="soon"), 400, "readiness")


def test_the_participant_list_runs_the_same_queries_for_more_participants(api_as, personas):
    program = personas.program
    ProfileQuestionFactory(program=program)
    api = api_as(personas.manager)
    few = api.queries(participants_url(program))
    for _ in range(25):
        participant = ParticipantFactory(program=program, track=TrackFactory(program=program))
        AnswerFactory(participant=participant, question__program=program)
    assert api.queries(participants_url(program)) == few <= 10


# --- my participations -----------------------------------------------------------------------
def test_participants_see_their_programs_and_what_to_do_next(api_as, personas):
    hidden = ProgramFactory(status="draft")
    ParticipantFactory(program=hidden, person=personas.participant_record.person)
    body = api_as(personas.participant).get(MINE).json()
    assert body["count"] == 1
    item = body["items"][0]
    assert item["program"]["name"] == "Skills Exchange"
    assert item["status"] == "enrolled" and item["next_step"] == "Complete your profile"
    assert api_as(personas.outsider).get(MINE).json()["count"] == 0


def test_my_participations_run_the_same_queries_for_more_programs(api_as, personas):
    api = api_as(personas.participant)
    few = api.queries(MINE)
    for _ in range(15):
        ParticipantFactory(
            person=personas.participant_record.person,
            program=ProgramFactory(),
            track=TrackFactory(),
        )
    assert api.queries(MINE) == few <= 6


# --- enrolling -------------------------------------------------------------------------------
def test_an_employee_enrolls_in_an_open_program(api_as, personas):
    response = api_as(personas.outsider).post(enroll_url(personas.program), {})
    assert response.status_code == 201, response.content
    body = response.json()
    participant = Participant.objects.get(pk=body["id"])
    assert participant.person.user == personas.outsider
    assert body["status"] == "enrolled" and body["role"] == "peer"
    assert body["program"]["id"] == personas.program.pk


def test_programs_needing_approval_leave_the_enrollment_pending(api_as):
    program = ProgramFactory(needs_manager_approval=True)
    user = UserFactory()
    PersonFactory(user=user)
    response = api_as(user).post(enroll_url(program))
    assert response.status_code == 201, response.content
    assert response.json()["status"] == "pending_approval"


def test_a_format_with_two_roles_needs_one_chosen(api_as):
    program = ProgramFactory(format="shadowing", goals=["career_exploration"])
    user = UserFactory()
    PersonFactory(user=user)
    api = api_as(user)
    assert_error(api.post(enroll_url(program), {}), 400, "role")
    assert_error(api.post(enroll_url(program), {"role": "buddy"}), 400, "role")
    assert_error(api.post(enroll_url(program), {"role": "wizard"}), 400, "role")
    response = api.post(enroll_url(program), {"role": "host"})
    assert response.status_code == 201 and response.json()["role"] == "host"


def test_a_program_with_tracks_needs_one_of_its_own(api_as):
    program = ProgramFactory()
    track = TrackFactory(program=program, name="Paris")
    elsewhere = TrackFactory()
    user = UserFactory()
    PersonFactory(user=user)
    api = api_as(user)
    assert_error(api.post(enroll_url(program), {}), 400, "track")
    assert_error(api.post(enroll_url(program), {"track": elsewhere.pk}), 400, "track")
    assert_error(api.post(enroll_url(program), {"track": 999999}), 400, "track")
    assert_error(api.post(enroll_url(program), {"track": "Paris"}), 400, "track")
    response = api.post(enroll_url(program), {"track": track.pk})
    assert response.status_code == 201 and response.json()["track"]["name"] == "Paris"


def test_enrolling_twice_is_a_conflict(api_as, personas):
    body = assert_error(api_as(personas.participant).post(enroll_url(personas.program)), 409)
    assert "already enrolled" in body["message"]


def test_a_program_not_enrolling_refuses_enrollment(api_as, personas):
    program = ProgramFactory(status="running")
    user = UserFactory()
    person = PersonFactory(user=user)
    # Participants' and managers' programs aside, a running program is hidden.
    assert_error(api_as(user).post(enroll_url(program)), 404)
    personas.program.status = "matching"
    personas.program.save()
    ParticipantFactory(program=personas.program, status="withdrawn", person=person)
    body = assert_error(api_as(user).post(enroll_url(personas.program)), 400)
    assert "not open" in body["message"]


def test_an_account_without_a_directory_entry_cannot_enroll(api_as, personas):
    body = assert_error(api_as(UserFactory()).post(enroll_url(personas.program)), 403)
    assert "directory" in body["message"]
