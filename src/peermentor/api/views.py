from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from peermentor.accounts.http import AuthenticatedHttpRequest
from peermentor.api.forms import TokenForm
from peermentor.api.selectors import api_token_get, api_token_list
from peermentor.api.services import api_token_create, api_token_revoke
from peermentor.core.errors import ApplicationError


@login_required
def token_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = TokenForm(request.POST or None)
    new_key = None
    if request.method == "POST" and form.is_valid():
        try:
            _token, new_key = api_token_create(actor=request.user, name=form.cleaned_data["name"])
        except ApplicationError as error:
            form.add_error(error.field, error.message)
        else:
            form = TokenForm()
    context = {"form": form, "tokens": api_token_list(viewer=request.user), "new_key": new_key}
    return render(request, "api/token_list.html", context)


@login_required
@require_POST
def token_revoke(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    api_token_revoke(actor=request.user, token=api_token_get(viewer=request.user, pk=pk))
    messages.success(request, "Token revoked.")
    return redirect("api_token_list")
