"""Who may see and change a program. Predicates are pure apart from one membership lookup;
`get_program_for` turns them into 404 (outsiders) and 403 (read-only members), STYLE rule 5.
"""

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404

from peermentor.accounts.models import User
from peermentor.programs.models import Program, ProgramManager, ProgramStatus


def _is_signed_in(user: User) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.is_active)


def is_org_admin(user: User) -> bool:
    return _is_signed_in(user) and bool(user.is_org_admin)


def can_create_program(user: User) -> bool:
    """Only organisation admins start programs."""
    return is_org_admin(user)


def can_manage_program(user: User, program: Program) -> bool:
    """Organisation admins manage every program; program managers manage theirs."""
    if not _is_signed_in(user):
        return False
    if user.is_org_admin:
        return True
    # Selectors annotate `viewer_is_manager` so that list pages need no query per row.
    annotated = getattr(program, "viewer_is_manager", None)
    if annotated is not None:
        return bool(annotated)
    return ProgramManager.objects.filter(program_id=program.pk, user_id=user.pk).exists()


def can_assign_managers(user: User, program: Program) -> bool:
    """Choosing who runs a program is the organisation's call, not the managers' own."""
    return is_org_admin(user)


def can_copy_program(user: User, program: Program) -> bool:
    """Admins, and the program's managers preparing their next cohort (they manage the copy)."""
    return can_manage_program(user, program)


def is_participant_of(user: User, program: Program) -> bool:
    if not _is_signed_in(user):
        return False
    annotated = getattr(program, "viewer_is_participant", None)
    if annotated is not None:
        return bool(annotated)
    # Participants belong to enrollment (above programs): reached through the relation only.
    return program.participants.filter(person__user_id=user.pk).exists()


def is_open_for_enrollment(program: Program) -> bool:
    return program.status == ProgramStatus.ENROLLING


def can_view_program(user: User, program: Program) -> bool:
    """Managers always; employees while it enrolls (the page people are sent to); participants
    for as long as the program exists. Drafts stay hidden from everyone but managers."""
    if not _is_signed_in(user):
        return False
    if can_manage_program(user, program):
        return True
    if program.status == ProgramStatus.DRAFT:
        return False
    return is_open_for_enrollment(program) or is_participant_of(user, program)


def get_program_for(user: User, pk: Any, *, write: bool = False) -> Program:
    """The program `pk` if `user` may see it (and manage it, with write=True).

    Raises Http404 for a program that does not exist or that the user may not see, and
    PermissionDenied when they may see it but not change it.
    """
    try:
        program = Program.objects.get(pk=pk)
    except (Program.DoesNotExist, ValueError, TypeError):
        raise Http404("No such program.") from None
    if not can_view_program(user, program):
        raise Http404("No such program.")
    if write and not can_manage_program(user, program):
        raise PermissionDenied("Only the program's managers can change it.")
    return program
