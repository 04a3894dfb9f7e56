"""Starting and ending connections through engagement keeps the workspace in step, in the same
transaction: plans made once per call, meetings cancelled once per call with the reason, and a
failure in the workspace step rolls the connection change back."""

import pytest

from peermentor.connections.models import Connection
from peermentor.connections.services import ProposalSpec, connections_propose_many
from peermentor.core.errors import ApplicationError
from peermentor.core.models import AuditEvent
from peermentor.engagement.services import (
    connection_activate,
    connection_changes,
    connection_close_early,
    connection_complete,
    connections_activate_many,
    connections_cancel_many,
)
from tests.factories import ParticipantFactory


def _specs(personas, count):
    people = [ParticipantFactory(program=personas.program) for _ in range(2 * count)]
    return [
        ProposalSpec(
            members=[(people[2 * i], "peer"), (people[2 * i + 1], "peer")],
            kind="pair",
            score=0.5,
            reasons="Shared interests.",
        )
        for i in range(count)
    ]


def _propose(personas, count, run_id):
    return connections_propose_many(
        actor=personas.manager,
        program=personas.program,
        proposals=_specs(personas, count),
        source="match_run",
        match_run_id=run_id,
    )


def test_activation_makes_the_plans_once_per_call(personas, monkeypatch):
    calls = []
    monkeypatch.setattr(
        connection_changes,
        "plans_instantiate_many",
        lambda **call: calls.append((call["actor"], list(call["connection_ids"]))),
    )
    created = _propose(personas, 3, 8)
    connections_activate_many(actor=personas.manager, program=personas.program, match_run_id=8)
    (single,) = _propose(personas, 1, 9)
    connection_activate(actor=personas.admin, connection=single)
    assert calls == [
        (personas.manager, [c.pk for c in created]),
        (personas.admin, [single.pk]),
    ]


def test_ending_cancels_meetings_once_per_call_inside_the_transaction(personas, monkeypatch):
    calls = []
    monkeypatch.setattr(
        connection_changes,
        "meetings_cancel_for_ended",
        lambda **call: calls.append({**call, "ids": list(call["connection_ids"])}),
    )
    created = _propose(personas, 3, 5)
    connections_cancel_many(
        actor=personas.manager, program=personas.program, match_run_id=5, reason="Rerun"
    )
    assert [(c["actor"], c["ids"], c["reason"]) for c in calls] == [
        (personas.manager, sorted(c.pk for c in created), "Rerun")
    ]
    calls.clear()
    (pair,) = _propose(personas, 1, 6)
    connection_activate(actor=personas.manager, connection=pair)
    connection_close_early(actor=personas.manager, connection=pair, reason_code="no_time")
    assert [(c["actor"], c["ids"], c["reason"]) for c in calls] == [
        (personas.manager, [pair.pk], "No time")
    ]

    def refuse(**call):
        raise ApplicationError("Could not cancel the meetings.")

    monkeypatch.setattr(connection_changes, "meetings_cancel_for_ended", refuse)
    (other,) = _propose(personas, 1, 7)
    connection_activate(actor=personas.manager, connection=other)
    with pytest.raises(ApplicationError, match="Could not cancel"):
        connection_complete(actor=personas.manager, connection=other)
    other.refresh_from_db()
    assert other.status == "active"
    assert not AuditEvent.objects.filter(target_id=other.pk, action="connection.completed").exists()
    assert Connection.objects.filter(pk=other.pk, status="active").exists()
