"""Every write of admin-led matching: settings, runs, review (lock, exclude, pair by hand),
re-runs and publishing.

A run is claimed by the worker with a conditional UPDATE (queued → running), reports progress
through the same kind of UPDATE (which is also how it learns it was cancelled), and writes all
its proposals in the one transaction that marks it succeeded: a failed or cancelled run leaves
no proposal behind.
"""

from __future__ import annotations

import logging
import random
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import Prefetch
from django.utils import timezone

from peermentor.accounts.models import User
from peermentor.core.errors import ApplicationError
from peermentor.core.services import audit_record
from peermentor.enrollment.models import Participant, ParticipantRole
from peermentor.matches.adapter import (
    BIPARTITE_SIDES,
    MATCHABLE_FORMATS,
    EngineInput,
    ParticipantRow,
    allows_repeats,
    build_engine_input,
    engine_policy_mapping,
    ready_participants,
    stored_policy,
    to_engine_policy,
)
from peermentor.matches.models import (
    ACTIVE_RUN_STATUSES,
    MatchRun,
    Proposal,
    ProposalMember,
    RunStatus,
    UnmatchedEntry,
)
from peermentor.matches.permissions import can_manage_matching
from peermentor.matching.model import InputError, Locks, MatchResult, Policy
from peermentor.notifications.email import Email, emails_deliver, emails_queue
from peermentor.programs.models import Format, Program, Track

logger = logging.getLogger(__name__)

PROGRESS_INTERVAL_SECONDS = 0.5
PREVIEW_LIMIT = 2000
NOTIFY_BATCH_SIZE = 200
CHUNK_SIZE = 900

# Share of the progress bar each phase takes: reading profiles, the engine, writing proposals.
READ_SHARE, ENGINE_SHARE = 0.1, 0.85


class RunCancelled(Exception):
    """Raised inside the engine's progress callback to stop a run that was cancelled."""


def engine_match(
    people: Sequence[Any],
    policy: Policy,
    *,
    locks: Locks,
    seed: int,
    progress: Callable[[str, float], None] | None,
) -> MatchResult:
    """The engine's public entry point (peermentor.matching.api.match)."""
    from peermentor.matching.api import match

    return match(people, policy, locks=locks, seed=seed, progress=progress)


def _require_manager(actor: User, program: Program) -> None:
    if not can_manage_matching(actor, program):
        raise PermissionDenied("Only the program's managers can do this.")


def _require_matchable(program: Program) -> None:
    if program.format not in MATCHABLE_FORMATS:
        raise ApplicationError(
            f"{program.get_format_display()} programs are not matched by match runs."
        )


def _require_track_of(program: Program, track: Track | None) -> None:
    if track is not None and track.program_id != program.pk:
        raise ApplicationError("That track belongs to another program.", field="track")


def _engine_policy_or_error(program: Program, policy: dict[str, Any]) -> Policy:
    try:
        return to_engine_policy(program, policy)
    except InputError as error:
        raise ApplicationError(error.detail, field=_form_field(error.field)) from None


def _form_field(engine_field: str | None) -> str:
    """Engine field names ("criterion.weight") to the settings form's sections."""
    if not engine_field:
        return "matching_policy"
    head = engine_field.split(".")[0]
    return {"criterion": "criteria", "constraint": "constraints"}.get(head, head)


# --- matching settings -----------------------------------------------------------------------
def validate_matching_settings(*, program: Program, policy: dict[str, Any]) -> dict[str, Any]:
    """The policy as stored (MATCHING.md shape, format keys from the program) if both the
    program's rules and the engine accept it; ApplicationError otherwise."""
    from peermentor.programs.policy import validate_policy

    full = engine_policy_mapping(program, policy)
    question_kinds = dict(program.questions.values_list("key", "kind"))
    validate_policy(full, question_kinds=question_kinds)
    _engine_policy_or_error(program, full)
    return full


