"""Background work for engagement: adapters that take ids and call a service."""

from django_tasks import task


@task()
def send_meeting_invitation(meeting_id: int, sequence: int, method: str) -> int:
    """E-mail one version of a meeting's invitation (enqueued after the change commits)."""
    # Imported here: the services enqueue this task, so a top-level import would be circular.
    from peermentor.engagement.services.meetings import meeting_invitation_send

    return meeting_invitation_send(meeting_id=meeting_id, sequence=sequence, method=method)


@task()
def send_meeting_cancellations(versions: list[list[int]]) -> int:
    """E-mail the cancellations of a batch of meetings, as [[meeting id, sequence], ...]
    (enqueued after the connections they belonged to ended)."""
    from peermentor.engagement.services.meetings import meeting_cancellations_send

    return meeting_cancellations_send(versions=versions)
