"""Starting, re-running and cancelling match runs (the engine runs in a task: execution.py)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Prefetch
from django.utils import timezone

from peermentor.accounts.models import User
from peermentor.core.errors import ApplicationError
from peermentor.core.services import audit_record
from peermentor.enrollment.models import ParticipantRole
from peermentor.matches.adapter import (
    BIPARTITE_SIDES,
    allows_repeats,
    ready_participants,
    stored_policy,
)
from peermentor.matches.checks import (
    _engine_policy_or_error,
    _require_manager,
    _require_matchable,
    _require_reviewable,
    _require_track_of,
)
from peermentor.matches.models import (
    ACTIVE_RUN_STATUSES,
    MatchRun,
    ProposalMember,
    RunStatus,
)
from peermentor.matches.tasks import match_run_task
from peermentor.programs.models import Program, Track


# --- starting, cancelling and re-running -----------------------------------------------------
def _carried_locks(
    parent: MatchRun,
) -> tuple[list[list[str]], list[list[str]], list[dict[str, Any]]]:
    """Fixed groups (locked proposals), forbidden pairs (excluded proposals plus the parent's
    own forbidden pairs) and what each locked proposal looked like, in engine ids."""
    fixed: list[list[str]] = []
    locked: list[dict[str, Any]] = []
    forbidden = {tuple(pair) for pair in parent.parameters.get("forbidden", [])}
    proposals = parent.proposals.filter(is_locked=True) | parent.proposals.filter(is_excluded=True)
    proposals = proposals.prefetch_related(
        Prefetch("members", queryset=ProposalMember.objects.select_related("participant"))
    )
    host_groups: dict[str, list[str]] = {}
    for proposal in proposals:
        members = [m for m in proposal.members.all() if m.role != ParticipantRole.FACILITATOR]
        ids = [str(m.participant.person_id) for m in members]
        if proposal.is_excluded:
            for index, first in enumerate(ids):
                for second in ids[index + 1 :]:
                    forbidden.add(tuple(sorted((first, second))))
            continue
        locked.append(
            {
                "ids": sorted(ids),
                "is_manual": proposal.is_manual,
                "warnings": proposal.warnings,
                "facilitators": [
                    m.participant_id
                    for m in proposal.members.all()
                    if m.role == ParticipantRole.FACILITATOR
                ],
            }
        )
        side_a = _side_a_id(parent.program, members)
        if side_a is not None:
            # A host's locked shadows form one fixed group with the host.
            group = host_groups.setdefault(side_a, [side_a])
            group.extend(i for i in ids if i != side_a)
        else:
            fixed.append(ids)
    fixed.extend(host_groups.values())
    return fixed, [list(pair) for pair in sorted(forbidden)], locked


def _side_a_id(program: Program, members: Iterable[ProposalMember]) -> str | None:
    sides = BIPARTITE_SIDES.get(program.format)
    if sides is None:
        return None
    for member in members:
        if member.role == sides[0]:
            return str(member.participant.person_id)
    return None


@transaction.atomic
def match_run_start(
    *,
    actor: User,
    program: Program,
    track: Track | None = None,
    seed: int | None = None,
    parent: MatchRun | None = None,
) -> MatchRun:
    """Afterwards a queued run exists and its task is enqueued once this transaction commits.

    With `parent`, the run re-matches everyone but the parent's locked proposals (kept as they
    are) and never forms a pair the parent excluded.
    """
    _require_manager(actor, program)
    _require_matchable(program)
    _require_track_of(program, track)
    policy = stored_policy(program, track)
    _engine_policy_or_error(program, policy)
    if not ready_participants(program, track).exists():
        raise ApplicationError("Nobody is ready to be matched yet.")
    active = MatchRun.objects.filter(program=program, status__in=ACTIVE_RUN_STATUSES)
    active = active.filter(track=track) if track is not None else active.filter(track__isnull=True)
    if active.exists():
        raise ApplicationError(
            "A run is already in progress: wait for it or cancel it.", status=409
        )
    fixed: list[list[str]] = []
    forbidden: list[list[str]] = []
    locked: list[dict[str, Any]] = []
    if parent is not None:
        fixed, forbidden, locked = _carried_locks(parent)
    run = MatchRun(
        program=program,
        track=track,
        parent=parent,
        seed=seed if seed is not None else (parent.seed if parent else 0),
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
        stage="Waiting for a worker",
        parameters={
            "policy": policy,
            "allow_repeat_pairs": allows_repeats(program),
            "has_facilitator": program.has_facilitator,
            "fixed": fixed,
            "forbidden": forbidden,
            "locked": locked,
        },
    )
    run.full_clean(exclude=["program", "track", "parent", "created_by"], validate_constraints=False)
    try:
        with transaction.atomic():
            run.save()
    except IntegrityError:
        raise ApplicationError(
            "A run is already in progress: wait for it or cancel it.", status=409
        ) from None
    audit_record(
        actor=actor,
        action="match_run.queued",
        target=run,
        program_id=program.pk,
        to_state=RunStatus.QUEUED,
        data={"track_id": track.pk if track else None, "parent_id": parent.pk if parent else None},
    )
    run_id = run.pk
    transaction.on_commit(lambda: _enqueue_run(run_id))
    return run


def _enqueue_run(run_id: int) -> None:
    match_run_task.enqueue(run_id=run_id)


def match_run_rerun(*, actor: User, run: MatchRun) -> MatchRun:
    """A new run for the rest: locked proposals stay, excluded pairs never form again."""
    _require_manager(actor, run.program)
    _require_reviewable(run)
    return match_run_start(actor=actor, program=run.program, track=run.track, parent=run)


@transaction.atomic
def match_run_cancel(*, actor: User, run: MatchRun) -> MatchRun:
    """Afterwards the run is cancelled; a worker running it stops at its next progress report
    and writes nothing."""
    _require_manager(actor, run.program)
    now = timezone.now()
    previous = run.status
    changed = MatchRun.objects.filter(pk=run.pk, status__in=ACTIVE_RUN_STATUSES).update(
        status=RunStatus.CANCELLED, finished_at=now, stage="Cancelled"
    )
    if not changed:
        raise ApplicationError("This run has already finished.", status=409)
    audit_record(
        actor=actor,
        action="match_run.cancelled",
        target=run,
        program_id=run.program_id,
        from_state=previous,
        to_state=RunStatus.CANCELLED,
    )
    run.refresh_from_db()
    return run
