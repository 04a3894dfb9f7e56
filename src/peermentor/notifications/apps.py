from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "peermentor.notifications"
    label = "notifications"
    verbose_name = "Notifications"
