"""Pure predicates for surveys. Views and selectors turn them into 404 or 403.

Building surveys and reading their totals belongs to the program's managers (and organisation
admins); an invitation, and the answers given to it, belong to the invited participant alone —
managers and admins included, nobody else ever opens one.
"""

from datetime import date

from peermentor.accounts.models import User
from peermentor.programs.models import Program
from peermentor.programs.permissions import can_manage_program
from peermentor.surveys.models import SurveyInvitation, SurveyStatus

__all__ = ["can_answer", "can_manage_program", "can_manage_surveys", "is_invitee"]


def can_manage_surveys(user: User, program: Program) -> bool:
    """Build, open, close surveys and read their (anonymity-respecting) totals."""
    return can_manage_program(user, program)


def is_invitee(user: User, invitation: SurveyInvitation) -> bool:
    """Callers select_related `participant__person` to keep this free of queries."""
    if not (getattr(user, "is_authenticated", False) and user.is_active):
        return False
    return invitation.participant.person.user_id == user.pk


def can_answer(invitation: SurveyInvitation, today: date) -> bool:
    """Answers may be given and changed while the survey is open and the invitation's
    answering window has not passed."""
    return invitation.survey.status == SurveyStatus.OPEN and today <= invitation.closes_on
