"""Background work for engagement: adapters that take ids and call the work (meeting_notices)."""

from django_tasks import task

from peermentor.engagement.meeting_notices import (
    meeting_cancellations_send,
    meeting_invitation_send,
)


@task()
def send_meeting_invitation(meeting_id: int, sequence: int, method: str) -> int:
    """E-mail one version of a meeting's invitation (enqueued after the change commits)."""
    return meeting_invitation_send(meeting_id=meeting_id, sequence=sequence, method=method)


@task()
def send_meeting_cancellations(versions: list[list[int]]) -> int:
    """E-mail the cancellations of a batch of meetings, as [[meeting id, sequence], ...]
    (enqueued after the connections they belonged to ended)."""
    return meeting_cancellations_send(versions=versions)
