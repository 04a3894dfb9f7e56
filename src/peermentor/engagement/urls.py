from django.urls import path

from peermentor.engagement.views import calendar, circles, manage, workspace

urlpatterns = [
    # The workspace of a connection (members only).
    path("connections/<int:pk>/", workspace.workspace, name="workspace"),
    path("connections/<int:pk>/meetings/new/", workspace.meeting_propose, name="meeting_propose"),
    path("connections/<int:pk>/plan/new/", workspace.plan_item_add, name="plan_item_add"),
    path(
        "connections/<int:pk>/assignments/new/",
        workspace.assignment_create,
        name="assignment_create",
    ),
    path("connections/<int:pk>/notes/new/", workspace.note_create, name="note_create"),
    path("connections/<int:pk>/check-in/", workspace.check_in, name="check_in"),
    path("meetings/<int:pk>/accept/", workspace.meeting_accept, name="meeting_accept"),
    path("meetings/<int:pk>/decline/", workspace.meeting_decline, name="meeting_decline"),
    path("meetings/<int:pk>/reschedule/", workspace.meeting_reschedule, name="meeting_reschedule"),
    path("meetings/<int:pk>/cancel/", workspace.meeting_cancel, name="meeting_cancel"),
    path("meetings/<int:pk>/outcome/", workspace.meeting_outcome, name="meeting_outcome"),
    path("meetings/<int:pk>/invite.ics", workspace.meeting_invite, name="meeting_invite"),
    path("plan-items/<int:pk>/edit/", workspace.plan_item_edit, name="plan_item_edit"),
    path("plan-items/<int:pk>/done/", workspace.plan_item_done, name="plan_item_done"),
    path("plan-items/<int:pk>/move/", workspace.plan_item_move, name="plan_item_move"),
    path("plan-items/<int:pk>/remove/", workspace.plan_item_remove, name="plan_item_remove"),
    path("plan-items/<int:pk>/reflect/", workspace.assignment_reflect, name="assignment_reflect"),
    path(
        "plan-items/<int:pk>/feedback/", workspace.assignment_feedback, name="assignment_feedback"
    ),
    path("notes/<int:pk>/edit/", workspace.note_edit, name="note_edit"),
    path("notes/<int:pk>/delete/", workspace.note_delete, name="note_delete"),
    # Calendar feed.
    path("calendar/", calendar.calendar_settings, name="calendar_settings"),
    path("calendar/<str:token>.ics", calendar.calendar_feed, name="calendar_feed"),
    # Circles.
    path("circles/<int:pk>/", circles.circle_detail, name="circle_detail"),
    path(
        "circles/<int:pk>/sessions/new/",
        circles.circle_session_create,
        name="circle_session_create",
    ),
    path("circles/<int:pk>/posts/new/", circles.circle_post_create, name="circle_post_create"),
    path(
        "circles/<int:pk>/resources/new/", circles.circle_resource_add, name="circle_resource_add"
    ),
    path("circles/<int:pk>/join/", circles.circle_join, name="circle_join"),
    path("circles/<int:pk>/leave/", circles.circle_leave, name="circle_leave"),
    path("circles/<int:pk>/openness/", circles.circle_set_open, name="circle_set_open"),
    path("sessions/<int:pk>/rsvp/", circles.session_rsvp, name="session_rsvp"),
    path("sessions/<int:pk>/cancel/", circles.session_cancel, name="session_cancel"),
    path("sessions/<int:pk>/invite.ics", circles.session_invite, name="session_invite"),
    path("resources/<int:pk>/remove/", circles.resource_remove, name="resource_remove"),
    path("programs/<int:program_pk>/circles/", circles.open_circles, name="open_circles"),
    # Program managers.
    path("programs/<int:program_pk>/plans/", manage.plan_templates, name="plan_templates"),
    path(
        "programs/<int:program_pk>/plans/defaults/",
        manage.plan_templates_defaults,
        name="plan_templates_defaults",
    ),
    path(
        "programs/<int:program_pk>/plans/<int:template_pk>/items/new/",
        manage.plan_template_item_add,
        name="plan_template_item_add",
    ),
    path(
        "plan-template-items/<int:pk>/remove/",
        manage.plan_template_item_remove,
        name="plan_template_item_remove",
    ),
    path(
        "programs/<int:program_pk>/check-ins/",
        manage.check_in_settings,
        name="check_in_settings",
    ),
]
