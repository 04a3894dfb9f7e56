from django.apps import AppConfig


class FlowsConfig(AppConfig):
    name = "peermentor.flows"
    label = "flows"
    verbose_name = "Cross-app flows"
