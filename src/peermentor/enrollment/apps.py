from django.apps import AppConfig


class EnrollmentConfig(AppConfig):
    name = "peermentor.enrollment"
    label = "enrollment"
    verbose_name = "Enrollment"
