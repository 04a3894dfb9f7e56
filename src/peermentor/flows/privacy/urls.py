"""Data-protection pages, mounted by flows/urls.py at the site root: the person's own export
beside Preferences, an admin's beside the directory entry, the rest under /privacy/."""

from django.urls import path

from peermentor.flows.views import privacy

urlpatterns = [
    path("accounts/preferences/data/", privacy.my_data, name="my_data"),
    path("accounts/preferences/data.<str:fmt>", privacy.my_data_download, name="my_data_download"),
    path("people/<int:pk>/data/", privacy.person_data, name="person_data"),
    path(
        "people/<int:pk>/data.<str:fmt>",
        privacy.person_data_download,
        name="person_data_download",
    ),
    path("people/<int:pk>/erase/", privacy.person_erase, name="person_erase"),
    path("privacy/retention/", privacy.retention_settings, name="retention_settings"),
    path("privacy/audit/", privacy.audit_log, name="audit_log"),
    path("privacy/audit/export.csv", privacy.audit_log_export, name="audit_log_export"),
]
