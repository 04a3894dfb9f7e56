"""Background work for enrollment: adapters that take ids and call a service."""

from django_tasks import task

from peermentor.enrollment.invitation_emails import invitation_emails_send


@task()
def send_invitation_emails(invitation_ids: list[int]) -> int:
    """E-mail one batch of invitations (enqueued after the inviting transaction commits)."""
    return invitation_emails_send(invitation_ids=invitation_ids)
