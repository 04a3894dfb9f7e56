"""Helpers the survey services share: the managers-only check's message, locking, text input."""

from __future__ import annotations

from typing import Any

from peermentor.core.errors import ApplicationError
from peermentor.surveys.models import Survey, SurveyResponse

MANAGERS_ONLY = "Only the program's managers may change its surveys."


def _lock_survey(survey: Survey) -> Survey:
    return (
        Survey.objects.select_for_update(of=("self",)).select_related("program").get(pk=survey.pk)
    )


def _text(value: Any, *, field: str, label: str, max_length: int, required: bool) -> str:
    if value is not None and not isinstance(value, str):
        raise ApplicationError(f"{label} must be text.", field=field)
    text = (value or "").strip()
    if required and not text:
        raise ApplicationError(f"{label} cannot be empty.", field=field)
    if len(text) > max_length:
        raise ApplicationError(
            f"{label} is too long: keep it under {max_length} characters.", field=field
        )
    return text


def _has_answers(survey: Survey) -> bool:
    return SurveyResponse.objects.filter(survey_id=survey.pk).exists()
