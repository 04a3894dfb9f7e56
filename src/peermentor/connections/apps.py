from django.apps import AppConfig


class ConnectionsConfig(AppConfig):
    name = "peermentor.connections"
    label = "connections"
    verbose_name = "Connections"
