"""Forms parse what people type; services decide (core.forms.show_error puts a service's error
beside the field it names)."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.urls import reverse

from peermentor.core.errors import ApplicationError
from peermentor.people.models import Department, Person, Site
from peermentor.programs.defaults import METRICS
from peermentor.programs.models import (
    Format,
    Goal,
    ProgramStatus,
    QuestionKind,
    TrainingKind,
)
from peermentor.programs.services import quiz_from_text, quiz_to_text

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")

# Service fields that live under another name in these forms (`aliases` of core.forms.show_error).
FIELD_ALIASES = {"eligibility": "departments"}


class GoalsForm(forms.Form):
    goals = forms.MultipleChoiceField(
        choices=Goal.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choose at least one goal."},
    )


class EligibilityFields(forms.Form):
    """Who may take part; empty means everyone in the directory."""

    departments = forms.ModelMultipleChoiceField(
        queryset=Department.objects.order_by("name"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Only people in these departments may take part (none ticked: any).",
    )
    sites = forms.ModelMultipleChoiceField(
        queryset=Site.objects.order_by("name"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Only people at these sites (none ticked: any).",
    )
    levels = forms.MultipleChoiceField(
        choices=[],
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Only people at these career levels (none ticked: any).",
    )
    min_tenure_months = forms.IntegerField(
        label="Minimum time in the organisation (months)",
        min_value=0,
        max_value=600,
        required=False,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        levels = Person.objects.exclude(level="").order_by("level").values_list("level", flat=True)
        cast(forms.ChoiceField, self.fields["levels"]).choices = [
            (level, level) for level in levels.distinct()
        ]

    @staticmethod
    def initial_from(eligibility: dict[str, Any]) -> dict[str, Any]:
        return {
            "departments": eligibility.get("department_ids", []),
            "sites": eligibility.get("site_ids", []),
            "levels": eligibility.get("levels", []),
            "min_tenure_months": eligibility.get("min_tenure_months") or None,
        }

    def eligibility(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "department_ids": [department.pk for department in data["departments"]],
            "site_ids": [site.pk for site in data["sites"]],
            "levels": list(data["levels"]),
            "min_tenure_months": data["min_tenure_months"] or 0,
        }


class ProgramFields(forms.Form):
    """The settings step 2 of "new program" and the edit page share."""

    name = forms.CharField(max_length=200)
    format = forms.ChoiceField(
        choices=Format.choices, help_text="Pre-filled from the goals; change it if you like."
    )
    description = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
        help_text="Shown on the program page people are sent to.",
    )
    sponsor = forms.CharField(
        max_length=200, required=False, help_text="The leader who backs the program."
    )
    enrollment_opens_on = forms.DateField(widget=DATE_INPUT, required=False)
    enrollment_closes_on = forms.DateField(widget=DATE_INPUT, required=False)
    starts_on = forms.DateField(label="Program starts on", widget=DATE_INPUT, required=False)
    planned_end_on = forms.DateField(label="Planned end", widget=DATE_INPUT, required=False)
    theme = forms.CharField(
        max_length=200, required=False, help_text="Circles: the theme members share."
    )
    group_size_min = forms.IntegerField(
        label="Smallest circle", min_value=2, max_value=50, initial=4
    )
    group_size_max = forms.IntegerField(
        label="Largest circle", min_value=2, max_value=50, initial=6
    )
    has_facilitator = forms.BooleanField(label="Circles have a facilitator", required=False)
    default_capacity = forms.IntegerField(
        label="How many people a host or buddy takes by default",
        min_value=1,
        max_value=20,
        initial=1,
    )
    is_self_enrollment_open = forms.BooleanField(
        label="Anyone eligible may enroll while enrollment is open", required=False, initial=True
    )
    needs_manager_approval = forms.BooleanField(
        label="Enrollment needs the line manager's approval", required=False
    )
    is_self_match_enabled = forms.BooleanField(
        label="Participants may choose and request one another", required=False
    )
    anonymity_threshold = forms.IntegerField(
        label="Smallest group whose survey results are shown",
        min_value=2,
        max_value=100,
        initial=5,
        help_text="Below this many answers, results stay hidden to protect people.",
    )

    def settings(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in ProgramFields.base_fields}


class ProgramCreateForm(ProgramFields):
    goals = forms.MultipleChoiceField(choices=Goal.choices, widget=forms.MultipleHiddenInput)

    field_order = ["goals"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # With JavaScript, changing the format refreshes the preview of what it starts with.
        self.fields["format"].widget.attrs.update(
            {
                "hx-get": reverse("program_defaults_preview"),
                "hx-target": "#defaults-preview",
                "hx-include": "[name=goals]",
                "hx-trigger": "change",
            }
        )


class ProgramEditForm(ProgramFields, EligibilityFields):
    goals = forms.MultipleChoiceField(
        choices=Goal.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choose at least one goal."},
    )
    success_metrics = forms.MultipleChoiceField(
        choices=[(key, metric.label) for key, metric in METRICS.items()],
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text="What the program report and dashboards show first.",
    )

    field_order = ["name", "goals", "format"]

    def __init__(self, *args: Any, program: Any = None, **kwargs: Any) -> None:
        if program is not None:
            kwargs["initial"] = {
                **{name: getattr(program, name) for name in ProgramFields.base_fields},
                "goals": program.goals,
                "success_metrics": [metric["key"] for metric in program.success_metrics],
                **EligibilityFields.initial_from(program.eligibility or {}),
            }
        self.program = program
        super().__init__(*args, **kwargs)

    def update_data(self) -> dict[str, Any]:
        data = {**self.settings(), "goals": self.cleaned_data["goals"]}
        data["eligibility"] = self.eligibility()
        # Keep the targets people already set for metrics that stay.
        current = {m["key"]: m for m in (self.program.success_metrics if self.program else [])}
        data["success_metrics"] = [
            current.get(key, {"key": key}) for key in self.cleaned_data["success_metrics"]
        ]
        return data


class TransitionForm(forms.Form):
    to_status = forms.ChoiceField(choices=ProgramStatus.choices, widget=forms.HiddenInput)
    reason = forms.CharField(
        label="Why?",
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=2000,
        help_text="Recorded in the program's history with your name and the time.",
        error_messages={"required": "Say why, so that others know later."},
    )


class CloseTrackForm(forms.Form):
    reason_code = forms.ChoiceField(
        label="How did they end?",
        choices=[("completed", "Completed naturally"), ("goals_met", "Goals met")],
        initial="completed",
    )
    reason_text = forms.CharField(
        label="Anything to add? (optional)",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Kept in each connection's history.",
    )


class CopyForm(forms.Form):
    name = forms.CharField(label="Name of the new program", max_length=200)


class TrackForm(EligibilityFields):
    name = forms.CharField(max_length=200)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)

    field_order = ["name", "description"]


class ManagerForm(forms.Form):
    email = forms.EmailField(
        label="E-mail address of the new manager",
        help_text="They need an account: people get one when they are invited.",
    )


class QuestionForm(forms.Form):
    label = forms.CharField(label="Question", max_length=300)
    key = forms.SlugField(
        max_length=60,
        help_text="The name matching rules use, e.g. skills_wanted: lower-case letters, "
        "digits and underscores.",
    )
    kind = forms.ChoiceField(choices=QuestionKind.choices)
    choices = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
        help_text="Single and multiple choice: one choice per line. Skills come from the "
        "organisation's skill list.",
    )
    help_text = forms.CharField(label="Hint for participants", max_length=300, required=False)
    is_required = forms.BooleanField(label="An answer is required", required=False, initial=True)

    def __init__(self, *args: Any, question: Any = None, **kwargs: Any) -> None:
        if question is not None:
            kwargs["initial"] = {
                "label": question.label,
                "key": question.key,
                "kind": question.kind,
                "choices": "\n".join(question.choices),
                "help_text": question.help_text,
                "is_required": question.is_required,
            }
        super().__init__(*args, **kwargs)

    def question_data(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data["choices"] = [line.strip() for line in data["choices"].splitlines() if line.strip()]
        return data


class TrainingModuleForm(forms.Form):
    title = forms.CharField(max_length=200)
    kind = forms.ChoiceField(choices=TrainingKind.choices)
    body = forms.CharField(
        label="What participants read",
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text="Plain text; a blank line starts a new paragraph.",
    )
    quiz = forms.CharField(
        label="Quiz questions",
        widget=forms.Textarea(attrs={"rows": 8}),
        required=False,
        help_text="Quizzes only. 'Q: ' starts a question, '- ' an answer, '* ' the correct answer.",
    )
    pass_mark_percent = forms.IntegerField(
        label="Pass mark (%)", min_value=0, max_value=100, initial=100
    )
    is_required = forms.BooleanField(label="Required before matching", required=False, initial=True)

    def __init__(self, *args: Any, module: Any = None, **kwargs: Any) -> None:
        if module is not None:
            kwargs["initial"] = {
                "title": module.title,
                "kind": module.kind,
                "body": module.body,
                "quiz": quiz_to_text(module.quiz),
                "pass_mark_percent": module.pass_mark_percent,
                "is_required": module.is_required,
            }
        super().__init__(*args, **kwargs)

    def clean(self) -> dict[str, Any]:
        data = cast(dict[str, Any], super().clean())  # Form.clean returns cleaned_data
        if data.get("kind") == TrainingKind.QUIZ:
            try:
                data["quiz"] = quiz_from_text(data.get("quiz") or "")
            except ApplicationError as error:
                self.add_error("quiz", error.message)
        else:
            data["quiz"] = []
        return data
