from django.urls import path

from peermentor.programs import views

urlpatterns = [path("", views.program_list, name="program_list")]
