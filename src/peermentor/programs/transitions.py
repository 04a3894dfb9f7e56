"""The life of a program: which status may follow which (read by pages and services alike)."""

from peermentor.programs.models import Program, ProgramStatus

# Forward through the life of a program, and one step back while nobody has been matched yet.
ALLOWED_TRANSITIONS: dict[str, tuple[str, ...]] = {
    ProgramStatus.DRAFT: (ProgramStatus.ENROLLING,),
    ProgramStatus.ENROLLING: (ProgramStatus.MATCHING, ProgramStatus.DRAFT),
    ProgramStatus.MATCHING: (ProgramStatus.RUNNING, ProgramStatus.ENROLLING),
    ProgramStatus.RUNNING: (ProgramStatus.CLOSED,),
    ProgramStatus.CLOSED: (),
}


def allowed_transitions(program: Program) -> tuple[str, ...]:
    return ALLOWED_TRANSITIONS.get(program.status, ())
