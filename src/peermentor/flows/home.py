"""The home page's summary for each role: what needs an admin or program manager now (programs),
what is next for a participant (enrollment's participations, with their connections)."""

from typing import Any

from peermentor.accounts.models import User
from peermentor.connections.selectors import participation_states
from peermentor.enrollment.selectors import participant_home_context
from peermentor.programs.models import ProgramManager
from peermentor.programs.selectors import manager_home_context


def participant_home(*, user: User) -> dict[str, Any]:
    """The participant's home: enrollment's context, each participation with its connections
    (partners by name, state, workspace) and the next step that follows from them, so that a
    matched participant never reads "waiting for a match"."""
    context = participant_home_context(user=user)
    context["participations"] = participation_states(
        [participant for participant, _next_step in context["participations"]]
    )
    return context


def home_context(*, user: User) -> dict[str, Any]:
    """The home page for `user`: "what needs me now" for admins and program managers, the
    participant's own home for everyone else. Always has the key "template"."""
    if user.is_org_admin or ProgramManager.objects.filter(user=user).exists():
        return manager_home_context(user=user)
    return participant_home(user=user)
