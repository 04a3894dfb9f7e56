from django.apps import AppConfig


class EngagementConfig(AppConfig):
    name = "peermentor.engagement"
    label = "engagement"
    verbose_name = "Engagement"
