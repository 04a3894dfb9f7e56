from django.apps import AppConfig


class MatchesConfig(AppConfig):
    name = "peermentor.matches"
    label = "matches"
    verbose_name = "Match runs"
