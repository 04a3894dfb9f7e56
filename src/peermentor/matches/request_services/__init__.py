"""Every write of self-match. Import from here: `from peermentor.matches import request_services`.

- asking: request_send, request_accept, request_decline, request_withdraw,
  requests_cancel_unhonourable (for other apps that placed or removed people)
- upkeep: requests_expire, request_notices_send (the e-mail task's body),
  self_match_settings_for, self_match_settings_update, self_match_settings_copy
- safety: request_block, request_report

Locking: every service that changes who can be connected locks the two Participant rows first
(in id order, as connections' placing services do), and only then the request row. Two accepts
that involve the same person therefore run one after the other, and the second sees what the
first did (the person connected, their other requests cancelled). Locking the request first
would let two accepts each hold a request the other wants to cancel, and deadlock.
"""

from peermentor.matches.request_services._common import participant_of
from peermentor.matches.request_services.asking import (
    request_accept,
    request_decline,
    request_send,
    request_withdraw,
    requests_cancel_unhonourable,
)
from peermentor.matches.request_services.safety import request_block, request_report
from peermentor.matches.request_services.upkeep import (
    request_notices_send,
    requests_expire,
    self_match_settings_copy,
    self_match_settings_for,
    self_match_settings_update,
)

__all__ = [
    "participant_of",
    "request_accept",
    "request_block",
    "request_decline",
    "request_notices_send",
    "request_report",
    "request_send",
    "request_withdraw",
    "requests_cancel_unhonourable",
    "requests_expire",
    "self_match_settings_copy",
    "self_match_settings_for",
    "self_match_settings_update",
]
