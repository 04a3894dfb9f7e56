from django.apps import AppConfig


class ProgramsConfig(AppConfig):
    name = "peermentor.programs"
    label = "programs"
    verbose_name = "Programs"
