"""A program's matching settings and the preview of what they would give."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction

from peermentor.accounts.models import User
from peermentor.core.errors import ApplicationError
from peermentor.core.services import audit_record
from peermentor.enrollment.models import Participant
from peermentor.matches.adapter import (
    EngineInput,
    build_engine_input,
    engine_policy_mapping,
    ready_participants,
)
from peermentor.matches.checks import (
    PREVIEW_LIMIT,
    _engine_policy_or_error,
    _require_manager,
    _require_matchable,
    _require_track_of,
    engine_match,
    relative_gap,
)
from peermentor.matches.wording import plain_words
from peermentor.matching.model import Locks
from peermentor.programs.models import Program, Track
from peermentor.programs.policy import validate_policy


# --- matching settings -----------------------------------------------------------------------
def validate_matching_settings(*, program: Program, policy: dict[str, Any]) -> dict[str, Any]:
    """The policy as stored (MATCHING.md shape, format keys from the program) if both the
    program's rules and the engine accept it; ApplicationError otherwise."""
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
    return PreviewGroup(members=members, score=score, reasons=plain_words(reasons))
