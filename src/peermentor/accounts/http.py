"""The request of a signed-in user, for views behind login_required and API endpoints behind
the API's authentication: its `user` is a User, never AnonymousUser."""

from django.http import HttpRequest

from peermentor.accounts.models import User


class AuthenticatedHttpRequest(HttpRequest):
    user: User
