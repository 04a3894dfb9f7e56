"""The engine's explanations read in the app's words (issue 12: "capacity of side a exhausted",
"similar years experience" for tenure)."""

import pytest

from peermentor.core.templatetags.audit import event_label
from peermentor.matches.wording import plain_words


@pytest.mark.parametrize(
    ("engine", "shown"),
    [
        (
            "capacity of side a exhausted: every allowed host is full",
            "every host they could be matched with is full",
        ),
        ("capacity of side a exhausted: every buddy is full", "every buddy is full"),
        ("nobody is on side a (host)", "nobody takes part as a host"),
        (
            "no allowed partner scores at least min_score (0.3)",
            "no allowed partner scores at least the minimum score (0.3)",
        ),
        (
            "similar years experience (3 and 5); different departments",
            "similar time in the organisation (3 and 5 years); different departments",
        ),
        ("the same years experience (4)", "the same time in the organisation (4 years)"),
    ],
)
def test_engine_terms_become_the_apps_words(engine, shown):
    assert plain_words(engine) == shown


@pytest.mark.parametrize(
    ("key", "label"),
    [
        ("program.status_changed", "Program status changed"),
        ("connection.closed_early", "Connection closed early"),
        ("match_proposal.created_manually", "Proposal made by hand"),
        ("match_run.succeeded", "Match run finished"),
    ],
)
def test_history_shows_events_in_words(key, label):
    assert event_label(key) == label
