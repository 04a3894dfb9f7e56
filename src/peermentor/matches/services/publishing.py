"""Publishing a run: its proposals become active connections (with their plans), then the run is
marked published and its members are told. flows.publish composes these with what publishing
changes in other apps (self-match requests it made impossible)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from peermentor.accounts.models import User
from peermentor.connections.services import ProposalSpec, ProposalsRefused, connections_propose_many
from peermentor.core.errors import ApplicationError
from peermentor.core.services import audit_record
from peermentor.engagement import services as engagement
from peermentor.enrollment.models import Participant
from peermentor.matches.checks import (
    CONNECTION_KIND_BY_FORMAT,
    NOTIFY_BATCH_SIZE,
    _lock_run,
    _require_manager,
    _require_reviewable,
)
from peermentor.matches.models import (
    MatchRun,
    ProposalMember,
)
from peermentor.matches.tasks import match_notify_task


@dataclass(frozen=True)
class Placed:
    """What match_run_place started: the connections and the participants now in them."""

    connection_ids: list[int]
    participant_ids: set[int]


@transaction.atomic
def match_run_place(*, actor: User, run: MatchRun) -> Placed:
    """Afterwards every proposal of the run that is not excluded is an active connection with
    its plan. All or nothing: if any proposal can no longer be placed, nothing is. The run is
    not yet marked published: flows.publish does that with what else publishing changes."""
    run = _lock_run(run)
    program = run.program
    _require_manager(actor, program)
    _require_reviewable(run)
    specs = _proposal_specs(run)
    try:
        connections = connections_propose_many(
            actor=actor,
            program=program,
            proposals=specs,
            source="match_run",
            match_run_id=run.pk,
            allow_repeat=bool(run.parameters.get("allow_repeat_pairs")),
        )
    except ProposalsRefused as refused:
        raise _refusal(specs, refused) from None
    engagement.connections_activate_many(actor=actor, program=program, match_run_id=run.pk)
    return Placed(
        connection_ids=[connection.pk for connection in connections],
        participant_ids={participant.pk for spec in specs for participant, _ in spec.members},
    )


def _proposal_specs(run: MatchRun) -> list[ProposalSpec]:
    # Plain rows, not model objects: publishing thousands must stay quick, and connections
    # re-reads (and locks) every participant itself.
    proposals = list(
        run.proposals.filter(is_excluded=False).order_by("id").values_list("id", "score", "reasons")
    )
    if not proposals:
        raise ApplicationError("Nothing to publish: every proposal is excluded.")
    members: dict[int, list[tuple[Participant, str]]] = defaultdict(list)
    for proposal_id, participant_id, role in (
        ProposalMember.objects.filter(run=run, proposal__is_excluded=False)
        .order_by("proposal_id", "id")
        .values_list("proposal_id", "participant_id", "role")
    ):
        members[proposal_id].append((Participant(pk=participant_id, role=role), role))
    kind = CONNECTION_KIND_BY_FORMAT[run.program.format]
    return [
        ProposalSpec(members=members[pk], kind=kind, score=score, reasons=reasons)
        for pk, score, reasons in proposals
    ]


def _refusal(specs: list[ProposalSpec], refused: ProposalsRefused) -> ApplicationError:
    index, problem = refused.problems[0]
    names = " and ".join(
        Participant.objects.filter(pk__in=[p.pk for p, _ in specs[index].members])
        .order_by("person__full_name")
        .values_list("person__full_name", flat=True)
    )
    more = len(refused.problems) - 1
    return ApplicationError(
        f"Nothing was published. {names}: {problem}"
        + (
            f" ({more} more proposal{'s' if more != 1 else ''} "
            f"{'have' if more != 1 else 'has'} problems.)"
            if more > 0
            else ""
        )
    )


@transaction.atomic
def match_run_mark_published(
    *, actor: User, run: MatchRun, placed: Placed, requests_withdrawn: int = 0
) -> int:
    """Afterwards the run is published with its history row, and (once committed) its members
    are told by e-mail. Returns how many connections it published."""
    run.published_at = timezone.now()
    run.published_by = actor
    run.save(update_fields=["published_at", "published_by"])
    audit_record(
        actor=actor,
        action="match_run.published",
        target=run,
        program_id=run.program_id,
        to_state="published",
        data={
            "connections": len(placed.connection_ids),
            "requests_withdrawn": requests_withdrawn,
        },
    )
    run_id = run.pk
    transaction.on_commit(lambda: enqueue_match_notifications(run_id))
    return len(placed.connection_ids)


def enqueue_match_notifications(run_id: int) -> int:
    """One e-mail task per NOTIFY_BATCH_SIZE members of the run's published proposals."""
    member_ids = list(
        ProposalMember.objects.filter(
            run_id=run_id, proposal__is_excluded=False, notified_at__isnull=True
        )
        .order_by("id")
        .values_list("id", flat=True)
    )
    batches = 0
    for start in range(0, len(member_ids), NOTIFY_BATCH_SIZE):
        match_notify_task.enqueue(
            run_id=run_id, member_ids=member_ids[start : start + NOTIFY_BATCH_SIZE]
        )
        batches += 1
    return batches
