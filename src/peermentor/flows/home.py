"""The home page's summary for each role: what needs an admin or program manager now (programs),
what is next for a participant (enrollment)."""

from typing import Any

from peermentor.accounts.models import User
from peermentor.enrollment.selectors import participant_home_context
from peermentor.programs.models import ProgramManager
from peermentor.programs.selectors import manager_home_context


def home_context(*, user: User) -> dict[str, Any]:
    """The home page for `user`: "what needs me now" for admins and program managers, the
    participant's own home for everyone else. Always has the key "template"."""
    if user.is_org_admin or ProgramManager.objects.filter(user=user).exists():
        return manager_home_context(user=user)
    return participant_home_context(user=user)
