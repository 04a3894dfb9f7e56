"""Who may do what in the help network: pure predicates over what selectors already loaded.
Views and services turn them into 404 (outsiders), 403 (read-only) or a refusal."""

from typing import Any

from peermentor.enrollment.models import ParticipantStatus
from peermentor.programs.models import Format, ProgramStatus

# While a program is a draft or closed nobody asks or offers; its history stays readable.
ACTIVE_PROGRAM_STATUSES = (ProgramStatus.ENROLLING, ProgramStatus.MATCHING, ProgramStatus.RUNNING)


def is_help_program(program: Any) -> bool:
    return program.format == Format.HELP_NETWORK


def is_enrolled(participant: Any) -> bool:
    return participant is not None and participant.status == ParticipantStatus.ENROLLED


def can_take_part(participant: Any, program: Any) -> bool:
    """Ask, offer and browse: enrolled participants of a running help-network program."""
    return (
        is_help_program(program)
        and program.status in ACTIVE_PROGRAM_STATUSES
        and is_enrolled(participant)
    )


def can_view_ask(*, participant: Any, is_manager: bool) -> bool:
    """Asks are shared with the program's participants (that is the point) and its managers."""
    return is_manager or participant is not None


def is_asker(participant: Any, ask: Any) -> bool:
    return participant is not None and ask.asker_id == participant.pk


def is_helper(participant: Any, offer: Any) -> bool:
    return participant is not None and offer.helper_id == participant.pk
