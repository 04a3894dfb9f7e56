from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from peermentor.accounts.models import User
from peermentor.api.models import ApiToken


def api_token_list(*, viewer: User) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user=viewer)


def api_token_get(*, viewer: User, pk: int) -> ApiToken:
    # Someone else's token is simply not found.
    return get_object_or_404(ApiToken, pk=pk, user=viewer)
