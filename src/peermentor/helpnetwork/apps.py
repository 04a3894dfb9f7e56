from django.apps import AppConfig


class HelpNetworkConfig(AppConfig):
    name = "peermentor.helpnetwork"
    label = "helpnetwork"
    verbose_name = "Help network"
