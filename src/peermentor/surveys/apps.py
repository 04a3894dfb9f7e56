from django.apps import AppConfig


class SurveysConfig(AppConfig):
    name = "peermentor.surveys"
    label = "surveys"
    verbose_name = "Surveys"
