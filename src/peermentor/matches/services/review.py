"""Reviewing a run before publishing: lock or exclude proposals, pair people by hand.

Every edit recomputes the run's figures in its own transaction (run_figures_refresh): the total
score, who is placed and left out, and the gap to the bound, which stays the engine's certified
bound for the run's problem. The summary a manager reads is never the engine's figures for a set
of proposals that no longer exists."""

from __future__ import annotations

import uuid
from typing import Any

from django.db import transaction
from django.db.models import Count, Q, Sum
from django.utils import timezone

from peermentor.core.errors import ApplicationError
from peermentor.core.services import audit_record
from peermentor.enrollment.models import Participant, ParticipantRole
from peermentor.matches.adapter import (
    BIPARTITE_SIDES,
)
from peermentor.matches.checks import (
    _lock_run,
    _require_manager,
    _require_reviewable,
    relative_gap,
)
from peermentor.matches.models import (
    MatchRun,
    Proposal,
    ProposalMember,
    UnmatchedEntry,
)
from peermentor.matches.selectors import manual_pair_check
from peermentor.programs.models import Format


@transaction.atomic
def proposal_set_locked(*, actor: Any, proposal: Proposal, is_locked: bool) -> Proposal:
    """Afterwards the proposal is (un)locked: a locked proposal survives re-runs unchanged."""
    run = _lock_run(proposal.run)
    _require_manager(actor, run.program)
    _require_reviewable(run)
    proposal = Proposal.objects.select_for_update().get(pk=proposal.pk)
    if is_locked and proposal.is_excluded:
        raise ApplicationError("Include this proposal again before locking it.")
    if proposal.is_locked != is_locked:
        proposal.is_locked = is_locked
        proposal.save(update_fields=["is_locked"])
        audit_record(
            actor=actor,
            action="match_proposal.locked" if is_locked else "match_proposal.unlocked",
            target=proposal,
            program_id=run.program_id,
            to_state="locked" if is_locked else "unlocked",
        )
        run_figures_refresh(run=run)
    return proposal


@transaction.atomic
def proposal_set_excluded(*, actor: Any, proposal: Proposal, is_excluded: bool) -> Proposal:
    """Afterwards the proposal is excluded (never published, and its pairs never formed by a
    re-run) or included again."""
    run = _lock_run(proposal.run)
    _require_manager(actor, run.program)
    _require_reviewable(run)
    proposal = Proposal.objects.select_for_update().get(pk=proposal.pk)
    if is_excluded and proposal.is_locked:
        raise ApplicationError("Unlock this proposal before excluding it.")
    if proposal.is_excluded != is_excluded:
        proposal.is_excluded = is_excluded
        proposal.save(update_fields=["is_excluded"])
        audit_record(
            actor=actor,
            action="match_proposal.excluded" if is_excluded else "match_proposal.included",
            target=proposal,
            program_id=run.program_id,
            to_state="excluded" if is_excluded else "included",
        )
        _sync_left_out(
            run,
            _people_of(proposal),
            reason=EXCLUDED_REASON,
        )
        run_figures_refresh(run=run, is_edit=True)
    return proposal


@transaction.atomic
def proposal_create_manual(
    *, actor: Any, run: MatchRun, first: Participant, second: Participant
) -> Proposal:
    """Afterwards `first` and `second` are proposed together (locked, with any rule they break
    listed as warnings). Pairs and shadowing/buddies: a new pair, dissolving the unlocked
    proposals the two were in (their partners become unmatched). Circles: `first` joins the
    circle of `second`.
    """
    run = _lock_run(run)
    program = run.program
    _require_manager(actor, program)
    _require_reviewable(run)
    check = manual_pair_check(viewer=actor, run=run, first=first, second=second)
    if check.refusal:
        raise ApplicationError(check.refusal)
    if program.format == Format.CIRCLES:
        proposal = _join_circle(run, check)
    else:
        proposal = _new_manual_pair(run, check)
    audit_record(
        actor=actor,
        action="match_proposal.created_manually",
        target=proposal,
        program_id=program.pk,
        data={
            "participant_ids": [first.pk, second.pk],
            "score": check.score,
            "warnings": check.warnings,
        },
    )
    _sync_left_out(run, _people_of(proposal), reason=HAND_MATCH_REASON)
    run_figures_refresh(run=run, is_edit=True)
    return proposal


def _current_membership(run: MatchRun, participant: Participant) -> ProposalMember | None:
    return (
        ProposalMember.objects.filter(run=run, participant=participant)
        .exclude(role=ParticipantRole.FACILITATOR)
        .select_related("proposal")
        .first()
    )


def _dissolve(run: MatchRun, proposal: Proposal, keep_out: set[int]) -> None:
    """Drop an unlocked proposal; its other members go to the unmatched list."""
    others = [
        m.participant_id
        for m in proposal.members.all()
        if m.participant_id not in keep_out and m.role != ParticipantRole.FACILITATOR
    ]
    proposal.delete()
    # A host may keep other shadows: only people left with no proposal at all are unmatched.
    still_placed = set(
        ProposalMember.objects.filter(run=run, participant_id__in=others).values_list(
            "participant_id", flat=True
        )
    )
    others = [participant_id for participant_id in others if participant_id not in still_placed]
    UnmatchedEntry.objects.bulk_create(
        [
            UnmatchedEntry(
                run=run,
                participant_id=participant_id,
                reason=HAND_MATCH_REASON,
            )
            for participant_id in others
        ],
        ignore_conflicts=True,
    )


