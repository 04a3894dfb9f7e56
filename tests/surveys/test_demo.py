import datetime
import random

import pytest
from django.utils import timezone

from peermentor.connections.models import Connection
from peermentor.connections.services import connection_propose
from peermentor.engagement.services import connection_activate, connection_complete
from peermentor.surveys.demo import populate
from peermentor.surveys.models import SurveyInvitation, SurveyResponse
from peermentor.surveys.selectors import (
    assessment_change,
    get_invitation_for,
    satisfaction_summary,
    survey_results,
)
from tests.factories import (
    ParticipantFactory,
    PersonFactory,
    ProgramFactory,
    ProgramManagerFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

NOW = timezone.now()


def closed_program(pairs=10):
    program = ProgramFactory(status="running", goals=["networking"], planned_end_on=NOW.date())
    manager = ProgramManagerFactory(program=program).user
    for _ in range(pairs):
        first, second = (
            ParticipantFactory(program=program, person=PersonFactory(user=UserFactory()))
            for _ in range(2)
        )
        connection = connection_propose(
            actor=manager,
            program=program,
            members=[(first, "peer"), (second, "peer")],
            kind="pair",
            source="manual",
        )
        connection_activate(actor=manager, connection=connection)
        connection_complete(actor=manager, connection=connection)
    Connection.objects.filter(program=program).update(
        started_at=NOW - datetime.timedelta(days=180), ended_at=NOW - datetime.timedelta(days=3)
    )
    program.status = "closed"
    program.save()
    return program, manager


def test_populate_gives_a_closed_program_survey_results(personas):
    program, manager = closed_program()
    made = populate(program, random.Random(7), NOW)
    assert made is not None
    assert {made.closing.status, made.before.status, made.after.status} == {"closed"}
    assert made.responses > made.invitations * 0.6
    satisfaction = satisfaction_summary(viewer=manager, program=program)
    assert not satisfaction.is_suppressed and 3 <= satisfaction.mean <= 5
    change = assessment_change(viewer=manager, program=program)
    assert not change.is_suppressed
    network = next(d for d in change.dimensions if d.key == "network")
    assert network.mean_change > 0
    assert not survey_results(viewer=manager, survey=made.closing).is_suppressed
    # Anonymous answers were stored as the service stores them: the author finds theirs.
    invitation = SurveyInvitation.objects.filter(
        survey=made.closing, answered_at__isnull=False
    ).first()
    own = get_invitation_for(viewer=invitation.participant.person.user, pk=invitation.pk)
    assert own.has_answered and own.values["satisfaction"] in range(1, 6)
    assert not own.may_change
    assert not SurveyResponse.objects.filter(participant__isnull=False).exists()


def test_populate_is_deterministic_and_adds_nothing_twice(personas):
    first, _ = closed_program(pairs=3)
    second, _ = closed_program(pairs=3)
    one = populate(first, random.Random(3), NOW)
    two = populate(second, random.Random(3), NOW)
    assert (one.invitations, one.responses) == (two.invitations, two.responses)
    assert populate(first, random.Random(3), NOW) is None
    assert first.surveys.count() == 3