@transaction.atomic
def matching_settings_save(
    *,
    actor: User,
    program: Program,
    policy: dict[str, Any],
    track: Track | None = None,
    allow_repeat_pairs: bool | None = None,
) -> dict[str, Any]:
    """Afterwards the program's (or the track's) matching policy is `policy`; later runs use
    it, runs already queued keep the one they were started with."""
    _require_manager(actor, program)
    _require_matchable(program)
    _require_track_of(program, track)
    full = validate_matching_settings(program=program, policy=policy)
    target: Program | Track = track if track is not None else program
    before = target.matching_policy
    target.matching_policy = full
    target.save(update_fields=["matching_policy"])
    data: dict[str, Any] = {"before": before, "after": full}
    if allow_repeat_pairs is not None and hasattr(program, "allow_repeat_pairs"):
        data["allow_repeat_pairs"] = allow_repeat_pairs
        program.allow_repeat_pairs = allow_repeat_pairs
        program.save(update_fields=["allow_repeat_pairs"])
    audit_record(
        actor=actor,
        action="matching.settings_saved",
        target=target,
        program_id=program.pk,
        data=data,
    )
    return full


@dataclass
class PreviewGroup:
    members: list[tuple[str, str]]  # (name, role)
    score: float
    reasons: str


@dataclass
class PreviewResult:
    participant_count: int
    sample_size: int
    placed: int
    unmatched: int
    group_count: int
    total_score: float
    upper_bound: float | None
    gap: float | None
    seconds: float
    groups: list[PreviewGroup] = field(default_factory=list)
    unmatched_reasons: list[tuple[str, str]] = field(default_factory=list)

    @property
    def is_sample(self) -> bool:
        return self.sample_size < self.participant_count

    @property
    def gap_percent(self) -> float | None:
        return None if self.gap is None else self.gap * 100


def relative_gap(total: float, bound: float | None) -> float | None:
    if bound is None:
        return None
    if bound <= 1e-12:
        return 0.0
    return max(0.0, (bound - total) / bound)


def matching_preview(
    *,
    actor: User,
    program: Program,
    policy: dict[str, Any],
    track: Track | None = None,
    seed: int = 0,
    limit: int = PREVIEW_LIMIT,
    show: int = 10,
) -> PreviewResult:
    """What a run with these (unsaved) settings would give; nothing is written.

    Programs larger than `limit` are previewed on a random sample of that many people.
    """
    _require_manager(actor, program)
    _require_matchable(program)
    _require_track_of(program, track)
    full = validate_matching_settings(program=program, policy=policy)
    ids = list(ready_participants(program, track).order_by("id").values_list("id", flat=True))
    if not ids:
        raise ApplicationError("Nobody is ready to be matched yet, so there is nothing to preview.")
    sample = ids if len(ids) <= limit else sorted(random.Random(seed).sample(ids, limit))
    participants = Participant.objects.filter(pk__in=sample)
    engine_input = build_engine_input(program, track=track, participants=participants, policy=full)
    result = engine_match(
        engine_input.people,
        engine_input.policy,
        locks=Locks(context=engine_input.context_ids),
        seed=seed,
        progress=None,
    )
    groups = [_preview_group(group, engine_input) for group in result.groups[:show]]
    unmatched = [
        (engine_input.id_map[item.id].full_name, item.reason)
        for item in result.unmatched[:show]
        if item.id in engine_input.id_map
    ]
    return PreviewResult(
        participant_count=len(ids),
        sample_size=len(sample),
        placed=result.placed,
        unmatched=len([u for u in result.unmatched if u.id in engine_input.id_map]),
        group_count=len(result.groups),
        total_score=result.total_score,
        upper_bound=result.upper_bound,
        gap=relative_gap(result.total_score, result.upper_bound),
        seconds=result.seconds,
        groups=groups,
        unmatched_reasons=unmatched,
    )


def _preview_group(group: Any, engine_input: EngineInput) -> PreviewGroup:
    members = [
        (engine_input.id_map[m.person_id].full_name, m.role)
        for m in group.members
        if m.person_id in engine_input.id_map
    ]
    reasons = next((m.reasons for m in group.members if m.reasons), "")
    size = max(1, len(group.members))
    score = group.score / size if group.members and len(group.members) > 2 else group.score
    return PreviewGroup(members=members, score=score, reasons=reasons)


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
    from peermentor.matches.tasks import match_run_task

    match_run_task.enqueue(run_id=run_id)


