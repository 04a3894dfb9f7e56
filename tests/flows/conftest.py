# The nudges and the periodic schedule moved from notifications to flows; their tests keep the
# notification fixtures (a running program, members and connections at a fixed time).
from tests.notifications.conftest import make_connection, make_member, now, running

__all__ = ["make_connection", "make_member", "now", "running"]