def _new_manual_pair(run: MatchRun, check: Any) -> Proposal:
    people = {check.first.pk, check.second.pk}
    sides = BIPARTITE_SIDES.get(run.program.format)
    for participant in (check.first, check.second):
        membership = _current_membership(run, participant)
        if membership is None:
            continue
        if sides is not None and participant.role == sides[0]:
            # A host keeps their other shadows; capacity was checked by manual_pair_check.
            continue
        if membership.proposal.is_locked:
            raise ApplicationError(
                f"{participant.person.full_name} is in a locked proposal: unlock it first."
            )
        _dissolve(run, membership.proposal, people)
    UnmatchedEntry.objects.filter(run=run, participant_id__in=people).delete()
    proposal = Proposal.objects.create(
        run=run,
        group_key=f"manual-{uuid.uuid4().hex[:12]}",
        score=check.score,
        reasons=check.reasons,
        is_locked=True,
        is_manual=True,
        warnings=check.warnings,
        has_warnings=bool(check.warnings),
        size=2,
    )
    ProposalMember.objects.bulk_create(
        [
            ProposalMember(
                proposal=proposal,
                run=run,
                participant=participant,
                role=participant.role,
                score=None if index == 0 and sides is not None else check.score,
                reasons=check.reasons,
            )
            for index, participant in enumerate(check.ordered)
        ]
    )
    return proposal


def _join_circle(run: MatchRun, check: Any) -> Proposal:
    circle: Proposal = check.circle
    membership = _current_membership(run, check.first)
    if membership is not None:
        if membership.proposal_id == circle.pk:
            raise ApplicationError("They are already in that circle.")
        if membership.proposal.is_locked:
            raise ApplicationError(
                f"{check.first.person.full_name} is in a locked circle: unlock it first."
            )
        if not membership.proposal.is_excluded:
            raise ApplicationError(
                f"{check.first.person.full_name} is already in another circle: exclude that "
                "circle first."
            )
        membership.delete()
    UnmatchedEntry.objects.filter(run=run, participant=check.first).delete()
    # The circle's score is its mean pair score: add the newcomer's pairs to the mean.
    others = circle.members.exclude(role=ParticipantRole.FACILITATOR).count()
    old_pairs, new_pairs = others * (others - 1) / 2, (others + 1) * others / 2
    circle.score = (circle.score * old_pairs + check.score * others) / new_pairs
    ProposalMember.objects.create(
        proposal=circle,
        run=run,
        participant=check.first,
        role=ParticipantRole.MEMBER,
        score=check.score,
        reasons=check.reasons,
    )
    circle.size = circle.members.count()
    circle.is_manual = True
    circle.is_locked = True
    circle.is_excluded = False
    circle.warnings = [*circle.warnings, *check.warnings]
    circle.has_warnings = bool(circle.warnings)
    circle.save(
        update_fields=[
            "score",
            "size",
            "is_manual",
            "is_locked",
            "is_excluded",
            "warnings",
            "has_warnings",
        ]
    )
    return circle


# --- the run's figures after edits -------------------------------------------------------------
EXCLUDED_REASON = "Their proposal is excluded."
HAND_MATCH_REASON = "Their proposed partner was matched by hand."


def _people_of(proposal: Proposal) -> set[int]:
    return set(
        ProposalMember.objects.filter(proposal=proposal)
        .exclude(role=ParticipantRole.FACILITATOR)
        .values_list("participant_id", flat=True)
    )


def _sync_left_out(run: MatchRun, participant_ids: set[int], *, reason: str) -> None:
    """Afterwards each of these people is on the run's left-out list exactly when no proposal
    that is not excluded places them (a host keeps their place while one shadow remains)."""
    placed = set(
        ProposalMember.objects.filter(
            run=run, participant_id__in=participant_ids, proposal__is_excluded=False
        )
        .exclude(role=ParticipantRole.FACILITATOR)
        .values_list("participant_id", flat=True)
    )
    UnmatchedEntry.objects.filter(run=run, participant_id__in=placed).delete()
    UnmatchedEntry.objects.bulk_create(
        [
            UnmatchedEntry(run=run, participant_id=participant_id, reason=reason)
            for participant_id in sorted(participant_ids - placed)
        ],
        ignore_conflicts=True,
    )


def run_figures_refresh(*, run: MatchRun, is_edit: bool = False) -> MatchRun:
    """Afterwards the run's total score, placed and left-out counts, proposal count and gap
    describe its proposals that are not excluded, as publishing would form them (MATCHING.md's
    scores: a pair or host-shadow proposal scores its score, a circle its size times its mean
    pair score). The bound is left alone. Call it inside the edit's transaction, with the run
    locked. Four queries whatever the size of the run."""
    kept = Proposal.objects.filter(run=run, is_excluded=False)
    if run.program.format == Format.CIRCLES:
        people = Count("members", filter=~Q(members__role=ParticipantRole.FACILITATOR))
        total = sum(
            score * size for score, size in kept.annotate(n=people).values_list("score", "n")
        )
    else:
        total = kept.aggregate(total=Sum("score"))["total"] or 0.0
    run.total_score = float(total)
    run.placed_count = (
        ProposalMember.objects.filter(run=run, proposal__is_excluded=False)
        .exclude(role=ParticipantRole.FACILITATOR)
        .values("participant_id")
        .distinct()
        .count()
    )
    run.unmatched_count = UnmatchedEntry.objects.filter(run=run).count()
    run.proposal_count = Proposal.objects.filter(run=run).count()
    run.gap = relative_gap(run.total_score, run.upper_bound)
    fields = ["total_score", "placed_count", "unmatched_count", "proposal_count", "gap"]
    if is_edit:
        run.edited_at = timezone.now()
        fields.append("edited_at")
    run.save(update_fields=fields)
    return run
