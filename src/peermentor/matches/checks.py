"""What every matches service shares: constants, permission and state checks, the engine call."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

from django.core.exceptions import PermissionDenied

from peermentor.accounts.models import User
from peermentor.core.errors import ApplicationError
from peermentor.matches.adapter import (
    MATCHABLE_FORMATS,
    to_engine_policy,
)
from peermentor.matches.models import (
    MatchRun,
    RunStatus,
)
from peermentor.matches.permissions import can_manage_matching
from peermentor.matching.api import match
from peermentor.matching.model import InputError, Locks, MatchResult, Policy
from peermentor.programs.models import Format, Program, Track

logger = logging.getLogger("peermentor.matches.services")

PROGRESS_INTERVAL_SECONDS = 0.5
PREVIEW_LIMIT = 2000
NOTIFY_BATCH_SIZE = 200
CHUNK_SIZE = 900

# Share of the progress bar each phase takes: reading profiles, the engine, writing proposals.
READ_SHARE, ENGINE_SHARE = 0.1, 0.85

CONNECTION_KIND_BY_FORMAT: dict[str, str] = {
    Format.PAIRS: "pair",
    Format.SHADOWING: "shadowing",
    Format.BUDDIES: "buddy",
    Format.CIRCLES: "circle",
}


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


def relative_gap(total: float, bound: float | None) -> float | None:
    if bound is None:
        return None
    if bound <= 1e-12:
        return 0.0
    return max(0.0, (bound - total) / bound)


def _require_reviewable(run: MatchRun) -> None:
    if run.status != RunStatus.SUCCEEDED:
        raise ApplicationError("Only a finished run can be reviewed.", status=409)
    if run.is_published:
        raise ApplicationError(
            "This run is published: its proposals are connections now.", status=409
        )


# --- review ------------------------------------------------------------------------------------
def _lock_run(run: MatchRun) -> MatchRun:
    """The run's row locked: review edits of one run happen one at a time."""
    return (
        MatchRun.objects.select_for_update(of=("self",))
        .select_related("program", "track")
        .get(pk=run.pk)
    )
