"""Profile answers: the one place that says what a valid, stored answer looks like per kind.

Stored shapes (Answer.value): text and single choice -> str; multiple choice and skills ->
list[str] (skill names as the organisation spells them); number -> int or float; availability
-> [{"day": 0-6, "start": "HH:MM", "end": "HH:MM"}] with the zone in Answer.time_zone.
"""

import itertools
import math
import re
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from peermentor.core.errors import ApplicationError
from peermentor.programs.models import QuestionKind

TEXT_MAX_LENGTH = 2000
MAX_SLOTS = 28
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
SKILL_KINDS = {QuestionKind.SKILLS_OFFERED, QuestionKind.SKILLS_WANTED}
_TIME = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


@dataclass(frozen=True)
class NormalisedAnswer:
    value: Any
    time_zone: str = ""

    @property
    def is_blank(self) -> bool:
        return self.value in (None, "", [])


def question_choices(question: Any) -> list[tuple[str, str]]:
    """(value, label) pairs; programs may store choices as strings or {"value", "label"}."""
    pairs: list[tuple[str, str]] = []
    for choice in question.choices or []:
        if isinstance(choice, Mapping):
            value = str(choice.get("value", choice.get("label", "")))
            pairs.append((value, str(choice.get("label", value))))
        else:
            pairs.append((str(choice), str(choice)))
    return [(value, label) for value, label in pairs if value]


def _error(question: Any, message: str) -> ApplicationError:
    return ApplicationError(message, field=question.key)


def _as_list(question: Any, raw: Any) -> list[str]:
    if raw in (None, ""):
        return []
    if isinstance(raw, str):
        return [raw]
    if not isinstance(raw, list | tuple):
        raise _error(question, "Choose from the list.")
    return [str(item) for item in raw]


def _choices(question: Any, raw: Any, *, is_multiple: bool) -> Any:
    allowed = [value for value, _ in question_choices(question)]
    chosen = _as_list(question, raw)
    unknown = [item for item in chosen if item not in allowed]
    if unknown:
        raise _error(question, f"“{unknown[0]}” is not one of the choices.")
    if not is_multiple:
        if len(chosen) > 1:
            raise _error(question, "Choose one answer.")
        return chosen[0] if chosen else ""
    return [value for value in allowed if value in chosen]


def _skills(question: Any, raw: Any, skill_names: Mapping[str, str]) -> list[str]:
    chosen = _as_list(question, raw)
    canonical: list[str] = []
    for item in chosen:
        name = skill_names.get(item.strip().lower())
        if name is None:
            raise _error(question, f"“{item}” is not in the organisation's skill list.")
        if name not in canonical:
            canonical.append(name)
    return sorted(canonical, key=str.lower)


def _number(question: Any, raw: Any) -> int | float | None:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    if isinstance(raw, bool):
        raise _error(question, "Enter a number.")
    try:
        number = float(raw.strip() if isinstance(raw, str) else Decimal(raw))
    except (TypeError, ValueError, ArithmeticError):
        raise _error(question, "Enter a number.") from None
    if not math.isfinite(number) or abs(number) > 1e12:
        raise _error(question, "Enter a number of reasonable size.")
    return int(number) if number.is_integer() else number


def _text(question: Any, raw: Any) -> str:
    if raw is None:
        return ""
    if not isinstance(raw, str):
        raise _error(question, "Enter text.")
    text = raw.strip()
    if len(text) > TEXT_MAX_LENGTH:
        raise _error(question, f"Keep it under {TEXT_MAX_LENGTH} characters.")
    return text


def _minutes(value: str) -> int:
    hours, minutes = value.split(":")
    return int(hours) * 60 + int(minutes)


def _availability(question: Any, raw: Any) -> NormalisedAnswer:
    if raw in (None, "", []):
        return NormalisedAnswer([])
    if not isinstance(raw, Mapping):
        raise _error(question, "Give your time zone and weekly time slots.")
    time_zone = str(raw.get("time_zone") or "")
    try:
        zoneinfo.ZoneInfo(time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise _error(question, f"“{time_zone}” is not a known time zone.") from None
    slots = raw.get("slots") or []
    if not isinstance(slots, list | tuple) or len(slots) > MAX_SLOTS:
        raise _error(question, f"Give at most {MAX_SLOTS} time slots.")
    normalised: list[dict[str, Any]] = []
    for slot in slots:
        if not isinstance(slot, Mapping):
            raise _error(question, "Each time slot needs a day, a start and an end.")
        day, start, end = slot.get("day"), str(slot.get("start", "")), str(slot.get("end", ""))
        if isinstance(day, bool) or not isinstance(day, int) or not 0 <= day <= 6:
            raise _error(question, "Choose a day of the week for each time slot.")
        if not _TIME.match(start) or not _TIME.match(end):
            raise _error(question, "Give start and end times as HH:MM.")
        if _minutes(end) <= _minutes(start):
            raise _error(question, f"On {DAYS[day]} the end time must be after the start time.")
        normalised.append({"day": day, "start": start, "end": end})
    normalised.sort(key=lambda slot: (slot["day"], slot["start"], slot["end"]))
    for earlier, later in itertools.pairwise(normalised):
        if earlier["day"] == later["day"] and _minutes(later["start"]) < _minutes(earlier["end"]):
            raise _error(question, f"Two time slots overlap on {DAYS[later['day']]}.")
    return NormalisedAnswer(normalised, time_zone if normalised else "")


def normalise_answer(
    question: Any, raw: Any, *, skill_names: Mapping[str, str]
) -> NormalisedAnswer:
    """The stored form of `raw` for `question`, or ApplicationError(field=question.key).

    `skill_names` maps lower-cased skill names to the organisation's spelling.
    """
    kind = question.kind
    if kind == QuestionKind.SINGLE_CHOICE:
        return NormalisedAnswer(_choices(question, raw, is_multiple=False))
    if kind == QuestionKind.MULTIPLE_CHOICE:
        return NormalisedAnswer(_choices(question, raw, is_multiple=True))
    if kind in SKILL_KINDS:
        return NormalisedAnswer(_skills(question, raw, skill_names))
    if kind == QuestionKind.NUMBER:
        return NormalisedAnswer(_number(question, raw))
    if kind == QuestionKind.TEXT:
        return NormalisedAnswer(_text(question, raw))
    if kind == QuestionKind.AVAILABILITY:
        return _availability(question, raw)
    raise _error(question, "This question cannot be answered yet.")


def answer_display(question: Any, answer: Any) -> str:
    """A short human reading of a stored answer, for summaries."""
    value = answer.value
    if question.kind == QuestionKind.AVAILABILITY:
        slots = [
            f"{DAYS[slot['day']][:3]} {slot['start']} to {slot['end']}" for slot in value or []
        ]
        return f"{', '.join(slots)} ({answer.time_zone})" if slots else ""
    if question.kind in (QuestionKind.SINGLE_CHOICE, QuestionKind.MULTIPLE_CHOICE):
        labels = dict(question_choices(question))
        items = value if isinstance(value, list) else [value]
        return ", ".join(labels.get(str(item), str(item)) for item in items)
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    return str(value)
