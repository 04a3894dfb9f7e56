from django.apps import AppConfig


class InsightsConfig(AppConfig):
    name = "peermentor.insights"
    label = "insights"
    verbose_name = "Insights"
