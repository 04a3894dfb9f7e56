"""Withdrawing from a program: the participation ends and so do its connections, partners are
told (flows.leavers). Same address and name as the other participation pages."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render

from peermentor.accounts.http import AuthenticatedHttpRequest
from peermentor.core.errors import ApplicationError
from peermentor.enrollment import selectors as enrollment_selectors
from peermentor.enrollment.forms import WithdrawForm
from peermentor.enrollment.permissions import can_withdraw_participant, is_own_participation
from peermentor.enrollment.views import _posted
from peermentor.flows import leavers


@login_required
def participation_withdraw(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    participant = enrollment_selectors.participation_for(viewer=request.user, pk=pk)
    if not can_withdraw_participant(request.user, participant):
        raise PermissionDenied("You cannot withdraw this participant.")
    form = WithdrawForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            leavers.participation_withdraw(
                actor=request.user, participant=participant, reason=form.cleaned_data["reason"]
            )
        except ApplicationError as error:
            form.add_application_error(error)
        else:
            messages.success(request, f"Withdrawn from {participant.program.name}.")
            return redirect("participation_detail", participant.pk)
    return render(
        request,
        "enrollment/participation_withdraw.html",
        {
            "participant": participant,
            "form": form,
            "is_own": is_own_participation(request.user, participant),
        },
    )
