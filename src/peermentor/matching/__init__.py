"""Peermentor's matching engine: optimal, explainable, certified matching (never imports Django).

The web app calls `match` (and `recommender(...).recommend`) with dataclasses; people and scripts
use the `peermentor` command line. See docs/matching.md.
"""

from .api import (
    build_scorer,
    load_people_csv,
    load_policy_toml,
    match,
    matches_csv_text,
    recommend,
    recommender,
    report_dict,
    write_matches_csv,
    write_report_json,
)
from .model import (
    Constraint,
    Criterion,
    Group,
    InputError,
    Locks,
    MatchResult,
    Person,
    Placement,
    Policy,
    ProgressCallback,
    Sides,
    Unmatched,
)
from .profiles import PeopleTable, policy_from_mapping
from .recommend import Recommendation, Recommendations, Recommender

__all__ = [
    "Constraint",
    "Criterion",
    "Group",
    "InputError",
    "Locks",
    "MatchResult",
    "PeopleTable",
    "Person",
    "Placement",
    "Policy",
    "ProgressCallback",
    "Recommendation",
    "Recommendations",
    "Recommender",
    "Sides",
    "Unmatched",
    "build_scorer",
    "load_people_csv",
    "load_policy_toml",
    "match",
    "matches_csv_text",
    "policy_from_mapping",
    "recommend",
    "recommender",
    "report_dict",
    "write_matches_csv",
    "write_report_json",
]
