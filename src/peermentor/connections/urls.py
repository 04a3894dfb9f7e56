from django.urls import path

from peermentor.connections import views

urlpatterns = [
    path("", views.my_connections, name="my_connections"),
    path("reports/", views.report_list, name="report_list"),
    path("reports/<int:pk>/review/", views.report_review, name="report_review"),
    path("<int:pk>/", views.connection_detail, name="connection_detail"),
    path("<int:pk>/history/", views.connection_history, name="connection_history"),
    path("<int:pk>/extend/", views.connection_extend, name="connection_extend"),
    path("<int:pk>/reflect/", views.connection_reflect, name="connection_reflect"),
    path("<int:pk>/block/", views.connection_block, name="connection_block"),
    path("<int:pk>/report/", views.connection_report, name="connection_report"),
]
