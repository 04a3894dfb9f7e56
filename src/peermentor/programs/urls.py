from django.urls import path

from peermentor.programs import views

urlpatterns = [
    path("", views.program_list_view, name="program_list"),
    path("new/", views.program_create, name="program_create"),
    path("new/preview/", views.program_defaults_preview, name="program_defaults_preview"),
    path("<int:pk>/", views.program_detail_view, name="program_detail"),
    path("<int:pk>/edit/", views.program_edit, name="program_edit"),
    path("<int:pk>/history/", views.program_history_view, name="program_history"),
    path("<int:pk>/tracks/", views.program_tracks, name="program_tracks"),
    path(
        "<int:pk>/tracks/<int:track_pk>/edit/",
        views.program_track_edit,
        name="program_track_edit",
    ),
    path(
        "<int:pk>/tracks/<int:track_pk>/delete/",
        views.program_track_delete,
        name="program_track_delete",
    ),
    path("<int:pk>/managers/", views.program_managers, name="program_managers"),
    path(
        "<int:pk>/managers/remove/",
        views.program_manager_remove,
        name="program_manager_remove",
    ),
]
