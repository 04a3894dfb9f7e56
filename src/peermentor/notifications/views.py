"""Pages: the notification centre, e-mail preferences, one-click unsubscribe, and a program's
reminder settings. Thin: parse, call one service or selector, render."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from peermentor.accounts.http import AuthenticatedHttpRequest
from peermentor.accounts.models import User
from peermentor.core.errors import ApplicationError
from peermentor.core.forms import handle_form
from peermentor.core.htmx import is_htmx, redirect_back
from peermentor.notifications import selectors, services
from peermentor.notifications.forms import NudgeSettingsForm, PreferencesForm
from peermentor.notifications.models import DigestFrequency, NotificationKind
from peermentor.notifications.tokens import user_for_unsubscribe_token
from peermentor.programs.permissions import get_program_for


@login_required
@require_GET
def notification_centre(request: AuthenticatedHttpRequest) -> HttpResponse:
    unread_only = request.GET.get("show") == "unread"
    centre = selectors.notification_centre(
        viewer=request.user, page_number=request.GET.get("page"), unread_only=unread_only
    )
    return render(request, "notifications/centre.html", {"centre": centre})


@require_GET
def notification_badge(request: HttpRequest) -> HttpResponse:
    """The header link's unread count, fetched by htmx after the page loads so that no page
    pays a query for it while rendering. Signed out (a session that expired in an open tab):
    204, which htmx leaves alone, rather than a redirect whose login page it would swap in."""
    if not request.user.is_authenticated:
        return HttpResponse(status=204)
    count = selectors.unread_count(viewer=request.user)
    return render(request, "notifications/_badge.html", {"unread": count})


@login_required
@require_POST
def notification_read(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    notification = selectors.get_notification_for(viewer=request.user, pk=pk)
    services.notification_mark_read(actor=request.user, notification=notification)
    if is_htmx(request):
        return render(request, "notifications/_notification.html", {"item": notification})
    return redirect_back(request, reverse("notification_centre"))


@login_required
@require_POST
def notification_open(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Mark it read and go where it leads."""
    notification = selectors.get_notification_for(viewer=request.user, pk=pk)
    services.notification_mark_read(actor=request.user, notification=notification)
    target = notification.url
    if not (target and url_has_allowed_host_and_scheme(target, allowed_hosts=None)):
        target = reverse("notification_centre")
    return redirect(target)


@login_required
@require_POST
def notifications_read_all(request: AuthenticatedHttpRequest) -> HttpResponse:
    changed = services.notifications_mark_all_read(actor=request.user)
    messages.success(request, "All caught up." if changed else "Nothing was unread.")
    return redirect_back(request, reverse("notification_centre"))


@login_required
@require_http_methods(["GET", "POST"])
def notification_preferences(request: AuthenticatedHttpRequest) -> HttpResponse:
    preference = services.preference_for(request.user)
    initial = {
        "digest_frequency": preference.digest_frequency,
        "email_kinds": [
            k for k in NotificationKind.values if k not in preference.email_muted_kinds
        ],
    }
    form = PreferencesForm(request.POST or None, initial=initial)
    done = handle_form(
        request,
        form,
        lambda data: services.notification_preference_update(
            actor=request.user,
            digest_frequency=data["digest_frequency"],
            email_kinds=data["email_kinds"],
        ),
        success="Your notification preferences are saved.",
        next_url=reverse("notification_preferences"),
    )
    return done or render(
        request,
        "notifications/preferences.html",
        {"form": form, "preference": preference, "is_off": preference.digest_frequency == "off"},
    )


# A mail client's one-click unsubscribe (RFC 8058) POSTs without cookies or a CSRF token; the
# signed token in the address is what authorises it, and all it can do is stop e-mail.
@csrf_exempt
@require_http_methods(["GET", "POST"])
def notifications_unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    if request.method == "GET":
        user = user_for_unsubscribe_token(token)
        if user is None:
            return render(request, "notifications/unsubscribe_invalid.html", status=404)
        return render(
            request,
            "notifications/unsubscribe.html",
            {"email": user.email, "is_off": _is_off(user)},
        )
    try:
        user = services.email_unsubscribe(token=token)
    except ApplicationError:
        return render(request, "notifications/unsubscribe_invalid.html", status=404)
    return render(request, "notifications/unsubscribed.html", {"email": user.email})


def _is_off(user: User) -> bool:
    return services.preference_for(user).digest_frequency == DigestFrequency.OFF


@login_required
@require_http_methods(["GET", "POST"])
def nudge_settings(request: AuthenticatedHttpRequest, program_pk: int) -> HttpResponse:
    program = get_program_for(request.user, program_pk, write=True)
    current = services.nudge_settings_for(program)
    initial = {
        "stalled_after_days": current.stalled_after_days,
        "ending_soon_days": current.ending_soon_days,
        "waiting_after_days": current.waiting_after_days,
    }
    form = NudgeSettingsForm(request.POST or None, initial=initial)
    done = handle_form(
        request,
        form,
        lambda data: services.nudge_settings_update(actor=request.user, program=program, **data),
        success="Reminder settings saved.",
        next_url=reverse("nudge_settings", kwargs={"program_pk": program.pk}),
    )
    return done or render(
        request, "notifications/nudge_settings.html", {"form": form, "program": program}
    )