def _require_reviewable(run: MatchRun) -> None:
    if run.status != RunStatus.SUCCEEDED:
        raise ApplicationError("Only a finished run can be reviewed.", status=409)
    if run.is_published:
        raise ApplicationError(
            "This run is published: its proposals are connections now.", status=409
        )


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


# --- executing (the task) --------------------------------------------------------------------
class _Progress:
    """Writes progress to the run's row at most every PROGRESS_INTERVAL_SECONDS.

    The UPDATE only matches a running run, so when it changes no row the run was cancelled
    (or failed elsewhere) and RunCancelled stops the engine.
    """

    def __init__(self, run_id: int) -> None:
        self.run_id = run_id
        self.last = 0.0

    def report(self, stage: str, fraction: float, *, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self.last < PROGRESS_INTERVAL_SECONDS:
            return
        self.last = now
        fraction = min(1.0, max(0.0, fraction))
        changed = MatchRun.objects.filter(pk=self.run_id, status=RunStatus.RUNNING).update(
            stage=stage[:200], progress=fraction
        )
        if not changed:
            raise RunCancelled

    def engine(self, stage: str, fraction: float) -> None:
        self.report(stage, READ_SHARE + ENGINE_SHARE * min(1.0, max(0.0, fraction)))


def match_run_execute(*, run_id: int) -> str:
    """Run the engine for a queued run. Afterwards the run is succeeded with its proposals,
    failed with the reason and no proposals, or (if it was cancelled meanwhile) untouched.
    Does nothing for a run that is not queued (another worker took it). Returns the status."""
    now = timezone.now()
    claimed = MatchRun.objects.filter(pk=run_id, status=RunStatus.QUEUED).update(
        status=RunStatus.RUNNING, started_at=now, stage="Reading profiles", progress=0.0
    )
    if not claimed:
        return MatchRun.objects.filter(pk=run_id).values_list("status", flat=True).first() or ""
    run = MatchRun.objects.select_related("program", "track", "created_by").get(pk=run_id)
    progress = _Progress(run_id)
    try:
        engine_input = build_engine_input(
            run.program, track=run.track, policy=run.parameters.get("policy")
        )
        progress.report(f"Matching {engine_input.matchable_count} people", READ_SHARE, force=True)
        locks = _locks_for(run, engine_input)
        result = engine_match(
            engine_input.people,
            engine_input.policy,
            locks=locks,
            seed=run.seed,
            progress=progress.engine,
        )
        progress.report("Saving proposals", READ_SHARE + ENGINE_SHARE, force=True)
        _store_result(run, engine_input, result)
    except RunCancelled:
        logger.info("Match run %s stopped: it was cancelled", run_id)
        return RunStatus.CANCELLED
    except InputError as error:
        _fail(run, f"The settings or profiles could not be used: {error}")
        return RunStatus.FAILED
    except ApplicationError as error:
        _fail(run, error.message)
        return RunStatus.FAILED
    except Exception as error:
        logger.exception("Match run %s failed", run_id)
        _fail(run, f"The run stopped with an unexpected error ({type(error).__name__}: {error}).")
        return RunStatus.FAILED
    return RunStatus.SUCCEEDED


def _locks_for(run: MatchRun, engine_input: EngineInput) -> Locks:
    known = set(engine_input.id_map)
    fixed = tuple(tuple(group) for group in run.parameters.get("fixed", []) if set(group) <= known)
    forbidden = tuple(
        (pair[0], pair[1])
        for pair in run.parameters.get("forbidden", [])
        if pair[0] in known and pair[1] in known
    )
    return Locks(fixed=fixed, forbidden=forbidden, context=engine_input.context_ids)


@transaction.atomic
def _fail(run: MatchRun, message: str) -> None:
    changed = MatchRun.objects.filter(pk=run.pk, status=RunStatus.RUNNING).update(
        status=RunStatus.FAILED,
        finished_at=timezone.now(),
        stage="Failed",
        error_message=message[:2000],
    )
    if changed:
        audit_record(
            actor=run.created_by,
            action="match_run.failed",
            target=run,
            program_id=run.program_id,
            from_state=RunStatus.RUNNING,
            to_state=RunStatus.FAILED,
            reason=message[:2000],
        )


def _group_score(members: Sequence[Any], group_score: float) -> float:
    # A circle's group score is its size times its mean pair score (MATCHING.md); people
    # compare circles by the mean.
    return group_score / len(members) if len(members) > 2 else group_score


@transaction.atomic
def _store_result(run: MatchRun, engine_input: EngineInput, result: MatchResult) -> None:
    """All proposals, members and unmatched entries, and the run marked succeeded, or nothing."""
    locked_run = MatchRun.objects.select_for_update().get(pk=run.pk)
    if locked_run.status != RunStatus.RUNNING:
        raise RunCancelled
    program = run.program
    id_map = engine_input.id_map
    sides = BIPARTITE_SIDES.get(program.format)
    locked_by_ids = {frozenset(item["ids"]): item for item in run.parameters.get("locked", [])}

    proposals: list[Proposal] = []
    members_of: list[list[ProposalMember]] = []

    def add(key: str, score: float, reasons: str, placements: Sequence[Any], roles: Sequence[str]):
        ids = frozenset(p.person_id for p in placements)
        carried = locked_by_ids.get(ids)
        proposal = Proposal(
            run=run,
            group_key=key[:80],
            score=score,
            reasons=reasons,
            is_locked=carried is not None,
            is_manual=bool(carried and carried["is_manual"]),
            warnings=list(carried["warnings"]) if carried else [],
            has_warnings=bool(carried and carried["is_manual"] and carried["warnings"]),
            size=len(placements),
        )
        proposals.append(proposal)
        rows = [
            ProposalMember(
                run=run,
                participant_id=id_map[placement.person_id].pk,
                role=role,
                score=placement.score,
                reasons=placement.reasons,
            )
            for placement, role in zip(placements, roles, strict=True)
        ]
        members_of.append(rows)
        return rows

    for group in result.groups:
        placements = [m for m in group.members if m.person_id in id_map]
        if not placements:
            continue
        if sides is not None:
            side_a = [p for p in placements if id_map[p.person_id].role == sides[0]]
            side_b = [p for p in placements if id_map[p.person_id].role == sides[1]]
            if len(side_a) != 1:
                continue
            host = side_a[0]
            for shadow in side_b:
                add(
                    f"{group.id}/{shadow.person_id}",
                    shadow.score if shadow.score is not None else 0.0,
                    shadow.reasons,
                    [host, shadow],
                    [str(sides[0]), str(sides[1])],
                )
        else:
            roles = [
                ParticipantRole.MEMBER
                if program.format == Format.CIRCLES
                else id_map[p.person_id].role
                for p in placements
            ]
            reasons = next((p.reasons for p in placements if p.reasons), "")
            add(str(group.id), _group_score(placements, group.score), reasons, placements, roles)

    if program.format == Format.CIRCLES and run.parameters.get("has_facilitator"):
        _add_facilitators(run, proposals, members_of, engine_input.facilitators)

    created = Proposal.objects.bulk_create(proposals, batch_size=CHUNK_SIZE)
    all_members: list[ProposalMember] = []
    for proposal, rows in zip(created, members_of, strict=True):
        for row in rows:
            row.proposal = proposal
            all_members.append(row)
    ProposalMember.objects.bulk_create(all_members, batch_size=CHUNK_SIZE)
    unmatched = [
        UnmatchedEntry(run=run, participant_id=id_map[item.id].pk, reason=item.reason)
        for item in result.unmatched
        if item.id in id_map
    ]
    UnmatchedEntry.objects.bulk_create(unmatched, batch_size=CHUNK_SIZE)

    now = timezone.now()
    MatchRun.objects.filter(pk=run.pk).update(
        status=RunStatus.SUCCEEDED,
        finished_at=now,
        progress=1.0,
        stage="Finished",
        total_score=result.total_score,
        upper_bound=result.upper_bound,
        gap=relative_gap(result.total_score, result.upper_bound),
        participant_count=len(id_map),
        placed_count=result.placed,
        unmatched_count=len(unmatched),
        proposal_count=len(created),
        engine_seconds=result.seconds,
    )
    audit_record(
        actor=run.created_by,
        action="match_run.succeeded",
        target=run,
        program_id=run.program_id,
        from_state=RunStatus.RUNNING,
        to_state=RunStatus.SUCCEEDED,
        data={"proposals": len(created), "unmatched": len(unmatched)},
    )


def _add_facilitators(
    run: MatchRun,
    proposals: list[Proposal],
    members_of: list[list[ProposalMember]],
    facilitators: Sequence[tuple[ParticipantRow, int]],
) -> None:
    """One facilitator per circle, taking the program's facilitators in turn while they have
    room; circles beyond everyone's room go without one."""
    places = {participant.pk: count for participant, count in facilitators}
    ordered = sorted((participant for participant, _ in facilitators), key=lambda p: p.pk)
    for index, rows in enumerate(members_of):
        available = [p for p in ordered if places[p.pk] > 0]
        if not available:
            return
        facilitator = available[index % len(available)]
        places[facilitator.pk] -= 1
        rows.append(
            ProposalMember(
                run=run,
                participant_id=facilitator.pk,
                role=ParticipantRole.FACILITATOR,
                score=None,
                reasons="Facilitates this circle.",
            )
        )
        proposals[index].size = len(rows)


# --- review ------------------------------------------------------------------------------------
def _lock_run(run: MatchRun) -> MatchRun:
    """The run's row locked: review edits of one run happen one at a time."""
    return (
        MatchRun.objects.select_for_update(of=("self",))
        .select_related("program", "track")
        .get(pk=run.pk)
    )


@transaction.atomic
def proposal_set_locked(*, actor: User, proposal: Proposal, is_locked: bool) -> Proposal:
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
    return proposal


@transaction.atomic
def proposal_set_excluded(*, actor: User, proposal: Proposal, is_excluded: bool) -> Proposal:
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
    return proposal


@transaction.atomic
def proposal_create_manual(
    *, actor: User, run: MatchRun, first: Participant, second: Participant
) -> Proposal:
    """Afterwards `first` and `second` are proposed together (locked, with any rule they break
    listed as warnings). Pairs and shadowing/buddies: a new pair, dissolving the unlocked
    proposals the two were in (their partners become unmatched). Circles: `first` joins the
    circle of `second`.
    """
    from peermentor.matches.selectors import manual_pair_check

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
                reason="Their proposed partner was matched by hand.",
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
        update_fields=["size", "is_manual", "is_locked", "is_excluded", "warnings", "has_warnings"]
    )
    return circle


