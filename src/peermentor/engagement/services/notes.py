"""Notes in a connection's workspace: private to their author or shared with the members.

Their audit rows carry no text and no program id: the program's history (read by its managers)
must not even list who wrote notes when.
"""

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction

from peermentor.accounts.models import User
from peermentor.connections.models import Connection
from peermentor.core.errors import ApplicationError, full_clean
from peermentor.core.services import audit_record
from peermentor.engagement.models import NOTE_MAX_LENGTH, Note, NoteVisibility
from peermentor.engagement.services._common import (
    clean_text,
    lock_connection,
    require_writer,
)


def _clean_visibility(visibility: Any) -> str:
    if visibility not in NoteVisibility.values:
        raise ApplicationError("Choose who can read the note.", field="visibility")
    return str(visibility)


def _audit(actor: User, action: str, note: Note) -> None:
    audit_record(
        actor=actor,
        action=action,
        target=note,
        data={"connection_id": note.connection_id, "visibility": note.visibility},
    )


@transaction.atomic
def note_create(*, actor: User, connection: Connection, body: str, visibility: str) -> Note:
    """Afterwards the note exists: readable by its author alone (private) or by every member
    of the connection (shared); never by administrators or program managers."""
    connection = lock_connection(connection)
    member = require_writer(actor, connection)
    note = Note(
        connection=connection,
        author_id=member.participant_id,
        visibility=_clean_visibility(visibility),
        body=clean_text(
            body, field="body", label="The note", max_length=NOTE_MAX_LENGTH, required=True
        ),
    )
    full_clean(note, exclude=["connection", "author"])
    note.save()
    _audit(actor, "note.created", note)
    return note


def _lock_own(actor: User, note: Note) -> tuple[Note, Connection]:
    try:
        locked = Note.objects.select_for_update(of=("self",)).get(pk=note.pk)
    except Note.DoesNotExist:
        raise ApplicationError("This note no longer exists.") from None
    connection = lock_connection(locked.connection_id)
    member = require_writer(actor, connection)
    if locked.author_id != member.participant_id:
        raise PermissionDenied("Only a note's author changes it.")
    return locked, connection


@transaction.atomic
def note_update(*, actor: User, note: Note, body: str, visibility: str) -> Note:
    """Afterwards the author's note has the new text and visibility."""
    note, _ = _lock_own(actor, note)
    note.body = clean_text(
        body, field="body", label="The note", max_length=NOTE_MAX_LENGTH, required=True
    )
    note.visibility = _clean_visibility(visibility)
    full_clean(note, exclude=["connection", "author"])
    note.save(update_fields=["body", "visibility", "updated_at"])
    _audit(actor, "note.updated", note)
    return note


@transaction.atomic
def note_delete(*, actor: User, note: Note) -> None:
    """Afterwards the author's note is gone."""
    note, _ = _lock_own(actor, note)
    _audit(actor, "note.deleted", note)
    note.delete()
