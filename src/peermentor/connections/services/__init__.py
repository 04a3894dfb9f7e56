"""Every write to connections. Import from here: `from peermentor.connections import services`.

- placing: connection_propose, connections_propose_many, connections_activate_many,
  connections_cancel_many (what match runs, self-match and publishing call); the rules a
  proposal must meet are in placement_rules
- lifecycle: connection_activate, connection_cancel, connection_complete,
  connection_close_early, connection_extend, reflection_submit, participant_connections_end
- safety: block_person, report_person, report_review

Starting or ending a connection changes only connections here. What the workspace does then
(plans, cancelled meetings, circle seats) is engagement's: apps above engagement call
`engagement.services` (connection_activate, connection_complete, ...), which call these and
keep the workspace in step in the same transaction.
"""

from peermentor.connections.services.ending import connections_complete_many
from peermentor.connections.services.lifecycle import (
    COMPLETE_REASONS,
    EARLY_CLOSE_REASONS,
    ConnectionsLeft,
    connection_activate,
    connection_cancel,
    connection_close_early,
    connection_complete,
    connection_extend,
    participant_connections_end,
    reflection_submit,
)
from peermentor.connections.services.placement_rules import (
    KINDS_BY_FORMAT,
    MemberSpec,
    ProposalSpec,
    ProposalsRefused,
)
from peermentor.connections.services.placing import (
    connection_propose,
    connections_activate_many,
    connections_cancel_many,
    connections_propose_many,
)
from peermentor.connections.services.safety import block_person, report_person, report_review

__all__ = [
    "COMPLETE_REASONS",
    "EARLY_CLOSE_REASONS",
    "KINDS_BY_FORMAT",
    "ConnectionsLeft",
    "MemberSpec",
    "ProposalSpec",
    "ProposalsRefused",
    "block_person",
    "connection_activate",
    "connection_cancel",
    "connection_close_early",
    "connection_complete",
    "connection_extend",
    "connection_propose",
    "connections_activate_many",
    "connections_cancel_many",
    "connections_complete_many",
    "connections_propose_many",
    "participant_connections_end",
    "reflection_submit",
    "report_person",
    "report_review",
]
