"""Who may do what in the help network: pure predicates over what selectors already loaded.
Views and services turn them into 404 (outsiders), 403 (read-only) or a refusal."""

from peermentor.enrollment.models import Participant, ParticipantStatus
from peermentor.helpnetwork.models import HelpAsk, HelpOffer
from peermentor.programs.models import Format, Program, ProgramStatus

# While a program is a draft or closed nobody asks or offers; its history stays readable.
ACTIVE_PROGRAM_STATUSES = (ProgramStatus.ENROLLING, ProgramStatus.MATCHING, ProgramStatus.RUNNING)


def is_help_program(program: Program) -> bool:
    return program.format == Format.HELP_NETWORK


def is_enrolled(participant: Participant | None) -> bool:
    return participant is not None and participant.status == ParticipantStatus.ENROLLED


def can_take_part(participant: Participant | None, program: Program) -> bool:
    """Ask, offer and browse: enrolled participants of a running help-network program."""
    return (
        is_help_program(program)
        and program.status in ACTIVE_PROGRAM_STATUSES
        and is_enrolled(participant)
    )


def can_view_ask(*, participant: Participant | None, is_manager: bool) -> bool:
    """Asks are shared with the program's participants (that is the point) and its managers."""
    return is_manager or participant is not None


def is_asker(participant: Participant | None, ask: HelpAsk) -> bool:
    return participant is not None and ask.asker_id == participant.pk


def is_helper(participant: Participant | None, offer: HelpOffer) -> bool:
    return participant is not None and offer.helper_id == participant.pk
