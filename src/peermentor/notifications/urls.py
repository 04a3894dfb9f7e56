from django.urls import path

from peermentor.notifications import views

urlpatterns = [
    path("", views.notification_centre, name="notification_centre"),
    path("badge/", views.notification_badge, name="notification_badge"),
    path("<int:pk>/read/", views.notification_read, name="notification_read"),
    path("<int:pk>/open/", views.notification_open, name="notification_open"),
    path("read-all/", views.notifications_read_all, name="notifications_read_all"),
    path("preferences/", views.notification_preferences, name="notification_preferences"),
    path(
        "unsubscribe/<str:token>/",
        views.notifications_unsubscribe,
        name="notifications_unsubscribe",
    ),
    path("programs/<int:program_pk>/reminders/", views.nudge_settings, name="nudge_settings"),
]
