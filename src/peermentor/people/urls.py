from django.urls import path

from peermentor.people import views

urlpatterns = [path("", views.person_list, name="person_list")]
