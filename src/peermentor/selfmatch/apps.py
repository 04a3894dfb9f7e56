from django.apps import AppConfig


class SelfmatchConfig(AppConfig):
    name = "peermentor.selfmatch"
    label = "selfmatch"
    verbose_name = "Self-match requests"
