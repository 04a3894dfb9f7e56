"""Surveys' part of a subject-access or erasure request (see core/privacy.py).

A person's answers to an anonymous survey are found the way they find them to change them: by
the keyed hash of each of their invitations (surveys/keys.py). Only the person's own export
shows them; an administrator's export says how many surveys they answered, never what, and not
when (answer times would help line results up with people).
"""

from typing import Any

from django.db import transaction
from django.db.models import Q

from peermentor.core.privacy import ERASED_TEXT, Record, record, withheld
from peermentor.people.models import Person
from peermentor.surveys import keys
from peermentor.surveys.models import SurveyAnswer, SurveyInvitation


def _invitations(person: Person) -> list[SurveyInvitation]:
    return list(
        SurveyInvitation.objects.filter(participant__person=person)
        .select_related("survey__program")
        .order_by("due_on", "id")
    )


def _answers_of(person: Person, invitations: list[SurveyInvitation]) -> Any:
    """`person`'s answers, named and anonymous (one query)."""
    anonymous_keys = [
        key for invitation in invitations for key in keys.respondent_keys(invitation.pk)
    ]
    return SurveyAnswer.objects.filter(
        Q(response__participant__person=person)
        | Q(response__is_anonymous=True, response__respondent_key__in=anonymous_keys)
    )


def personal_data(*, person: Person, include_private: bool) -> dict[str, Any]:
    """The surveys `person` was asked to answer and, for their own export, their answers
    (two queries)."""
    invitations = _invitations(person)
    rows: list[Record] = [
        record(
            invitation,
            ("survey", "occurrence_key", "due_on", "closes_on")
            + (("answered_at",) if include_private else ()),
            survey_title=invitation.survey.title,
            program_name=invitation.survey.program.name,
            answered=invitation.answered_at is not None,
        )
        for invitation in invitations
    ]
    if not include_private:
        answered = sum(1 for invitation in invitations if invitation.answered_at)
        return {
            "survey_invitations": rows,
            "survey_answers": [withheld(answered, "survey responses")],
        }
    answers = (
        _answers_of(person, invitations)
        .select_related("question", "survey")
        .order_by("survey_id", "question__position", "question_id")
    )
    return {
        "survey_invitations": rows,
        "survey_answers": [
            record(
                answer,
                ("survey", "number", "choice", "text", "month"),
                survey_title=answer.survey.title,
                question=answer.question.text,
            )
            for answer in answers
        ],
    }


@transaction.atomic
def personal_data_erase(*, person: Person) -> None:
    """Afterwards every free-text survey answer `person` gave, named or anonymous, reads
    "(erased)". Ratings and choices stay: results and response rates add up as before, and
    with the name gone they are nobody's."""
    _answers_of(person, _invitations(person)).exclude(text="").update(text=ERASED_TEXT)
