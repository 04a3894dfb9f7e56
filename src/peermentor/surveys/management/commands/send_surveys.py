"""`manage.py send_surveys`: send the surveys that are due now, or hand that to the worker.

`manage.py run_periodic` schedules it with the other periodic jobs (docs/surveys.md); this
command runs it alone, by hand. Running it more often, twice, or on two machines at once is
harmless.
"""

from peermentor.core.commands import JobCommand
from peermentor.surveys.tasks import send_surveys_task


class Command(JobCommand):
    help = (
        "Invite participants to the open surveys that are due (on a date, at enrollment, or "
        "relative to a connection's start and end), notify them, and remind those who have "
        "not answered. Safe to repeat: nothing is sent twice."
    )
    task = send_surveys_task

    summary = "{invitations_created} invitations, {notified} people notified, {reminded} reminders."
