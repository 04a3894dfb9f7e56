from django.urls import path, register_converter

from peermentor.insights import views


class TableNameConverter:
    regex = "[a-z_]+"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(TableNameConverter, "table")

urlpatterns = [
    path("", views.organisation_dashboard, name="insights_organisation"),
    path("programs/<int:pk>/", views.program_dashboard, name="insights_program"),
    path("programs/<int:pk>/outcomes/", views.program_outcomes, name="insights_outcomes"),
    path("programs/<int:pk>/ties/", views.program_ties, name="insights_ties"),
    path("programs/<int:pk>/report/", views.program_report, name="insights_report"),
    path("programs/<int:pk>/report.pdf", views.program_report_pdf, name="insights_report_pdf"),
    path(
        "programs/<int:pk>/export/<table:table>.<str:file_format>",
        views.program_export,
        name="insights_export",
    ),
]
