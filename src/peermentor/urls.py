from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.urls import include, path

from peermentor.accounts.urls import allauth_urlpatterns

# One sign-in page: the Django admin's own login form would skip the second factor and
# SSO-only mode, so it sends visitors to /accounts/login/ (and staff back to the admin after).
admin.site.login = secure_admin_login(admin.site.login)  # type: ignore[method-assign]

urlpatterns = [
    path("", include("peermentor.core.urls")),
    path("", include("peermentor.flows.urls")),
    path("accounts/", include("peermentor.accounts.urls")),
    path("accounts/", include(allauth_urlpatterns)),
    path("people/", include("peermentor.people.urls")),
    path("programs/", include("peermentor.programs.urls")),
    path("enrollment/", include("peermentor.enrollment.urls")),
    path("matches/", include("peermentor.matches.urls")),
    # Self-match kept the /matches/ addresses it had when it was part of matches.
    path("matches/", include("peermentor.selfmatch.urls")),
    path("connections/", include("peermentor.connections.urls")),
    path("engagement/", include("peermentor.engagement.urls")),
    path("help/", include("peermentor.helpnetwork.urls")),
    path("notifications/", include("peermentor.notifications.urls")),
    path("insights/", include("peermentor.insights.urls")),
    path("surveys/", include("peermentor.surveys.urls")),
    path("api/", include("peermentor.api.urls")),
    path("django-admin/", admin.site.urls),
]
