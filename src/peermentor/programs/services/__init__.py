"""Every write to programs, tracks, managers, profile questions and training modules; one module
per area, import from here.

Each service checks permission (PermissionDenied), validates (ApplicationError naming the field),
runs in one transaction and records an audit event in it. Work that also changes other apps
(copying a program with its plan templates and surveys; re-checking who is ready after the
questions or training change) is in `peermentor.flows`, which calls these.
"""

from peermentor.programs.services._common import (
    validate_eligibility,
    validate_goals,
    validate_metrics,
)
from peermentor.programs.services.managers import program_manager_add, program_manager_remove
from peermentor.programs.services.programs import (
    program_copy,
    program_create,
    program_transition,
    program_update,
)
from peermentor.programs.services.questions import (
    question_create,
    question_delete,
    question_move,
    question_reorder,
    question_update,
)
from peermentor.programs.services.tracks import track_create, track_delete, track_update
from peermentor.programs.services.training import (
    quiz_from_text,
    quiz_to_text,
    training_module_create,
    training_module_delete,
    training_module_update,
    validate_quiz,
)
from peermentor.programs.transitions import ALLOWED_TRANSITIONS, allowed_transitions

__all__ = [
    "ALLOWED_TRANSITIONS",
    "allowed_transitions",
    "program_copy",
    "program_create",
    "program_manager_add",
    "program_manager_remove",
    "program_transition",
    "program_update",
    "question_create",
    "question_delete",
    "question_move",
    "question_reorder",
    "question_update",
    "quiz_from_text",
    "quiz_to_text",
    "track_create",
    "track_delete",
    "track_update",
    "training_module_create",
    "training_module_delete",
    "training_module_update",
    "validate_eligibility",
    "validate_goals",
    "validate_metrics",
    "validate_quiz",
]
