"""Forms of self-match pages: they parse input; the services decide."""

from __future__ import annotations

from django import forms

from peermentor.selfmatch.models import MESSAGE_MAX_LENGTH
from peermentor.selfmatch.recommendations import DEFAULT_TOP, MAX_TOP, Filters


class RecommendationFilterForm(forms.Form):
    """Filters of the recommendations page. Choices come from the candidates themselves (the
    template lists them), so any text is accepted here and simply matches nobody if unknown."""

    search = forms.CharField(label="Name", required=False, max_length=200)
    department = forms.CharField(label="Department", required=False, max_length=200)
    site = forms.CharField(label="Site", required=False, max_length=200)
    skill = forms.CharField(label="Offers the skill", required=False, max_length=200)
    show = forms.IntegerField(required=False, min_value=1, max_value=MAX_TOP)

    def filters(self) -> Filters:
        if not self.is_valid():
            return Filters()
        data = self.cleaned_data
        return Filters(
            department=data["department"].strip(),
            site=data["site"].strip(),
            skill=data["skill"].strip(),
            search=data["search"].strip(),
        )

    def top(self) -> int:
        if self.is_valid() and self.cleaned_data.get("show"):
            return int(self.cleaned_data["show"])
        return DEFAULT_TOP


class RequestSendForm(forms.Form):
    recipient = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    message = forms.CharField(
        label="Message (optional)",
        required=False,
        max_length=MESSAGE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Say why you would like to connect and what you hope to learn or share.",
    )


class DeclineForm(forms.Form):
    note = forms.CharField(
        label="Note to them (optional)",
        required=False,
        max_length=MESSAGE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class BlockForm(forms.Form):
    reason = forms.CharField(
        label="Why (optional; never shown to them)",
        required=False,
        max_length=MESSAGE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class ReportForm(forms.Form):
    text = forms.CharField(
        label="What happened",
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 5}),
    )


class SelfMatchSettingsForm(forms.Form):
    request_expiry_days = forms.IntegerField(
        label="Days a request waits for an answer", min_value=1, max_value=60
    )
    max_pending_incoming = forms.IntegerField(
        label="Most unanswered requests one person can receive at a time",
        min_value=1,
        max_value=20,
        help_text="Past it, they are not recommended to others until they answer some.",
    )
    max_pending_outgoing = forms.IntegerField(
        label="Most requests one person can have waiting at a time", min_value=1, max_value=20
    )
