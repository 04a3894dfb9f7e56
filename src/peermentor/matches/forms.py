"""Forms of the matching pages: settings (criteria and constraints), starting a run, pairing
by hand. They parse and check input; the services decide."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.forms import formset_factory

from peermentor.enrollment.models import Participant
from peermentor.programs.models import Program, Track
from peermentor.programs.policy import DIRECTORY_ATTRIBUTES, QUESTION_KIND_ATTRIBUTE

CRITERION_KINDS = [
    ("", "—"),
    ("same", "Same (both have the same value)"),
    ("different", "Different (values differ)"),
    ("overlap", "Shared (values in common)"),
    ("complement", "Complement (one offers what the other wants)"),
    ("near", "Near (numbers close together)"),
]
CONSTRAINT_KINDS = [
    ("", "—"),
    ("not_in_reporting_line", "Never in the same reporting line"),
    ("must_differ", "Must differ (e.g. a different department)"),
    ("must_match", "Must match (e.g. the same site)"),
    ("max_gap", "At most a given gap (e.g. hours between time zones)"),
]
OBJECTIVES = [
    ("quality", "Quality: the best total score"),
    ("participation", "Participation: as many people matched as possible, then the best score"),
]


def attribute_options(program: Program) -> list[tuple[str, str, str]]:
    """(name, label, value kind) of every attribute a rule may use: questions, then directory."""

    options = [
        (key, f"{label} (question)", QUESTION_KIND_ATTRIBUTE.get(kind, "text"))
        for key, label, kind in program.questions.values_list("key", "label", "kind")
    ]
    taken = {name for name, _label, _kind in options}
    options.extend(
        (name, f"{label} (directory)", kind)
        for name, (label, kind) in DIRECTORY_ATTRIBUTES.items()
        if name not in taken
    )
    return options


class CriterionForm(forms.Form):
    kind = forms.ChoiceField(choices=CRITERION_KINDS, required=False, label="Kind")
    field = forms.ChoiceField(required=False, label="Attribute")
    offer = forms.ChoiceField(required=False, label="Offered attribute (complement)")
    want = forms.ChoiceField(required=False, label="Wanted attribute (complement)")
    scale = forms.FloatField(
        required=False, min_value=0.000001, label="Scale (near)", help_text="Gap at which it is 0."
    )
    weight = forms.FloatField(required=False, min_value=0.000001, label="Weight", initial=1)

    def __init__(self, *args: Any, attributes: list[tuple[str, str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Every row is read, even one left as it was shown: an unchanged row is a rule to keep.
        self.empty_permitted = False
        self.kinds = {name: kind for name, _label, kind in attributes}
        choices = [("", "—"), *[(name, label) for name, label, _kind in attributes]]
        sets = [("", "—"), *[(n, label) for n, label, k in attributes if k in ("multi", "text")]]
        cast(forms.ChoiceField, self.fields["field"]).choices = choices
        cast(forms.ChoiceField, self.fields["offer"]).choices = sets
        cast(forms.ChoiceField, self.fields["want"]).choices = sets

    def clean(self) -> dict[str, Any]:
        data = cast(dict[str, Any], super().clean())  # Form.clean returns cleaned_data
        kind = data.get("kind")
        if not kind:
            return data
        if data.get("weight") is None:
            self.add_error("weight", "Give a weight above 0.")
        if kind == "complement":
            for part in ("offer", "want"):
                if not data.get(part):
                    self.add_error(part, "A complement criterion needs this attribute.")
        else:
            name = data.get("field")
            if not name:
                self.add_error("field", "Choose the attribute this criterion compares.")
            elif kind == "near" and self.kinds.get(name) != "number":
                self.add_error("field", "A near criterion needs a number attribute.")
            if kind == "near" and data.get("scale") is None:
                self.add_error("scale", "A near criterion needs a scale above 0.")
        return data

    def as_rule(self) -> dict[str, Any] | None:
        data = self.cleaned_data
        kind = data.get("kind")
        if not kind or data.get("DELETE"):
            return None
        rule: dict[str, Any] = {"kind": kind}
        if kind == "complement":
            rule["offer"], rule["want"] = data["offer"], data["want"]
        else:
            rule["field"] = data["field"]
        if kind == "near":
            rule["scale"] = data["scale"]
        rule["weight"] = data["weight"]
        return rule


class ConstraintForm(forms.Form):
    kind = forms.ChoiceField(choices=CONSTRAINT_KINDS, required=False, label="Rule")
    field = forms.ChoiceField(required=False, label="Attribute")
    max = forms.FloatField(required=False, min_value=0, label="Largest gap (max gap)")

    def __init__(self, *args: Any, attributes: list[tuple[str, str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Every row is read, even one left as it was shown: an unchanged row is a rule to keep.
        self.empty_permitted = False
        self.kinds = {name: kind for name, _label, kind in attributes}
        cast(forms.ChoiceField, self.fields["field"]).choices = [
            ("", "—"),
            *[(name, label) for name, label, _kind in attributes],
        ]

    def clean(self) -> dict[str, Any]:
        data = cast(dict[str, Any], super().clean())  # Form.clean returns cleaned_data
        kind = data.get("kind")
        if not kind or kind == "not_in_reporting_line":
            return data
        name = data.get("field")
        if not name:
            self.add_error("field", "Choose the attribute this rule is about.")
        if kind == "max_gap":
            if name and self.kinds.get(name) != "number":
                self.add_error("field", "A maximum gap needs a number attribute.")
            if data.get("max") is None:
                self.add_error("max", "Give the largest gap allowed (0 or more).")
        return data

    def as_rule(self) -> dict[str, Any] | None:
        data = self.cleaned_data
        kind = data.get("kind")
        if not kind or data.get("DELETE"):
            return None
        rule: dict[str, Any] = {"kind": kind}
        if kind != "not_in_reporting_line":
            rule["field"] = data["field"]
        if kind == "max_gap":
            rule["max"] = data["max"]
        return rule


CriterionFormSet = formset_factory(CriterionForm, extra=2, can_delete=True, max_num=30)
ConstraintFormSet = formset_factory(ConstraintForm, extra=2, can_delete=True, max_num=30)


class SettingsForm(forms.Form):
    objective = forms.ChoiceField(choices=OBJECTIVES, widget=forms.RadioSelect, label="Objective")
    min_score = forms.FloatField(
        min_value=0,
        max_value=1,
        label="Minimum score",
        help_text="From 0 to 1: a pair scoring less is never proposed.",
    )
    allow_repeat_pairs = forms.BooleanField(
        required=False, label="People who were connected before may be matched again"
    )

    def __init__(self, *args: Any, program: Program, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not hasattr(program, "allow_repeat_pairs"):
            del self.fields["allow_repeat_pairs"]


class SettingsForms:
    """The settings page's three forms, bound or not, and the policy they describe."""

    def __init__(
        self,
        program: Program,
        policy: dict[str, Any],
        data: Any = None,
    ) -> None:
        attributes = attribute_options(program)
        initial = {
            "objective": policy.get("objective", "quality"),
            "min_score": policy.get("min_score", 0.0),
            "allow_repeat_pairs": bool(getattr(program, "allow_repeat_pairs", False)),
        }
        self.settings = SettingsForm(data, program=program, initial=initial)
        self.criteria = CriterionFormSet(
            data,
            prefix="criteria",
            initial=[_criterion_initial(rule) for rule in policy.get("criterion", [])],
            form_kwargs={"attributes": attributes},
        )
        self.constraints = ConstraintFormSet(
            data,
            prefix="constraints",
            initial=[dict(rule) for rule in policy.get("constraint", [])],
            form_kwargs={"attributes": attributes},
        )

    def is_valid(self) -> bool:
        results = [self.settings.is_valid(), self.criteria.is_valid(), self.constraints.is_valid()]
        return all(results)

    def policy(self) -> dict[str, Any]:
        return {
            "objective": self.settings.cleaned_data["objective"],
            "min_score": self.settings.cleaned_data["min_score"],
            "criterion": [rule for form in self.criteria.forms if (rule := form.as_rule())],
            "constraint": [rule for form in self.constraints.forms if (rule := form.as_rule())],
        }

    def allow_repeat_pairs(self) -> bool | None:
        if "allow_repeat_pairs" not in self.settings.fields:
            return None
        return bool(self.settings.cleaned_data.get("allow_repeat_pairs"))

    def add_error(self, field: str | None, message: str) -> None:
        if field == "objective" or field == "min_score":
            self.settings.add_error(field, message)
        elif field == "criteria":
            # A formset keeps its own errors in a private attribute; full_clean() would reset it.
            self.criteria._non_form_errors = self.criteria.error_class([message])  # type: ignore[attr-defined]
        elif field == "constraints":
            self.constraints._non_form_errors = self.constraints.error_class([message])  # type: ignore[attr-defined]
        else:
            self.settings.add_error(None, message)


