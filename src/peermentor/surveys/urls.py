from django.urls import path

from peermentor.surveys import views

urlpatterns = [
    # Participants
    path("", views.my_surveys, name="my_surveys"),
    path("invitations/<int:pk>/", views.survey_answer, name="survey_answer"),
    path("invitations/<int:pk>/answers/", views.survey_my_answers, name="survey_my_answers"),
    # Program managers
    path("programs/<int:program_pk>/", views.survey_list, name="survey_list"),
    path("programs/<int:program_pk>/new/", views.survey_create, name="survey_create"),
    path(
        "programs/<int:program_pk>/templates/",
        views.survey_add_template,
        name="survey_add_template",
    ),
    path("<int:pk>/", views.survey_builder, name="survey_builder"),
    path("<int:pk>/edit/", views.survey_edit, name="survey_edit"),
    path("<int:pk>/open/", views.survey_open, name="survey_open"),
    path("<int:pk>/close/", views.survey_close, name="survey_close"),
    path("<int:pk>/delete/", views.survey_delete, name="survey_delete"),
    path("<int:pk>/questions/new/", views.survey_question_add, name="survey_question_add"),
    path(
        "<int:pk>/questions/<int:question_pk>/",
        views.survey_question_edit,
        name="survey_question_edit",
    ),
    path(
        "<int:pk>/questions/<int:question_pk>/delete/",
        views.survey_question_delete,
        name="survey_question_delete",
    ),
    path(
        "<int:pk>/questions/<int:question_pk>/move/",
        views.survey_question_move,
        name="survey_question_move",
    ),
    path("<int:pk>/results/", views.survey_results, name="survey_results"),
    path("<int:pk>/responses/", views.survey_responses, name="survey_responses"),
]