# --- publishing ----------------------------------------------------------------------------------
CONNECTION_KIND_BY_FORMAT: dict[str, str] = {
    Format.PAIRS: "pair",
    Format.SHADOWING: "shadowing",
    Format.BUDDIES: "buddy",
    Format.CIRCLES: "circle",
}


@transaction.atomic
def match_run_publish(*, actor: User, run: MatchRun) -> int:
    """Afterwards every proposal of the run that is not excluded is an active connection, the
    run is published, and (once committed) its members are told by e-mail. All or nothing:
    if any proposal can no longer be placed, nothing is published. Returns the count."""
    from peermentor.connections.services import (
        ProposalSpec,
        ProposalsRefused,
        connections_activate_many,
        connections_propose_many,
    )

    run = _lock_run(run)
    program = run.program
    _require_manager(actor, program)
    _require_reviewable(run)
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
    kind = CONNECTION_KIND_BY_FORMAT[program.format]
    specs = [
        ProposalSpec(members=members[pk], kind=kind, score=score, reasons=reasons)
        for pk, score, reasons in proposals
    ]
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
        index, problem = refused.problems[0]
        names = " and ".join(
            Participant.objects.filter(pk__in=[p.pk for p, _ in specs[index].members])
            .order_by("person__full_name")
            .values_list("person__full_name", flat=True)
        )
        more = len(refused.problems) - 1
        raise ApplicationError(
            f"Nothing was published. {names}: {problem}"
            + (f" ({more} more proposals have problems.)" if more > 0 else "")
        ) from None
    connections_activate_many(actor=actor, program=program, match_run_id=run.pk)
    withdrawn = _withdraw_unhonourable_requests(
        actor=actor,
        program=program,
        placed={participant.pk for people in members.values() for participant, _ in people},
    )
    run.published_at = timezone.now()
    run.published_by = actor
    run.save(update_fields=["published_at", "published_by"])
    audit_record(
        actor=actor,
        action="match_run.published",
        target=run,
        program_id=program.pk,
        to_state="published",
        data={"connections": len(connections), "requests_withdrawn": withdrawn},
    )
    run_id = run.pk
    transaction.on_commit(lambda: enqueue_match_notifications(run_id))
    return len(connections)


