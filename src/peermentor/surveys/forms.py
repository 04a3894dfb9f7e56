"""Forms: they parse what people typed; the services decide whether it is allowed."""

from typing import Any, cast

from django import forms

from peermentor.surveys.aggregates import BREAKDOWNS
from peermentor.surveys.defaults import SurveyTemplate
from peermentor.surveys.models import (
    DEFAULT_OPEN_DAYS,
    DEFAULT_REMINDER_AFTER_DAYS,
    NUMBER_RANGE,
    TEXT_ANSWER_MAX_LENGTH,
    QuestionKind,
    SurveyAudience,
    SurveyPurpose,
    SurveyQuestion,
    SurveySchedule,
)


class DateInput(forms.DateInput):
    input_type = "date"


class SurveyForm(forms.Form):
    title = forms.CharField(label="Title", max_length=200)
    description = forms.CharField(
        label="Introduction (optional)",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Shown to participants above the questions.",
    )
    purpose = forms.ChoiceField(label="What it is for", choices=SurveyPurpose.choices)
    is_anonymous = forms.BooleanField(
        label="Anonymous",
        required=False,
        initial=True,
        help_text=(
            "Managers then see only totals of enough responses, never who answered what. "
            "This cannot change once people have been asked."
        ),
    )
    audience = forms.ChoiceField(label="Who is asked", choices=SurveyAudience.choices)
    schedule = forms.ChoiceField(label="When it is sent", choices=SurveySchedule.choices)
    send_on = forms.DateField(
        label="Date to send it on",
        required=False,
        widget=DateInput(),
        help_text="For surveys sent on a date.",
    )
    days_after_start = forms.IntegerField(
        label="Days after the connection starts",
        required=False,
        min_value=1,
        max_value=365,
        help_text="For surveys sent a number of days after a connection starts.",
    )
    open_days = forms.IntegerField(
        label="Days to answer",
        min_value=1,
        max_value=180,
        initial=DEFAULT_OPEN_DAYS,
        help_text="How long each person can answer, and change their answers.",
    )
    reminder_after_days = forms.IntegerField(
        label="Remind after (days)",
        min_value=0,
        max_value=60,
        initial=DEFAULT_REMINDER_AFTER_DAYS,
        help_text="One reminder to those who have not answered; 0 for none.",
    )

    # Fixed once anyone was asked (services.FIXED_ONCE_SENT says why).
    FIXED_FIELDS = ("is_anonymous", "audience", "schedule", "purpose")

    def __init__(self, *args: Any, is_sent: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if is_sent:
            for name in self.FIXED_FIELDS:
                self.fields[name].disabled = True
                self.fields[name].help_text = "People have been asked: this can no longer change."

    @classmethod
    def initial_for(cls, survey: Any) -> dict[str, Any]:
        return {name: getattr(survey, name) for name in cls.base_fields}


class TemplateForm(forms.Form):
    template_key = forms.ChoiceField(label="Template")
    send_on = forms.DateField(
        label="Date to send it on (surveys sent on a date only)",
        required=False,
        widget=DateInput(),
        help_text="Leave empty to use the program's planned end.",
    )

    def __init__(self, *args: Any, templates: list[SurveyTemplate], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["template_key"]).choices = [
            (template.key, f"{template.title} ({template.when})") for template in templates
        ]


class QuestionForm(forms.Form):
    kind = forms.ChoiceField(label="Kind of question", choices=QuestionKind.choices)
    text = forms.CharField(label="Question", max_length=300)
    help_text = forms.CharField(
        label="Hint (optional)",
        required=False,
        max_length=300,
        help_text="Shown under the question, e.g. what 1 and 5 mean.",
    )
    choices = forms.CharField(
        label="Options (choice questions: one per line)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    key = forms.CharField(
        label="Key (optional)",
        required=False,
        max_length=60,
        help_text=(
            "Names the question in reports: lower-case letters, digits, underscores. "
            "Left empty, one is made from the question."
        ),
    )
    is_required = forms.BooleanField(label="An answer is required", required=False, initial=True)

    def choice_list(self) -> list[str]:
        return [line.strip() for line in self.cleaned_data.get("choices", "").splitlines()]

    @classmethod
    def initial_for(cls, question: SurveyQuestion) -> dict[str, Any]:
        return {
            "kind": question.kind,
            "text": question.text,
            "help_text": question.help_text,
            "choices": "\n".join(question.choices),
            "key": question.key,
            "is_required": question.is_required,
        }


class CloseForm(forms.Form):
    reason = forms.CharField(
        label="Why close it now (optional)",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class MoveForm(forms.Form):
    direction = forms.ChoiceField(choices=[("up", "Up"), ("down", "Down")])


class BreakdownForm(forms.Form):
    breakdown = forms.ChoiceField(
        label="Break down by",
        required=False,
        choices=[("", "Nothing (overall only)")]
        + [(key, spec[3]) for key, spec in BREAKDOWNS.items()],
    )

    def value(self) -> str | None:
        if self.is_valid():
            return self.cleaned_data["breakdown"] or None
        return None


def field_name(question: SurveyQuestion) -> str:
    return f"q_{question.key}"


class AnswerForm(forms.Form):
    """One field per question, named `q_<key>` (the services report errors under that name)."""

    def __init__(
        self, *args: Any, questions: list[SurveyQuestion], values: dict[str, Any], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.questions = questions
        for question in questions:
            name = field_name(question)
            self.fields[name] = self._field_for(question)
            if question.key in values:
                self.initial[name] = values[question.key]

    @staticmethod
    def _field_for(question: SurveyQuestion) -> forms.Field:
        common: dict[str, Any] = {
            "label": question.text,
            "required": question.is_required,
            "help_text": question.help_text,
        }
        if question.kind in NUMBER_RANGE:
            low, high = NUMBER_RANGE[question.kind]
            return forms.TypedChoiceField(
                choices=[(value, str(value)) for value in range(low, high + 1)],
                coerce=int,
                empty_value=None,
                widget=forms.RadioSelect(attrs={"class": "scale"}),
                **common,
            )
        if question.kind == QuestionKind.SINGLE_CHOICE:
            return forms.ChoiceField(
                choices=[(choice, choice) for choice in question.choices],
                widget=forms.RadioSelect,
                **common,
            )
        if question.kind == QuestionKind.MULTIPLE_CHOICE:
            return forms.MultipleChoiceField(
                choices=[(choice, choice) for choice in question.choices],
                widget=forms.CheckboxSelectMultiple,
                **common,
            )
        return forms.CharField(
            max_length=TEXT_ANSWER_MAX_LENGTH,
            widget=forms.Textarea(attrs={"rows": 4}),
            **common,
        )

    def answers(self) -> dict[str, Any]:
        return {
            question.key: self.cleaned_data.get(field_name(question)) for question in self.questions
        }
