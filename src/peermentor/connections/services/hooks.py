"""What other apps do, in the same transaction, when connections start or end.

Engagement and the help network import connections; connections imports neither (an import
back would make the apps depend on one another in a cycle). So an app that must act as soon as
a connection starts or ends registers a function here from its `AppConfig.ready()`, and the
connection services call every registered function explicitly, right after the change and
before the transaction commits: if a hook raises, the change is rolled back with it.

Registered today (see `engagement/apps.py`):
- started: engagement copies each connection's plan (`plans_instantiate_many`), so dashboards
  and nudges count it from the first day;
- ended: engagement cancels the connections' upcoming meetings and circle sessions
  (`meetings_cancel_for_ended`), so members get the calendar cancellation;
- member left (someone withdrew from the program, and their circle goes on): engagement frees
  their seat and withdraws their "yes" to upcoming sessions (`circle_member_left`).

Hooks receive ids, not rows, and must run a bounded number of queries however many ids they
get: the bulk services (`connections_activate_many`, `connections_cancel_many`) call them once
for thousands of connections.
"""

from collections.abc import Sequence
from typing import Any, Protocol

from peermentor.accounts.models import User


class StartedHook(Protocol):
    def __call__(self, *, actor: User, connection_ids: Sequence[int]) -> Any: ...


class EndedHook(Protocol):
    def __call__(self, *, actor: User, connection_ids: Sequence[int], reason: str) -> Any: ...


class MemberLeftHook(Protocol):
    def __call__(self, *, actor: User, connection_id: int, participant_id: int) -> Any: ...


_started: list[StartedHook] = []
_ended: list[EndedHook] = []
_member_left: list[MemberLeftHook] = []


def on_connections_started(hook: StartedHook) -> StartedHook:
    """Call `hook(actor=, connection_ids=)` whenever connections become active. Idempotent."""
    if hook not in _started:
        _started.append(hook)
    return hook


def on_connections_ended(hook: EndedHook) -> EndedHook:
    """Call `hook(actor=, connection_ids=, reason=)` whenever connections end (completed,
    closed early or cancelled). Idempotent."""
    if hook not in _ended:
        _ended.append(hook)
    return hook


def on_member_left(hook: MemberLeftHook) -> MemberLeftHook:
    """Call `hook(actor=, connection_id=, participant_id=)` whenever someone leaves a connection
    that goes on without them (a circle). Idempotent."""
    if hook not in _member_left:
        _member_left.append(hook)
    return hook


def connections_started(*, actor: User, connection_ids: Sequence[int]) -> None:
    """Run the started hooks for connections that just became active (inside the transaction)."""
    if not connection_ids:
        return
    for hook in _started:
        hook(actor=actor, connection_ids=connection_ids)


def connections_ended(*, actor: User, connection_ids: Sequence[int], reason: str = "") -> None:
    """Run the ended hooks for connections that just ended (inside the transaction)."""
    if not connection_ids:
        return
    for hook in _ended:
        hook(actor=actor, connection_ids=connection_ids, reason=reason)


def member_left(*, actor: User, connection_id: int, participant_id: int) -> None:
    """Run the member-left hooks (inside the transaction, the connection locked)."""
    for hook in _member_left:
        hook(actor=actor, connection_id=connection_id, participant_id=participant_id)
