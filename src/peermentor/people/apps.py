from django.apps import AppConfig


class PeopleConfig(AppConfig):
    name = "peermentor.people"
    label = "people"
    verbose_name = "People"
