from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "peermentor.demo"
    label = "demo"
    verbose_name = "Demo organisation"