def _withdraw_unhonourable_requests(*, actor: User, program: Program, placed: set[int]) -> int:
    """Self-match requests that the run made impossible: afterwards no pending request of the
    program involves someone just placed who has no room left (one current connection; hosts
    and buddies at capacity keep theirs while they have places). Both people of each are told
    by e-mail after commit. A fixed number of queries however many were placed: one read of
    the program's pending requests picks the people concerned, and only they are locked."""
    from peermentor.selfmatch import services as request_services
    from peermentor.selfmatch.models import MatchRequest, RequestStatus

    concerned = {
        participant_id
        for pair in MatchRequest.objects.filter(
            program_id=program.pk, status=RequestStatus.PENDING
        ).values_list("requester_id", "recipient_id")
        for participant_id in pair
        if participant_id in placed
    }
    if not concerned:
        return 0
    return request_services.requests_cancel_unhonourable(
        actor=actor,
        participant_ids=sorted(concerned),
        reason="{name} has been matched by the program's match run.",
    )


def enqueue_match_notifications(run_id: int) -> int:
    """One e-mail task per NOTIFY_BATCH_SIZE members of the run's published proposals."""
    from peermentor.matches.tasks import match_notify_task

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


def match_notifications_send(*, run_id: int, member_ids: Sequence[int]) -> int:
    """E-mail each named member (once: a retried batch skips those already told) who they were
    matched with and why. Returns how many e-mails were sent now; one that fails stays queued
    and is tried again by the periodic job (notifications/email.py)."""
    from django.conf import settings
    from django.template.loader import render_to_string

    with transaction.atomic():
        pending = list(
            ProposalMember.objects.filter(
                pk__in=list(member_ids), run_id=run_id, notified_at__isnull=True
            ).values_list("pk", flat=True)
        )
        if not pending:
            return 0
        # The claim and the queued e-mails commit together: a retried batch finds them told.
        ProposalMember.objects.filter(pk__in=pending, notified_at__isnull=True).update(
            notified_at=timezone.now()
        )
        members = (
            ProposalMember.objects.filter(pk__in=pending)
            .select_related("participant__person", "run__program")
            .prefetch_related(
                Prefetch(
                    "proposal__members",
                    queryset=ProposalMember.objects.select_related("participant__person").order_by(
                        "id"
                    ),
                )
            )
            .order_by("id")
        )
        emails = []
        for member in members:
            person = member.participant.person
            others = [other for other in member.proposal.members.all() if other.pk != member.pk]
            body = render_to_string(
                "matches/email_matched.txt",
                {
                    "person": person,
                    "program": member.run.program,
                    "others": others,
                    "reasons": member.proposal.reasons,
                    "connections_url": f"{settings.SITE_URL}/connections/",
                },
            )
            emails.append(
                Email(
                    to=person.email,
                    subject=f"You have been matched in {member.run.program.name}",
                    body=body,
                )
            )
        email_ids = emails_queue(emails=emails, purpose="matches.matched")
    return emails_deliver(email_ids=email_ids)
