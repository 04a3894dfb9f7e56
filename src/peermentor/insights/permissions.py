"""Who sees measurement. Dashboards, exports and the report are aggregate workflow data: the
program's managers and organisation admins only (ARCHITECTURE.md, "Rules that hold everywhere").
"""

from peermentor.accounts.models import User
from peermentor.programs.models import Program, ProgramManager
from peermentor.programs.permissions import can_manage_program, is_org_admin


def can_view_program_insights(user: User, program: Program) -> bool:
    return can_manage_program(user, program)


def can_view_organisation_insights(user: User) -> bool:
    """Organisation admins see every program; managers see the programs they run."""
    if is_org_admin(user):
        return True
    if not (getattr(user, "is_authenticated", False) and user.is_active):
        return False
    return ProgramManager.objects.filter(user_id=user.pk).exists()
