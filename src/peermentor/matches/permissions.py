"""Who may run and review matching: the program's managers and organisation admins."""

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404

from peermentor.accounts.models import User
from peermentor.matches.models import MatchRun, Proposal
from peermentor.programs.models import Program
from peermentor.programs.permissions import can_manage_program, can_view_program, get_program_for


def can_manage_matching(user: User, program: Program) -> bool:
    return can_manage_program(user, program)


def get_managed_program(user: User, pk: Any) -> Program:
    """The program if `user` manages it; 404 for outsiders, 403 for those who only see it."""
    return get_program_for(user, pk, write=True)


def _check(user: User, program: Program) -> None:
    if not can_view_program(user, program):
        raise Http404("No such match run.")
    if not can_manage_matching(user, program):
        raise PermissionDenied("Only the program's managers can see its match runs.")


def get_run_for(user: User, pk: Any) -> MatchRun:
    """A match run of a program `user` manages (404 outsiders, 403 read-only members)."""
    try:
        run = MatchRun.objects.select_related("program", "track", "created_by").get(pk=pk)
    except (MatchRun.DoesNotExist, ValueError, TypeError):
        raise Http404("No such match run.") from None
    _check(user, run.program)
    return run


def get_proposal_for(user: User, pk: Any) -> Proposal:
    try:
        proposal = Proposal.objects.select_related("run__program", "run__track").get(pk=pk)
    except (Proposal.DoesNotExist, ValueError, TypeError):
        raise Http404("No such proposal.") from None
    _check(user, proposal.run.program)
    return proposal
