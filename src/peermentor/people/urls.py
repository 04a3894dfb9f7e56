from django.urls import path

from peermentor.people import views

urlpatterns = [
    path("", views.person_list, name="person_list"),
    path("<int:pk>/", views.person_detail, name="person_detail"),
    path("import/", views.people_import, name="people_import"),
    path("import/template.csv", views.import_template, name="people_import_template"),
    path("import/<int:batch_pk>/", views.import_preview, name="people_import_preview"),
    path("import/<int:batch_pk>/problems.csv", views.import_errors, name="people_import_errors"),
]
