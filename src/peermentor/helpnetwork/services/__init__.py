"""Every write of the help network, one module per step; import from here. Each service checks
permission, validates, locks what it changes, records an audit row and notifies the people
concerned, in one transaction.

Connections start and end through peermentor.engagement.services (kind "flash", source
"help_network"), so their workspace follows; the flash meeting is engagement's meeting_propose.
"""

from peermentor.helpnetwork.services._common import (
    DEFAULT_EXPIRY_DAYS,
    EXPIRY_CHOICES_DAYS,
)
from peermentor.helpnetwork.services.after import (
    help_ongoing_answer,
    help_ongoing_propose,
    help_thank,
)
from peermentor.helpnetwork.services.asks import (
    help_ask_close,
    help_ask_create,
    help_ask_invite,
    help_asks_expire,
)
from peermentor.helpnetwork.services.offers import (
    help_offer_accept,
    help_offer_create,
    help_offer_withdraw,
)

__all__ = [
    "DEFAULT_EXPIRY_DAYS",
    "EXPIRY_CHOICES_DAYS",
    "help_ask_close",
    "help_ask_create",
    "help_ask_invite",
    "help_asks_expire",
    "help_offer_accept",
    "help_offer_create",
    "help_offer_withdraw",
    "help_ongoing_answer",
    "help_ongoing_propose",
    "help_thank",
]
