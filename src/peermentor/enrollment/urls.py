from django.urls import path

from peermentor.enrollment import views

urlpatterns = [
    path("invitations/<str:token>/", views.invitation_accept, name="invitation_accept"),
    path("programs/<int:pk>/enroll/", views.program_enroll, name="program_enroll"),
    path("programs/<int:pk>/participants/", views.participant_list, name="participant_list"),
    path("programs/<int:pk>/invite/", views.program_invite, name="program_invite"),
    path("invitations/<int:pk>/resend/", views.invitation_resend, name="invitation_resend"),
    path("participations/<int:pk>/", views.participation_detail, name="participation_detail"),
    path(
        "participations/<int:pk>/profile/",
        views.participation_profile,
        name="participation_profile",
    ),
    path(
        "participations/<int:pk>/training/<int:module_pk>/",
        views.participation_training,
        name="participation_training",
    ),
    path(
        "participations/<int:pk>/decide/",
        views.participation_decide,
        name="participation_decide",
    ),
]
