"""Background work for enrollment: adapters that take ids and call a service."""

from django_tasks import task


@task()
def send_invitation_emails(invitation_ids: list[int]) -> int:
    """E-mail one batch of invitations (enqueued after the inviting transaction commits)."""
    # Imported here: services enqueues this task, so a top-level import would be circular.
    from peermentor.enrollment.services import invitation_emails_send

    return invitation_emails_send(invitation_ids=invitation_ids)
