from typing import Any

from django import forms


class ErasureForm(forms.Form):
    reason = forms.CharField(
        label="Why is this person erased?",
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=1000,
        help_text="Kept in the audit log, e.g. “Request by e-mail of 3 March, ticket 1234”.",
    )
    confirm = forms.BooleanField(label="I understand that this cannot be undone.", required=True)


def _months(label: str, help_text: str) -> forms.IntegerField:
    return forms.IntegerField(
        label=label, required=False, min_value=1, max_value=120, help_text=help_text
    )


class RetentionPolicyForm(forms.Form):
    """The two rules of core's RetentionPolicy (empty: the rule is off)."""

    anonymise_leavers_after_months = _months(
        "Erase leavers after (months)",
        "People who left (inactive in the directory) are erased this many months after their "
        "leaving date. Empty: keep them.",
    )
    delete_private_notes_after_months = _months(
        "Delete private notes after (months)",
        "Private notes are deleted this many months after their connection ended. "
        "Empty: keep them.",
    )


class AuditLogFilterForm(forms.Form):
    actor = forms.CharField(
        label="By (e-mail)", required=False, max_length=254, help_text="Empty: anyone."
    )
    action = forms.CharField(label="Action starts with", required=False, max_length=80)
    target_type = forms.CharField(
        label="Object type",
        required=False,
        max_length=80,
        help_text="e.g. people.person, connections.connection",
    )
    target_id = forms.IntegerField(label="Object id", required=False, min_value=0)
    since = forms.DateField(
        label="From", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        label="To", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def clean(self) -> dict[str, Any]:
        data: dict[str, Any] = super().clean() or {}
        since, until = data.get("since"), data.get("until")
        if since and until and until < since:
            self.add_error("until", "The end comes before the start.")
        return data
