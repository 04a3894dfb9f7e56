"""Safety: blocking someone for good, and reporting a concern to the program team."""

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone

from peermentor.accounts.models import User
from peermentor.connections.models import (
    Block,
    Connection,
    ConnectionStatus,
    EndReason,
    Report,
    ReportStatus,
)
from peermentor.connections.permissions import can_review_report, member_for
from peermentor.connections.services._common import _end, _lock
from peermentor.core.errors import ApplicationError, full_clean
from peermentor.core.services import audit_record
from peermentor.people.models import Person


def _actor_person(actor: User) -> Person:
    person = getattr(actor, "person", None) if getattr(actor, "is_authenticated", False) else None
    if person is None:
        raise PermissionDenied("Only people in the directory can do this.")
    return person


def _members_pair(actor: User, connection: Connection | None, other: Person) -> Connection | None:
    """Check that both people are members of `connection` (when given) and return it locked."""
    if connection is None:
        return None
    connection = _lock(connection)
    if member_for(actor, connection) is None:
        raise PermissionDenied("You are not a member of this connection.")
    if not any(m.participant.person_id == other.pk for m in connection.members.all()):
        raise ApplicationError("Choose one of the people in this connection.", field="person")
    return connection


@transaction.atomic
def block_person(
    *, actor: User, blocked: Person, reason: str = "", connection: Connection | None = None
) -> Block:
    """Afterwards `blocked` is never proposed to the actor again, in any program. Blocking
    from a current one-to-one connection also ends it (a proposal is cancelled, an active
    connection closed early as not a good fit). Blocking twice keeps the first block."""
    person = _actor_person(actor)
    if blocked.pk == person.pk:
        raise ApplicationError("You cannot block yourself.", field="person")
    connection = _members_pair(actor, connection, blocked)
    block = Block.objects.filter(blocker=person, blocked=blocked).first()
    if block is None:
        block = Block(
            blocker=person,
            blocked=blocked,
            program_id=connection.program_id if connection else None,
            reason=reason.strip(),
        )
        full_clean(block, exclude=["blocker", "blocked", "program"], validate_constraints=False)
        try:
            with transaction.atomic():
                block.save()
        except IntegrityError:
            block = Block.objects.get(blocker=person, blocked=blocked)
        else:
            audit_record(
                actor=actor,
                action="block.created",
                target=block,
                program_id=block.program_id,
                data={"connection_id": connection.pk if connection else None},
            )
    if connection is not None and connection.is_current and len(connection.members.all()) == 2:
        if connection.status == ConnectionStatus.PROPOSED:
            _end(
                actor=actor,
                connection=connection,
                to_state=ConnectionStatus.CANCELLED,
                action="connection.cancelled",
            )
        else:
            _end(
                actor=actor,
                connection=connection,
                to_state=ConnectionStatus.CLOSED_EARLY,
                action="connection.closed_early",
                reason_code=EndReason.NOT_A_GOOD_FIT,
            )
    return block


@transaction.atomic
def report_person(
    *, actor: User, reported: Person, text: str, connection: Connection | None = None
) -> Report:
    """Afterwards an open safety report about `reported` waits for the organisation admins
    and, when made from a connection, that program's managers."""
    person = _actor_person(actor)
    if reported.pk == person.pk:
        raise ApplicationError("You cannot report yourself.", field="person")
    connection = _members_pair(actor, connection, reported)
    report = Report(
        reporter=person,
        reported=reported,
        connection=connection,
        program_id=connection.program_id if connection else None,
        text=text.strip(),
    )
    full_clean(
        report,
        exclude=["reporter", "reported", "connection", "program", "reviewed_by"],
        validate_constraints=False,
    )
    report.save()
    audit_record(
        actor=actor,
        action="report.created",
        target=report,
        program_id=report.program_id,
        to_state=ReportStatus.OPEN,
    )
    return report


@transaction.atomic
def report_review(*, actor: User, report: Report, note: str = "") -> Report:
    """Afterwards the report is marked reviewed, by whom and when, with the reviewer's note."""
    report = (
        Report.objects.select_for_update(of=("self",)).select_related("program").get(pk=report.pk)
    )
    if not can_review_report(actor, report):
        raise PermissionDenied("Only organisation admins and the program's managers review it.")
    if report.status != ReportStatus.OPEN:
        raise ApplicationError("This report has already been reviewed.")
    report.status = ReportStatus.REVIEWED
    report.reviewed_by = actor
    report.reviewed_at = timezone.now()
    report.review_note = note.strip()
    full_clean(report, exclude=["reporter", "reported", "connection", "program", "reviewed_by"])
    report.save(update_fields=["status", "reviewed_by", "reviewed_at", "review_note"])
    audit_record(
        actor=actor,
        action="report.reviewed",
        target=report,
        program_id=report.program_id,
        from_state=ReportStatus.OPEN,
        to_state=ReportStatus.REVIEWED,
    )
    return report
