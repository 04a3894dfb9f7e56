"""Every write of the surveys app: build a survey, open and close it, answer it.

One module per idea: lifecycle (create, edit, open, close, delete, start from a template),
questions, answering, copying a program's surveys. The scheduled sending of invitations and
reminders lives in surveys/schedules.py; it writes only invitations and notifications, never
answers.
"""

from peermentor.surveys.services.answering import (
    answers_store,
    clean_answer,
    new_response,
    own_response,
    survey_answer,
)
from peermentor.surveys.services.copying import surveys_copy
from peermentor.surveys.services.lifecycle import (
    survey_add_from_template,
    survey_close,
    survey_create,
    survey_delete,
    survey_open,
    survey_update,
)
from peermentor.surveys.services.questions import (
    survey_question_add,
    survey_question_delete,
    survey_question_move,
    survey_question_update,
)

__all__ = [
    "answers_store",
    "clean_answer",
    "new_response",
    "own_response",
    "survey_add_from_template",
    "survey_answer",
    "survey_close",
    "survey_create",
    "survey_delete",
    "survey_open",
    "survey_question_add",
    "survey_question_delete",
    "survey_question_move",
    "survey_question_update",
    "survey_update",
    "surveys_copy",
]
