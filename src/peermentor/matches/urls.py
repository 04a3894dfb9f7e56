from django.urls import path

from peermentor.matches import views

urlpatterns = [
    path("programs/<int:pk>/settings/", views.settings_page, name="match_settings"),
    path("programs/<int:pk>/runs/", views.run_list, name="match_run_list"),
    path("runs/<int:pk>/", views.run_detail, name="match_run_detail"),
    path("runs/<int:pk>/status/", views.run_status, name="match_run_status"),
    path("runs/<int:pk>/cancel/", views.run_cancel, name="match_run_cancel"),
    path("runs/<int:pk>/rerun/", views.run_rerun, name="match_run_rerun"),
    path("runs/<int:pk>/unmatched/", views.run_unmatched, name="match_run_unmatched"),
    path("runs/<int:pk>/manual/", views.manual_pair, name="match_manual_pair"),
    path("runs/<int:pk>/manual/check/", views.manual_pair_check, name="match_manual_pair_check"),
    path("runs/<int:pk>/manual/search/", views.manual_pair_search, name="match_manual_pair_search"),
    path("proposals/<int:pk>/lock/", views.proposal_lock, name="match_proposal_lock"),
    path("proposals/<int:pk>/exclude/", views.proposal_exclude, name="match_proposal_exclude"),
]
