"""Executing a match run (the task's work): the worker claims the run with a conditional UPDATE
(queued → running), reports progress through the same kind of UPDATE (which is also how it learns
it was cancelled), and writes all its proposals in the one transaction that marks it succeeded: a
failed or cancelled run leaves no proposal behind."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from django.db import transaction
from django.utils import timezone

from peermentor.core.errors import ApplicationError
from peermentor.core.services import audit_record
from peermentor.enrollment.models import ParticipantRole
from peermentor.matches.adapter import (
    BIPARTITE_SIDES,
    EngineInput,
    ParticipantRow,
    build_engine_input,
)
from peermentor.matches.checks import (
    CHUNK_SIZE,
    ENGINE_SHARE,
    PROGRESS_INTERVAL_SECONDS,
    READ_SHARE,
    RunCancelled,
    engine_match,
    logger,
    relative_gap,
)
from peermentor.matches.models import (
    MatchRun,
    Proposal,
    ProposalMember,
    RunStatus,
    UnmatchedEntry,
)
from peermentor.matches.wording import plain_words
from peermentor.matching.model import InputError, Locks, MatchResult
from peermentor.programs.models import Format, Program


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


class _Rows:
    """The proposals and members a run's result becomes, built before one bulk write."""

    def __init__(self, run: MatchRun, engine_input: EngineInput) -> None:
        self.run = run
        self.id_map = engine_input.id_map
        self.locked_by_ids = {
            frozenset(item["ids"]): item for item in run.parameters.get("locked", [])
        }
        self.proposals: list[Proposal] = []
        self.members_of: list[list[ProposalMember]] = []

    def add(
        self,
        key: str,
        score: float,
        reasons: str,
        placements: Sequence[Any],
        roles: Sequence[str],
    ) -> list[ProposalMember]:
        """One proposal of `placements` (a proposal the manager locked keeps its flags)."""
        carried = self.locked_by_ids.get(frozenset(p.person_id for p in placements))
        self.proposals.append(
            Proposal(
                run=self.run,
                group_key=key[:80],
                score=score,
                reasons=plain_words(reasons),
                is_locked=carried is not None,
                is_manual=bool(carried and carried["is_manual"]),
                warnings=list(carried["warnings"]) if carried else [],
                has_warnings=bool(carried and carried["is_manual"] and carried["warnings"]),
                size=len(placements),
            )
        )
        rows = [
            ProposalMember(
                run=self.run,
                participant_id=self.id_map[placement.person_id].pk,
                role=role,
                score=placement.score,
                reasons=plain_words(placement.reasons),
            )
            for placement, role in zip(placements, roles, strict=True)
        ]
        self.members_of.append(rows)
        return rows

    def add_group(self, group: Any, program: Program) -> None:
        """A bipartite group becomes one proposal per side-b person with their side-a person;
        any other group one proposal."""
        placements = [m for m in group.members if m.person_id in self.id_map]
        if not placements:
            return
        sides = BIPARTITE_SIDES.get(program.format)
        if sides is None:
            roles = [
                ParticipantRole.MEMBER
                if program.format == Format.CIRCLES
                else self.id_map[p.person_id].role
                for p in placements
            ]
            reasons = next((p.reasons for p in placements if p.reasons), "")
            self.add(
                str(group.id), _group_score(placements, group.score), reasons, placements, roles
            )
            return
        side_a = [p for p in placements if self.id_map[p.person_id].role == sides[0]]
        side_b = [p for p in placements if self.id_map[p.person_id].role == sides[1]]
        if len(side_a) != 1:
            return
        for shadow in side_b:
            self.add(
                f"{group.id}/{shadow.person_id}",
                shadow.score if shadow.score is not None else 0.0,
                shadow.reasons,
                [side_a[0], shadow],
                [str(sides[0]), str(sides[1])],
            )

    def save(self) -> list[Proposal]:
        created = Proposal.objects.bulk_create(self.proposals, batch_size=CHUNK_SIZE)
        members: list[ProposalMember] = []
        for proposal, rows in zip(created, self.members_of, strict=True):
            for row in rows:
                row.proposal = proposal
                members.append(row)
        ProposalMember.objects.bulk_create(members, batch_size=CHUNK_SIZE)
        return created


@transaction.atomic
def _store_result(run: MatchRun, engine_input: EngineInput, result: MatchResult) -> None:
    """All proposals, members and unmatched entries, and the run marked succeeded, or nothing."""
    locked_run = MatchRun.objects.select_for_update().get(pk=run.pk)
    if locked_run.status != RunStatus.RUNNING:
        raise RunCancelled
    program = run.program
    rows = _Rows(run, engine_input)
    for group in result.groups:
        rows.add_group(group, program)
    if program.format == Format.CIRCLES and run.parameters.get("has_facilitator"):
        _add_facilitators(run, rows.proposals, rows.members_of, engine_input.facilitators)
    created = rows.save()
    unmatched = UnmatchedEntry.objects.bulk_create(
        [
            UnmatchedEntry(
                run=run, participant_id=rows.id_map[item.id].pk, reason=plain_words(item.reason)
            )
            for item in result.unmatched
            if item.id in rows.id_map
        ],
        batch_size=CHUNK_SIZE,
    )
    _mark_succeeded(
        run, result, participants=len(rows.id_map), proposals=len(created), unmatched=len(unmatched)
    )


def _mark_succeeded(
    run: MatchRun, result: MatchResult, *, participants: int, proposals: int, unmatched: int
) -> None:
    MatchRun.objects.filter(pk=run.pk).update(
        status=RunStatus.SUCCEEDED,
        finished_at=timezone.now(),
        progress=1.0,
        stage="Finished",
        total_score=result.total_score,
        engine_total_score=result.total_score,
        upper_bound=result.upper_bound,
        gap=relative_gap(result.total_score, result.upper_bound),
        participant_count=participants,
        placed_count=result.placed,
        engine_placed_count=result.placed,
        unmatched_count=unmatched,
        proposal_count=proposals,
        engine_seconds=result.seconds,
    )
    audit_record(
        actor=run.created_by,
        action="match_run.succeeded",
        target=run,
        program_id=run.program_id,
        from_state=RunStatus.RUNNING,
        to_state=RunStatus.SUCCEEDED,
        data={"proposals": proposals, "unmatched": unmatched},
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
