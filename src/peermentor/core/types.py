"""Types shared by every app. core sits below accounts in the app stack, so it names the user
model by the base class of AUTH_USER_MODEL; the apps above it use peermentor.accounts.models.User
and peermentor.accounts.http.AuthenticatedHttpRequest."""

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser

# Who made a change: a signed-in user, an anonymous visitor, or None for the system itself.
AnyActor = AbstractBaseUser | AnonymousUser | None
