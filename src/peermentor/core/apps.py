from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "peermentor.core"
    label = "core"
    verbose_name = "Core"
