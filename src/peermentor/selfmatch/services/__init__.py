"""Every write of self-match. Import from here: `from peermentor.selfmatch import services`.

- asking: request_send, request_accept, request_decline, request_withdraw,
  requests_cancel_unhonourable (for other apps that placed or removed people)
- upkeep: requests_expire, self_match_settings_for, self_match_settings_update,
  self_match_settings_copy
- safety: request_block, request_report
- request_notices_send (the body of the e-mail task) lives in `selfmatch.notices`, beside
  the task; it is re-exported here

Locking: every service that changes who can be connected locks the two Participant rows first
(in id order, as connections' placing services do), and only then the request row. Two accepts
that involve the same person therefore run one after the other, and the second sees what the
first did (the person connected, their other requests cancelled). Locking the request first
would let two accepts each hold a request the other wants to cancel, and deadlock.
"""

from peermentor.selfmatch.notices import request_notices_send
from peermentor.selfmatch.services._common import participant_of
from peermentor.selfmatch.services.asking import (
    request_accept,
    request_decline,
    request_send,
    request_withdraw,
    requests_cancel_unhonourable,
)
from peermentor.selfmatch.services.safety import request_block, request_report
from peermentor.selfmatch.services.upkeep import (
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
