from django.urls import path

from peermentor.core import views

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
]