def _criterion_initial(rule: dict[str, Any]) -> dict[str, Any]:
    return {key: rule.get(key) for key in ("kind", "field", "offer", "want", "scale", "weight")}


class StartRunForm(forms.Form):
    track = forms.ModelChoiceField(
        queryset=Track.objects.none(),
        required=False,
        label="Track",
        empty_label="Whole program",
    )
    seed = forms.IntegerField(
        required=False,
        min_value=0,
        max_value=2**31 - 1,
        label="Variant number (optional)",
        help_text=(
            "Runs with the same settings and the same number give the same proposals; another "
            "number may give other proposals of much the same quality."
        ),
    )

    def __init__(self, *args: Any, program: Program, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast("forms.ModelChoiceField[Track]", self.fields["track"]).queryset = program.tracks.all()
        if not program.tracks.exists():
            self.fields["track"].widget = forms.HiddenInput()


class ManualPairForm(forms.Form):
    first = forms.ModelChoiceField(queryset=Participant.objects.none(), label="First person")
    second = forms.ModelChoiceField(queryset=Participant.objects.none(), label="Second person")

    def __init__(self, *args: Any, participants: Any, is_circles: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("first", "second"):
            field = cast("forms.ModelChoiceField[Participant]", self.fields[name])
            field.queryset = participants
            field.label_from_instance = _participant_label  # type: ignore[assignment]
        if is_circles:
            self.fields["first"].label = "Person to add"
            self.fields["second"].label = "Into the circle of"


def _participant_label(participant: Participant) -> str:
    role = participant.get_role_display()
    return f"{participant.person.full_name} ({role})"
