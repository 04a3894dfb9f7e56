from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "peermentor.api"
    label = "api"
    verbose_name = "REST API"
