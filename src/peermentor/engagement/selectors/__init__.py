"""Every read of the engagement app. One module per page or purpose; import from here."""

from peermentor.engagement.selectors._common import (
    get_meeting_for,
    get_note_for,
    get_plan_item_for,
    get_resource_for,
    get_session_for,
    get_workspace_connection,
)
from peermentor.engagement.selectors.circles import (
    CirclePage,
    OpenCircles,
    circle_page,
    get_circle_for,
    get_circle_to_join,
    get_circle_to_open,
    open_circles,
)
from peermentor.engagement.selectors.feeds import calendar_feed_state, feed_items, feed_owner
from peermentor.engagement.selectors.health import (
    ProgramHealth,
    connection_health,
    health_for_connections,
    program_health,
)
from peermentor.engagement.selectors.nudges import (
    CheckInDue,
    check_ins_due,
    meetings_awaiting_answer,
    meetings_awaiting_outcome,
    plans_behind,
    stalled_connections,
)
from peermentor.engagement.selectors.templates import (
    get_template_for,
    get_template_item_for,
    plan_templates_page,
)
from peermentor.engagement.selectors.workspace import (
    Workspace,
    meeting_form_context,
    workspace,
)

__all__ = [
    "CheckInDue",
    "CirclePage",
    "OpenCircles",
    "ProgramHealth",
    "Workspace",
    "calendar_feed_state",
    "check_ins_due",
    "circle_page",
    "connection_health",
    "feed_items",
    "feed_owner",
    "get_circle_for",
    "get_circle_to_join",
    "get_circle_to_open",
    "get_meeting_for",
    "get_note_for",
    "get_plan_item_for",
    "get_resource_for",
    "get_session_for",
    "get_template_for",
    "get_template_item_for",
    "get_workspace_connection",
    "health_for_connections",
    "meeting_form_context",
    "meetings_awaiting_answer",
    "meetings_awaiting_outcome",
    "open_circles",
    "plan_templates_page",
    "plans_behind",
    "program_health",
    "stalled_connections",
    "workspace",
]
