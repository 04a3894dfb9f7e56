"""Forms parse input for the enrollment views; services re-check everything they are given."""

import zoneinfo
from typing import Any, cast

from django import forms

from peermentor.core.errors import ApplicationError
from peermentor.enrollment.answers import (
    DAYS,
    MAX_SLOTS,
    SKILL_KINDS,
    normalise_answer,
    question_choices,
)
from peermentor.enrollment.models import ParticipantRole, ParticipantStatus, roles_for_program
from peermentor.enrollment.selectors import READINESS_FILTERS
from peermentor.people.models import Department, Site, Skill
from peermentor.programs.models import QuestionKind, Track

ROLE_HINTS: dict[str, str] = {
    ParticipantRole.PEER: "Learn with and from a peer.",
    ParticipantRole.SHADOW: "Spend time with a host in another function.",
    ParticipantRole.HOST: "Welcome a shadow into your work.",
    ParticipantRole.NEWCOMER: "You are new and would like a buddy.",
    ParticipantRole.BUDDY: "Help a newcomer find their feet.",
    ParticipantRole.MEMBER: "Join a circle around the program's theme.",
    ParticipantRole.FACILITATOR: "Lead a circle's conversations.",
}
RADIO_LIMIT = 6
TIME_ZONE_CHOICES = [(name, name) for name in sorted(zoneinfo.available_timezones())]


class ApplicationErrorMixin:
    """Show a service's ApplicationError beside its field, or above the form."""

    def add_application_error(self, error: ApplicationError) -> None:
        field = self.field_for_error(error.field)
        self.add_error(field, error.message)  # type: ignore[attr-defined]

    def field_for_error(self, field: str | None) -> str | None:
        return field if field in self.fields else None  # type: ignore[attr-defined]


