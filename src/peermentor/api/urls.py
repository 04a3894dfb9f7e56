from django.urls import path

from peermentor.api import views
from peermentor.api.main import api

urlpatterns = [
    path("v1/", api.urls),
    path("tokens/", views.token_list, name="api_token_list"),
    path("tokens/<int:pk>/revoke/", views.token_revoke, name="api_token_revoke"),
]
