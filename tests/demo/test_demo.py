"""The whole demo organisation, loaded once for this module (it takes a while)."""

import pytest
from django.core.management import call_command
from django.urls import reverse

from peermentor.accounts.models import User
from peermentor.demo.builder import DEMO_PASSWORD, demo_load
from peermentor.enrollment.models import Participant
from peermentor.people.models import Person
from peermentor.programs.models import Format, Program, ProgramStatus


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        summary = demo_load()
    yield summary
    with django_db_blocker.unblock():
        call_command("flush", interactive=False, verbosity=0)


pytestmark = pytest.mark.django_db


def test_loading_twice_changes_nothing(demo):
    before = Person.objects.count(), User.objects.count(), Participant.objects.count()
    assert demo_load().already_loaded
    assert (Person.objects.count(), User.objects.count(), Participant.objects.count()) == before


@pytest.mark.parametrize("email", ["admin@example.org", "ana@example.org", "sam@example.org"])
def test_the_demo_accounts_can_sign_in(demo, client, email):
    response = client.post(
        reverse("login"), {"username": email, "password": DEMO_PASSWORD}, follow=True
    )
    assert response.status_code == 200
    assert response.context["user"].email == email


def test_only_the_admin_demo_account_is_an_admin(demo):
    assert User.objects.get(email="admin@example.org").is_org_admin
    assert not User.objects.get(email="ana@example.org").is_org_admin
    assert not User.objects.get(email="sam@example.org").is_org_admin


def test_there_is_one_program_of_each_format_with_ready_participants(demo):
    assert set(Program.objects.values_list("format", flat=True)) == set(Format.values)
    waiting = Program.objects.filter(status__in=[ProgramStatus.ENROLLING, ProgramStatus.MATCHING])
    assert set(waiting.values_list("format", flat=True)) == set(Format.values)
    for program in waiting:
        participants = program.participants.all()
        assert participants.count() >= 30
        assert all(participant.is_ready for participant in participants)
        assert program.manager_links.filter(user__email="sam@example.org").exists()


def test_ana_is_ready_in_one_program_and_may_enroll_in_others(demo):
    ana = Participant.objects.get(
        person__email="ana@example.org", program__status=ProgramStatus.MATCHING
    )
    assert ana.is_ready and ana.program.status == ProgramStatus.MATCHING
    assert ana.answers.count() == ana.program.questions.count()
    assert Program.objects.filter(status=ProgramStatus.ENROLLING).exists()


def test_the_command_says_how_to_sign_in(demo, capsys):
    call_command("load_demo")
    out = capsys.readouterr().out
    assert "already loaded" in out and "ana@example.org" in out


def test_a_running_program_has_live_connections_with_meetings_and_plans(demo):
    from peermentor.connections.models import Connection
    from peermentor.engagement.models import Meeting

    running = Program.objects.get(status=ProgramStatus.RUNNING)
    active = Connection.objects.filter(program=running, status="active")
    assert active.count() >= 15
    assert all(connection.reasons for connection in active)
    assert Meeting.objects.filter(connection__program=running).count() >= active.count()
    # Ana takes part, so the participant demo account shows a living connection.
    assert active.filter(members__participant__person__email="ana@example.org").exists()


def test_a_closed_program_has_results_to_report(demo):
    from peermentor.connections.models import Reflection
    from peermentor.surveys.models import SurveyResponse

    closed = Program.objects.get(status=ProgramStatus.CLOSED)
    assert Reflection.objects.filter(connection__program=closed, may_quote=True).exists()
    assert SurveyResponse.objects.filter(survey__program=closed).count() >= 10


def test_the_closed_program_outcomes_compare_retention_and_moves(demo, client):
    closed = Program.objects.get(status=ProgramStatus.CLOSED)
    client.force_login(User.objects.get(email="admin@example.org"))
    page = client.get(reverse("insights_outcomes", args=[closed.pk])).content.decode()
    # Both figures have a participants row and a comparison row with real numbers in them.
    assert "Still in the organisation: participants and similar colleagues" in page
    assert "Internal moves: participants and similar colleagues" in page
    assert Person.objects.filter(leaving_date__isnull=False).exists()
    assert Person.objects.filter(job_changes__isnull=False).exists()
    for person in ("admin@example.org", "ana@example.org", "sam@example.org"):
        assert Person.objects.get(email=person).is_active


def test_demo_programs_enrolled_before_they_started_and_the_closed_one_met(demo):
    from peermentor.connections.models import Connection
    from peermentor.engagement.models import Meeting

    for program in Program.objects.filter(status__in=[ProgramStatus.RUNNING, ProgramStatus.CLOSED]):
        started = program.connections.order_by("started_at").values_list("started_at", flat=True)
        first_start = started.first()
        if first_start is None:
            continue
        # Nobody was matched before they enrolled (time to match is never negative).
        assert not program.participants.filter(enrolled_at__gt=first_start).exists()
    closed = Program.objects.get(status=ProgramStatus.CLOSED)
    assert not Connection.objects.filter(program=closed, ended_at__isnull=True).exists()
    held = Meeting.objects.filter(connection__program=closed, status="held")
    assert held.count() >= 2 * closed.connections.count()
    assert not held.filter(starts_at__gt=closed.connections.first().ended_at).exists()
