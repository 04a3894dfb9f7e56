"""Fetch helpers shared by the engagement pages: each returns the object with what the
permission checks need, or raises Http404 for anyone who is not a member (administrators and
program managers included: workspaces are the members' own)."""

from typing import Any

from django.db.models import Prefetch
from django.http import Http404

from peermentor.accounts.models import User
from peermentor.connections.models import Connection, ConnectionMember
from peermentor.engagement.models import CircleResource, CircleSession, Meeting, Note, PlanItem
from peermentor.engagement.permissions import workspace_member


def members_prefetch() -> Prefetch:
    return Prefetch(
        "members",
        queryset=ConnectionMember.objects.select_related(
            "participant__person__user",
            "participant__person__department",
            "participant__person__site",
        ).order_by("role", "id"),
    )


def _connection(pk: Any) -> Connection:
    try:
        return (
            Connection.objects.select_related("program", "track")
            .prefetch_related(members_prefetch())
            .get(pk=pk)
        )
    except (Connection.DoesNotExist, ValueError, TypeError):
        raise Http404("No such workspace.") from None


def get_workspace_connection(*, viewer: User, pk: Any) -> tuple[Connection, ConnectionMember]:
    """The connection `pk` and the viewer's membership, or Http404."""
    connection = _connection(pk)
    member = workspace_member(viewer, connection)
    if member is None:
        raise Http404("No such workspace.")
    return connection, member


def _owned(model: Any, pk: Any, *related: str) -> Any:
    try:
        return model.objects.select_related(*related).get(pk=pk)
    except (model.DoesNotExist, ValueError, TypeError):
        raise Http404("Not found.") from None


def get_meeting_for(*, viewer: User, pk: Any) -> tuple[Meeting, ConnectionMember]:
    meeting = _owned(Meeting, pk, "proposed_by")
    connection, member = get_workspace_connection(viewer=viewer, pk=meeting.connection_id)
    meeting.connection = connection
    return meeting, member


def get_plan_item_for(*, viewer: User, pk: Any) -> tuple[PlanItem, ConnectionMember]:
    item = _owned(PlanItem, pk, "plan")
    connection, member = get_workspace_connection(viewer=viewer, pk=item.plan.connection_id)
    item.plan.connection = connection
    return item, member


def get_note_for(*, viewer: User, pk: Any) -> tuple[Note, ConnectionMember]:
    """A note the viewer may read: their own, or a shared note of their connection."""
    note = _owned(Note, pk)
    connection, member = get_workspace_connection(viewer=viewer, pk=note.connection_id)
    if note.visibility != "shared" and note.author_id != member.participant_id:
        raise Http404("Not found.")
    note.connection = connection
    return note, member


def get_session_for(*, viewer: User, pk: Any) -> tuple[CircleSession, ConnectionMember]:
    session = _owned(CircleSession, pk)
    connection, member = get_workspace_connection(viewer=viewer, pk=session.connection_id)
    session.connection = connection
    return session, member


def get_resource_for(*, viewer: User, pk: Any) -> tuple[CircleResource, ConnectionMember]:
    resource = _owned(CircleResource, pk)
    connection, member = get_workspace_connection(viewer=viewer, pk=resource.connection_id)
    resource.connection = connection
    return resource, member
