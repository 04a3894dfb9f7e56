"""Connections' part of a subject-access or erasure request (see core/privacy.py).

Not exported: blocks and safety reports others made about the person (telling them who
reported or blocked them would put those people at risk; docs/privacy.md says so).
"""

from typing import Any

from django.db import transaction
from django.db.models import Prefetch

from peermentor.connections.models import (
    CURRENT_STATUSES,
    Block,
    Connection,
    ConnectionMember,
    Reflection,
    Report,
)
from peermentor.core.privacy import ERASED_TEXT, record, records, withheld
from peermentor.people.models import Person

CONNECTION_FIELDS = (
    "id",
    "program",
    "kind",
    "status",
    "source",
    "reasons",
    "created_at",
    "started_at",
    "planned_end_on",
    "ended_at",
    "end_reason",
    "end_reason_text",
)


def personal_data(*, person: Person, include_private: bool) -> dict[str, Any]:
    """The connections `person` was a member of (with their partners' names: that they met is
    the person's data too), their reflections, the blocks and safety reports they made. Without
    `include_private` (an administrator exporting) the reflections' words are withheld, as on
    every admin page. Five queries."""
    memberships = (
        ConnectionMember.objects.filter(participant__person=person)
        .select_related("connection__program")
        .prefetch_related(
            Prefetch(
                "connection__members",
                queryset=ConnectionMember.objects.select_related("participant__person"),
            )
        )
        .order_by("connection__created_at", "connection_id")
    )
    connections = [
        record(
            membership.connection,
            CONNECTION_FIELDS,
            program_name=membership.connection.program.name,
            my_role=membership.get_role_display(),
            partners=[
                other.participant.person.full_name
                for other in membership.connection.members.all()
                if other.participant.person_id != person.pk
            ],
        )
        for membership in memberships
    ]
    reflections = Reflection.objects.filter(participant__person=person)
    blocks = Block.objects.filter(blocker=person).select_related("blocked")
    reports = Report.objects.filter(reporter=person).select_related("reported")
    return {
        "connections": connections,
        "reflections": (
            records(
                reflections,
                ("connection", "went_well", "learned", "rating", "may_quote", "created_at"),
            )
            if include_private
            else [withheld(reflections.count(), "reflections")]
        ),
        "blocks_made": [
            record(block, ("program", "reason", "created_at"), blocked=block.blocked.full_name)
            for block in blocks
        ],
        "safety_reports_made": [
            record(
                report,
                ("program", "connection", "text", "status", "created_at"),
                about=report.reported.full_name,
            )
            for report in reports
        ],
    }


def has_current_connections(*, person: Person) -> bool:
    return ConnectionMember.objects.filter(
        participant__person=person, is_current=True, connection__status__in=CURRENT_STATUSES
    ).exists()


def current_connections(*, person: Person) -> list[Connection]:
    return list(
        Connection.objects.filter(
            members__participant__person=person,
            members__is_current=True,
            status__in=CURRENT_STATUSES,
        )
        .select_related("program")
        .distinct()
    )


@transaction.atomic
def personal_data_erase(*, person: Person, name: str, replacement: str) -> None:
    """Afterwards the words `person` wrote in reflections, blocks and safety reports are gone
    (reflections may no longer be quoted), and their connections' explanations say
    `replacement` where they said `name` ("Ana offered to help with SQL"). The connections,
    their members, ratings and blocks stay, so partners still see whom they met and the
    program's figures add up as before."""
    if len(name.strip()) >= 5:  # a very short name would match inside other words
        connections = list(
            Connection.objects.filter(members__participant__person=person, reasons__contains=name)
        )
        for connection in connections:
            connection.reasons = connection.reasons.replace(name, replacement)
        Connection.objects.bulk_update(connections, ["reasons"])
    Reflection.objects.filter(participant__person=person).update(
        went_well=ERASED_TEXT, learned=ERASED_TEXT, may_quote=False
    )
    Block.objects.filter(blocker=person).update(reason="")
    Report.objects.filter(reporter=person).update(text=ERASED_TEXT)
