"""Every write of admin-led matching, one module per step; import from here.

- settings: validate_matching_settings, matching_settings_save, matching_preview
- runs: match_run_start, match_run_rerun, match_run_cancel (the engine runs in a task:
  ../execution.py, match_run_execute)
- review: proposal_set_locked, proposal_set_excluded, proposal_create_manual (each one
  recomputes the run's figures: run_figures_refresh)
- publishing: match_run_place, match_run_mark_published (composed by flows.publish, which also
  withdraws the self-match requests a run made impossible)
"""

from peermentor.matches.checks import RunCancelled, engine_match, relative_gap
from peermentor.matches.execution import match_run_execute
from peermentor.matches.notices import match_notifications_send
from peermentor.matches.services.publishing import (
    Placed,
    enqueue_match_notifications,
    match_run_mark_published,
    match_run_place,
)
from peermentor.matches.services.review import (
    proposal_create_manual,
    proposal_set_excluded,
    proposal_set_locked,
    run_figures_refresh,
)
from peermentor.matches.services.runs import match_run_cancel, match_run_rerun, match_run_start
from peermentor.matches.services.settings import (
    PreviewGroup,
    PreviewResult,
    matching_preview,
    matching_settings_save,
    validate_matching_settings,
)

__all__ = [
    "Placed",
    "PreviewGroup",
    "PreviewResult",
    "RunCancelled",
    "engine_match",
    "enqueue_match_notifications",
    "match_notifications_send",
    "match_run_cancel",
    "match_run_execute",
    "match_run_mark_published",
    "match_run_place",
    "match_run_rerun",
    "match_run_start",
    "matching_preview",
    "matching_settings_save",
    "proposal_create_manual",
    "proposal_set_excluded",
    "proposal_set_locked",
    "relative_gap",
    "run_figures_refresh",
    "validate_matching_settings",
]
