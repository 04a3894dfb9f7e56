"""Pages of the cross-app use cases, at the addresses and under the names of their app's pages
(the root urlconf includes this at the site root)."""

from django.urls import path

from peermentor.flows.privacy import urls as privacy_urls
from peermentor.flows.views import (
    connection_list,
    connections,
    enrollment,
    home,
    matches,
    programs,
)

urlpatterns = [
    path("", home.home, name="home"),
    # programs
    path("programs/<int:pk>/status/", programs.program_transition, name="program_transition"),
    path("programs/<int:pk>/close/", programs.program_close, name="program_close"),
    path(
        "programs/<int:pk>/tracks/<int:track_pk>/complete/",
        programs.track_connections_complete,
        name="program_track_complete",
    ),
    path("programs/<int:pk>/copy/", programs.program_copy, name="program_copy"),
    path("programs/<int:pk>/questions/", programs.program_questions, name="program_questions"),
    path(
        "programs/<int:pk>/questions/<int:question_pk>/edit/",
        programs.program_question_edit,
        name="program_question_edit",
    ),
    path(
        "programs/<int:pk>/questions/<int:question_pk>/delete/",
        programs.program_question_delete,
        name="program_question_delete",
    ),
    path(
        "programs/<int:pk>/questions/<int:question_pk>/move/",
        programs.program_question_move,
        name="program_question_move",
    ),
    path("programs/<int:pk>/training/", programs.program_training, name="program_training"),
    path(
        "programs/<int:pk>/training/<int:module_pk>/edit/",
        programs.program_training_edit,
        name="program_training_edit",
    ),
    path(
        "programs/<int:pk>/training/<int:module_pk>/delete/",
        programs.program_training_delete,
        name="program_training_delete",
    ),
    # enrollment
    path(
        "participations/<int:pk>/withdraw/",
        enrollment.participation_withdraw,
        name="participation_withdraw",
    ),
    # matches
    path("matches/runs/<int:pk>/publish/", matches.run_publish, name="match_run_publish"),
    # connections
    path(
        "connections/programs/<int:program_pk>/",
        connection_list.program_connections,
        name="program_connections",
    ),
    path(
        "connections/<int:pk>/complete/",
        connections.connection_complete,
        name="connection_complete",
    ),
    path("connections/<int:pk>/close/", connections.connection_close, name="connection_close"),
    path(
        "connections/<int:pk>/activate/",
        connections.connection_activate,
        name="connection_activate",
    ),
    path("connections/<int:pk>/cancel/", connections.connection_cancel, name="connection_cancel"),
    # data protection (flows/privacy/urls.py): the person's export, erasure, retention, audit log
    *privacy_urls.urlpatterns,
]