class EnrollForm(ApplicationErrorMixin, forms.Form):
    role = forms.ChoiceField(label="Take part as", widget=forms.RadioSelect)
    track: forms.ModelChoiceField[Track] = forms.ModelChoiceField(
        queryset=None, label="Track", widget=forms.RadioSelect
    )

    def __init__(self, *args: Any, program: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        roles = roles_for_program(program)
        if len(roles) > 1:
            cast(forms.ChoiceField, self.fields["role"]).choices = [
                (role, f"{ParticipantRole(role).label} — {ROLE_HINTS[role]}") for role in roles
            ]
        else:
            del self.fields["role"]
        tracks = program.tracks.all()
        if tracks:
            track = cast("forms.ModelChoiceField[Track]", self.fields["track"])
            track.queryset = tracks
            track.empty_label = None
        else:
            del self.fields["track"]


class ProfileForm(ApplicationErrorMixin, forms.Form):
    """One field per profile question; availability is a time zone plus weekly slot rows."""

    def __init__(
        self,
        *args: Any,
        questions: list[Any],
        answers: dict[str, Any],
        default_time_zone: str,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.questions = questions
        self.slot_rows: dict[str, int] = {}
        needs_skills = any(question.kind in SKILL_KINDS for question in questions)
        skills = list(Skill.objects.values_list("name", flat=True)) if needs_skills else []
        self.skill_names = {name.lower(): name for name in skills}
        for question in questions:
            answer = answers.get(question.key)
            if question.kind == QuestionKind.AVAILABILITY:
                self._add_availability(question, answer, default_time_zone)
            else:
                self.fields[question.key] = self._field(question, skills)
                if answer is not None:
                    self.initial[question.key] = answer.value

    def _field(self, question: Any, skills: list[str]) -> forms.Field:
        common = {
            "label": question.label if question.is_required else f"{question.label} (optional)",
            "help_text": question.help_text,
            "required": question.is_required,
        }
        kind = question.kind
        if kind == QuestionKind.SINGLE_CHOICE:
            choices = question_choices(question)
            if len(choices) <= RADIO_LIMIT:
                return forms.ChoiceField(choices=choices, widget=forms.RadioSelect, **common)
            return forms.ChoiceField(choices=[("", "Choose…"), *choices], **common)
        if kind == QuestionKind.MULTIPLE_CHOICE:
            return forms.MultipleChoiceField(
                choices=question_choices(question), widget=forms.CheckboxSelectMultiple, **common
            )
        if kind in SKILL_KINDS:
            return forms.MultipleChoiceField(
                choices=[(name, name) for name in skills],
                widget=forms.CheckboxSelectMultiple(attrs={"class": "choices-scroll"}),
                **common,
            )
        if kind == QuestionKind.NUMBER:
            return forms.FloatField(widget=forms.NumberInput(attrs={"step": "any"}), **common)
        return forms.CharField(
            widget=forms.Textarea(attrs={"rows": 3}), max_length=2000, strip=True, **common
        )

    def _add_availability(self, question: Any, answer: Any, default_time_zone: str) -> None:
        key = question.key
        slots = list(answer.value) if answer is not None else []
        # Without JavaScript a form cannot grow rows; two spare ones appear after each save.
        rows = min(max(4, len(slots) + 2), MAX_SLOTS)
        self.slot_rows[key] = rows
        self.fields[f"{key}__time_zone"] = forms.ChoiceField(
            label="Your time zone", choices=TIME_ZONE_CHOICES
        )
        self.initial[f"{key}__time_zone"] = (
            answer.time_zone if answer is not None and answer.time_zone else default_time_zone
        )
        day_choices = [("", "—"), *[(str(index), day) for index, day in enumerate(DAYS)]]
        for row in range(rows):
            number = row + 1
            self.fields[f"{key}__day_{row}"] = forms.ChoiceField(
                label=f"Day, slot {number}", choices=day_choices, required=False
            )
            self.fields[f"{key}__start_{row}"] = forms.TimeField(
                label=f"From, slot {number}",
                required=False,
                widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            )
            self.fields[f"{key}__end_{row}"] = forms.TimeField(
                label=f"Until, slot {number}",
                required=False,
                widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            )
            if row < len(slots):
                slot = slots[row]
                self.initial[f"{key}__day_{row}"] = str(slot["day"])
                self.initial[f"{key}__start_{row}"] = slot["start"]
                self.initial[f"{key}__end_{row}"] = slot["end"]

    def field_for_error(self, field: str | None) -> str | None:
        if field in self.slot_rows:
            return f"{field}__time_zone"
        return super().field_for_error(field)

    def _availability_value(self, key: str) -> dict[str, Any]:
        slots = []
        for row in range(self.slot_rows[key]):
            day = self.cleaned_data.get(f"{key}__day_{row}")
            start = self.cleaned_data.get(f"{key}__start_{row}")
            end = self.cleaned_data.get(f"{key}__end_{row}")
            if not day and start is None and end is None:
                continue
            if not day or start is None or end is None:
                missing = f"{key}__day_{row}" if not day else f"{key}__start_{row}"
                self.add_error(missing, "Give a day, a start and an end for this slot.")
                continue
            slots.append(
                {"day": int(day), "start": start.strftime("%H:%M"), "end": end.strftime("%H:%M")}
            )
        return {"time_zone": self.cleaned_data.get(f"{key}__time_zone", ""), "slots": slots}

    def clean(self) -> dict[str, Any]:
        cleaned = cast(dict[str, Any], super().clean())  # Form.clean returns cleaned_data
        self.answers: dict[str, Any] = {}
        for question in self.questions:
            key = question.key
            if key in self.slot_rows:
                value: Any = self._availability_value(key)
            elif key in cleaned:
                value = cleaned[key]
            else:
                continue  # The field already has its own error.
            try:
                answer = normalise_answer(question, value, skill_names=self.skill_names)
            except ApplicationError as error:
                self.add_application_error(error)
                continue
            if answer.is_blank and question.is_required:
                self.add_error(self.field_for_error(key), "This question needs an answer.")
            self.answers[key] = value
        return cleaned

    def blocks(self) -> list[dict[str, Any]]:
        """The questions in order, with their bound fields, for the template."""
        blocks = []
        for question in self.questions:
            key = question.key
            if key in self.slot_rows:
                blocks.append(
                    {
                        "question": question,
                        "is_availability": True,
                        "time_zone": self[f"{key}__time_zone"],
                        "rows": [
                            (
                                self[f"{key}__day_{row}"],
                                self[f"{key}__start_{row}"],
                                self[f"{key}__end_{row}"],
                            )
                            for row in range(self.slot_rows[key])
                        ],
                    }
                )
            else:
                blocks.append({"question": question, "field": self[key]})
        return blocks


class AcknowledgeForm(forms.Form):
    has_read = forms.BooleanField(label="I have read and understood this module", required=True)


class QuizForm(ApplicationErrorMixin, forms.Form):
    def __init__(self, *args: Any, module: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for index, item in enumerate(module.quiz or []):
            self.fields[f"question_{index}"] = forms.TypedChoiceField(
                label=f"{index + 1}. {item.get('question', '')}",
                choices=[
                    (str(number), str(text))
                    for number, text in enumerate(item.get("choices") or [])
                ],
                coerce=int,
                widget=forms.RadioSelect,
                error_messages={"required": "Choose an answer."},
            )

    def answers(self) -> list[int]:
        return [self.cleaned_data[name] for name in self.fields]


class WithdrawForm(ApplicationErrorMixin, forms.Form):
    reason = forms.CharField(
        label="Why are you leaving? (optional for participants)",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class DecisionForm(ApplicationErrorMixin, forms.Form):
    decision = forms.ChoiceField(choices=[("approve", "Approve"), ("decline", "Decline")])
    reason = forms.CharField(label="Reason", required=False, max_length=2000)


# The participants page's status filter for people invited who have not enrolled.
INVITED = "invited"


class ParticipantFilterForm(forms.Form):
    search = forms.CharField(label="Search by name or e-mail", required=False, max_length=200)
    status = forms.ChoiceField(
        label="Status",
        required=False,
        choices=[
            ("", "Any"),
            (INVITED, "Invited, not enrolled yet"),
            *ParticipantStatus.choices,
        ],
    )
    readiness = forms.ChoiceField(
        label="Ready", required=False, choices=[("", "Any"), *READINESS_FILTERS.items()]
    )
    track: forms.ModelChoiceField[Track] = forms.ModelChoiceField(
        label="Track", required=False, queryset=None, empty_label="Any"
    )

    def __init__(self, *args: Any, program: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        tracks = program.tracks.all()
        if tracks:
            cast("forms.ModelChoiceField[Track]", self.fields["track"]).queryset = tracks
        else:
            del self.fields["track"]


class InviteForm(ApplicationErrorMixin, forms.Form):
    departments = forms.ModelMultipleChoiceField(
        label="Departments",
        queryset=Department.objects.all(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None ticked means every department.",
    )
    sites = forms.ModelMultipleChoiceField(
        label="Sites",
        queryset=Site.objects.all(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None ticked means every site.",
    )
    levels = forms.MultipleChoiceField(
        label="Levels",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None ticked means every level.",
    )
    search = forms.CharField(
        label="Name, e-mail or job title contains", required=False, max_length=200
    )
    track: forms.ModelChoiceField[Track] = forms.ModelChoiceField(
        label="Track", required=False, queryset=None
    )

    def __init__(self, *args: Any, program: Any, levels: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["levels"]).choices = [
            (level, level) for level in levels
        ]
        tracks = program.tracks.all()
        if tracks:
            cast("forms.ModelChoiceField[Track]", self.fields["track"]).queryset = tracks
            self.fields["track"].help_text = "Left empty, people choose their track when enrolling."
        else:
            del self.fields["track"]

    def people_filter(self) -> dict[str, Any]:
        return {
            "department_ids": [item.pk for item in self.cleaned_data["departments"]],
            "site_ids": [item.pk for item in self.cleaned_data["sites"]],
            "levels": list(self.cleaned_data["levels"]),
            "search": self.cleaned_data["search"],
        }
