from django.urls import path

from peermentor.helpnetwork import views

urlpatterns = [
    path("", views.help_home, name="help_home"),
    path("programs/<int:program_pk>/ask/", views.help_ask_create, name="help_ask_create"),
    path("programs/<int:program_pk>/asks/", views.help_asks, name="help_asks"),
    path("asks/<int:pk>/", views.help_ask_detail, name="help_ask_detail"),
    path("asks/<int:pk>/offer/", views.help_offer_create, name="help_offer_create"),
    path("asks/<int:pk>/invite/", views.help_ask_invite, name="help_ask_invite"),
    path("asks/<int:pk>/close/", views.help_ask_close, name="help_ask_close"),
    path("asks/<int:pk>/thank/", views.help_ask_thank, name="help_ask_thank"),
    path("asks/<int:pk>/ongoing/", views.help_ongoing_propose, name="help_ongoing_propose"),
    path("asks/<int:pk>/ongoing/answer/", views.help_ongoing_answer, name="help_ongoing_answer"),
    path("offers/<int:pk>/withdraw/", views.help_offer_withdraw, name="help_offer_withdraw"),
    path("offers/<int:pk>/accept/", views.help_offer_accept, name="help_offer_accept"),
]
