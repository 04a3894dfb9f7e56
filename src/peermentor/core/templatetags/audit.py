"""How the audit trail's event keys read on History pages ("program.status_changed" is the key
code and exports use; people read "Program status changed")."""

from django import template

register = template.Library()

# Keys whose words would read oddly when spelled out from the key itself.
LABELS = {
    "api_token.create": "API token created",
    "api_token.revoke": "API token revoked",
    "invitations.sent": "Invitations sent",
    "match_proposal.created_manually": "Proposal made by hand",
    "match_run.queued": "Match run started",
    "match_run.succeeded": "Match run finished",
    "matching.settings_saved": "Matching settings saved",
    "people.import_applied": "HR import applied",
    "people.import_previewed": "HR import previewed",
    "plan_templates.copied": "Plan templates copied",
    "notifications.nudge_settings_updated": "Reminder settings updated",
    "notifications.preferences_updated": "Notification preferences updated",
    "notifications.unsubscribed": "Unsubscribed from e-mails",
}


@register.filter
def event_label(action: str) -> str:
    """`program.status_changed` → "Program status changed"."""
    if action in LABELS:
        return LABELS[action]
    subject, _, verb = str(action).partition(".")
    words = " ".join(part for part in (subject, verb) if part).replace("_", " ").strip()
    return words[:1].upper() + words[1:]
