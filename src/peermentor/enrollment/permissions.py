"""Pure predicates: who may do what with enrollments. Views turn them into 404/403."""

# Program-level rules live with programs; enrollment re-exports them for its views and services.
from peermentor.accounts.models import User
from peermentor.enrollment.models import Participant
from peermentor.programs.permissions import can_manage_program, get_program_for

__all__ = [
    "can_decide_participant",
    "can_manage_program",
    "can_see_answers",
    "can_see_progress",
    "can_view_participation",
    "can_withdraw_participant",
    "get_program_for",
    "is_approving_line_manager",
    "is_line_manager_of",
    "is_own_participation",
]


def is_own_participation(user: User, participant: Participant) -> bool:
    return bool(getattr(user, "is_authenticated", False) and participant.person.user_id == user.pk)


def is_line_manager_of(user: User, participant: Participant) -> bool:
    manager = participant.person.manager
    return bool(
        getattr(user, "is_authenticated", False)
        and manager is not None
        and manager.user_id is not None
        and manager.user_id == user.pk
    )


def is_approving_line_manager(user: User, participant: Participant) -> bool:
    """The line manager, in a program that asks line managers to approve enrollments.

    A line manager has no part in a program that does not ask for their approval: whether a
    report takes part in it is not theirs to see.
    """
    return bool(participant.program.needs_manager_approval) and is_line_manager_of(
        user, participant
    )


def can_view_participation(user: User, participant: Participant) -> bool:
    """The participant, the program's managers, and the line manager who must approve it."""
    return (
        is_own_participation(user, participant)
        or can_manage_program(user, participant.program)
        or is_approving_line_manager(user, participant)
    )


def can_see_progress(user: User, participant: Participant) -> bool:
    """Training progress: the participant and program managers; approval does not need it."""
    return is_own_participation(user, participant) or can_manage_program(user, participant.program)


def can_see_answers(user: User, participant: Participant) -> bool:
    """Profile answers are matching input: the participant and program managers, nobody else."""
    return is_own_participation(user, participant) or can_manage_program(user, participant.program)


def can_decide_participant(user: User, participant: Participant) -> bool:
    """Approve or decline: line manager, program manager or org admin, never oneself."""
    if is_own_participation(user, participant):
        return False
    return is_approving_line_manager(user, participant) or can_manage_program(
        user, participant.program
    )


def can_withdraw_participant(user: User, participant: Participant) -> bool:
    return is_own_participation(user, participant) or can_manage_program(user, participant.program)
