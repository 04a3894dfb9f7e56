from django.urls import path

from peermentor.selfmatch import views

urlpatterns = [
    path(
        "programs/<int:pk>/recommendations/",
        views.recommendations,
        name="match_recommendations",
    ),
    path("programs/<int:pk>/requests/new/", views.request_send, name="match_request_send"),
    path("programs/<int:pk>/requests/", views.program_requests, name="program_match_requests"),
    path(
        "programs/<int:pk>/requests/settings/",
        views.self_match_settings,
        name="self_match_settings",
    ),
    path("requests/", views.request_list, name="match_request_list"),
    path("requests/<int:pk>/", views.request_detail, name="match_request_detail"),
    path("requests/<int:pk>/accept/", views.request_accept, name="match_request_accept"),
    path("requests/<int:pk>/decline/", views.request_decline, name="match_request_decline"),
    path("requests/<int:pk>/withdraw/", views.request_withdraw, name="match_request_withdraw"),
    path("requests/<int:pk>/block/", views.request_block, name="match_request_block"),
    path("requests/<int:pk>/report/", views.request_report, name="match_request_report"),
]
