"""What a program starts with, given its goals: format, questions, matching policy, metrics,
training. Pure functions returning plain data; `program_create` applies them and every piece
stays editable afterwards.
"""

from __future__ import annotations

import copy
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from peermentor.programs.models import Format, Goal, QuestionKind, TrainingKind
from peermentor.programs.policy import DIRECTORY_ATTRIBUTES, policy_fields

GOAL_DESCRIPTIONS: dict[str, str] = {
    Goal.CROSS_FUNCTIONAL: (
        "People spend time with colleagues in another function, e.g. shadowing a host on "
        "low-risk assignments, to understand how the organisation works."
    ),
    Goal.ONBOARDING: (
        "Every newcomer gets a buddy in a similar role nearby who helps them settle in."
    ),
    Goal.WELLBEING: (
        "Small circles around a shared theme where people support one another, across teams "
        "and compatible time zones."
    ),
    Goal.NETWORKING: (
        "Peers meet colleagues outside their immediate team, especially hybrid and remote "
        "staff who form such ties least."
    ),
    Goal.SKILL_LEARNING: (
        "Two peers teach each other: the skills one offers are the ones the other wants."
    ),
    Goal.CAREER_EXPLORATION: (
        "People explore other roles and career paths by shadowing someone who does that work."
    ),
}

FORMAT_DESCRIPTIONS: dict[str, str] = {
    Format.PAIRS: "Two peers meet regularly.",
    Format.SHADOWING: "A shadow spends time with a host in another function; hosts take a few.",
    Format.CIRCLES: "Groups of 4 to 8 people around a theme, optionally with a facilitator.",
    Format.BUDDIES: "Each newcomer gets a buddy; a buddy may take more than one newcomer.",
    Format.HELP_NETWORK: "People ask for and offer help on topics, in one-off flash meetings.",
}

GOAL_FORMAT: dict[str, str] = {
    Goal.CROSS_FUNCTIONAL: Format.SHADOWING,
    Goal.ONBOARDING: Format.BUDDIES,
    Goal.WELLBEING: Format.CIRCLES,
    Goal.NETWORKING: Format.PAIRS,
    Goal.SKILL_LEARNING: Format.PAIRS,
    Goal.CAREER_EXPLORATION: Format.SHADOWING,
}

# When goals point to different formats equally often, the more structured format wins: a
# newcomer programme needs buddies even if it also aims at networking.
FORMAT_PRIORITY = [
    Format.BUDDIES,
    Format.SHADOWING,
    Format.CIRCLES,
    Format.PAIRS,
    Format.HELP_NETWORK,
]

# Participant roles (enrollment.ParticipantRole values) per format; bipartite side a first.
FORMAT_ROLES: dict[str, tuple[str, ...]] = {
    Format.PAIRS: ("peer",),
    Format.SHADOWING: ("host", "shadow"),
    Format.CIRCLES: ("member", "facilitator"),
    Format.BUDDIES: ("buddy", "newcomer"),
    Format.HELP_NETWORK: ("peer",),
}


# --- success metrics ------------------------------------------------------------------------
@dataclass(frozen=True)
class Metric:
    key: str
    label: str
    description: str
    target: float | None = None
    unit: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"key": self.key, "label": self.label, "target": self.target, "unit": self.unit}


METRICS: dict[str, Metric] = {
    metric.key: metric
    for metric in [
        Metric(
            "match_rate",
            "Match rate",
            "Share of active participants in a connection.",
            70,
            "%",
        ),
        Metric(
            "time_to_match_days",
            "Time to match",
            "Days from enrollment to a connection.",
            14,
            "days",
        ),
        Metric(
            "time_to_first_meeting_days",
            "Time to first meeting",
            "Days from the match to the first meeting held.",
            14,
            "days",
        ),
        Metric(
            "meetings_per_connection",
            "Meetings per connection",
            "Meetings held per connection.",
            4,
            "meetings",
        ),
        Metric(
            "goal_completion",
            "Goal completion",
            "Share of engagement-plan milestones completed.",
            60,
            "%",
        ),
        Metric(
            "satisfaction",
            "Satisfaction",
            "Average satisfaction in the program's surveys, from 1 to 5.",
            4,
            "/ 5",
        ),
        Metric(
            "likelihood_to_recommend",
            "Likelihood to recommend",
            "Net promoter score from the program's surveys: the share of promoters (9 or 10 "
            "out of 10) minus the share of detractors (0 to 6), from -100 to 100.",
            30,
            "NPS",
        ),
        Metric(
            "cross_team_ties",
            "New cross-team ties",
            "Connections between people in different departments or sites.",
            None,
            "ties",
        ),
        Metric(
            "retention",
            "Retention",
            "Participants still in the organisation a year later, against similar colleagues.",
            None,
            "%",
        ),
        Metric(
            "internal_moves",
            "Internal moves",
            "Participants who moved to another role internally, against similar colleagues.",
            None,
            "%",
        ),
        Metric(
            "time_to_productivity_days",
            "Newcomers settled",
            "Share of newcomers who say they are settled after 90 days.",
            80,
            "%",
        ),
    ]
}

BASE_METRICS = ["match_rate", "time_to_first_meeting_days", "meetings_per_connection"]
GOAL_METRICS: dict[str, list[str]] = {
    Goal.CROSS_FUNCTIONAL: ["cross_team_ties", "satisfaction", "internal_moves"],
    Goal.ONBOARDING: ["time_to_match_days", "time_to_productivity_days", "retention"],
    Goal.WELLBEING: ["satisfaction", "likelihood_to_recommend", "retention"],
    Goal.NETWORKING: ["cross_team_ties", "likelihood_to_recommend"],
    Goal.SKILL_LEARNING: ["goal_completion", "satisfaction"],
    Goal.CAREER_EXPLORATION: ["internal_moves", "goal_completion", "satisfaction"],
}


def metrics_for(keys: Iterable[str]) -> list[dict[str, Any]]:
    """Metric dicts (key, label, target, unit) for the given keys, unknown keys dropped."""
    return [METRICS[key].as_dict() for key in dict.fromkeys(keys) if key in METRICS]


# --- profile questions ----------------------------------------------------------------------
@dataclass(frozen=True)
class QuestionDefault:
    key: str
    label: str
    kind: str
    choices: tuple[str, ...] = ()
    help_text: str = ""
    is_required: bool = True

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "label": self.label,
            "kind": self.kind,
            "choices": list(self.choices),
            "help_text": self.help_text,
            "is_required": self.is_required,
        }


SKILLS_OFFERED = QuestionDefault(
    "skills_offered",
    "Skills you could share",
    QuestionKind.SKILLS_OFFERED,
    help_text="Pick from the organisation's skill list.",
)
SKILLS_WANTED = QuestionDefault(
    "skills_wanted",
    "Skills you want to learn",
    QuestionKind.SKILLS_WANTED,
    help_text="Pick from the organisation's skill list.",
)
INTERESTS = QuestionDefault(
    "interests",
    "What are you interested in?",
    QuestionKind.MULTIPLE_CHOICE,
    (
        "Leadership",
        "Data and analytics",
        "Product and design",
        "Customers",
        "Technology",
        "Sustainability",
        "Diversity and inclusion",
        "Wellbeing",
    ),
)
AVAILABILITY = QuestionDefault(
    "availability",
    "When can you usually meet?",
    QuestionKind.AVAILABILITY,
    help_text="Weekly time slots in your own time zone.",
)
MEETING_MODE = QuestionDefault(
    "meeting_mode",
    "How would you like to meet?",
    QuestionKind.SINGLE_CHOICE,
    ("In person", "Video call", "Either"),
)
MEETING_FREQUENCY = QuestionDefault(
    "meeting_frequency",
    "How often can you meet?",
    QuestionKind.SINGLE_CHOICE,
    ("Weekly", "Every two weeks", "Monthly"),
)
SUPPORT_TOPICS = QuestionDefault(
    "support_topics",
    "Which themes would you like to talk about?",
    QuestionKind.MULTIPLE_CHOICE,
    (
        "Stress and workload",
        "Working parents and carers",
        "Remote and hybrid work",
        "Returning from leave",
        "Career transitions",
        "Energy and balance",
    ),
)
CAREER_AREAS = QuestionDefault(
    "career_areas",
    "Which kinds of work would you like to explore or show?",
    QuestionKind.MULTIPLE_CHOICE,
    (
        "People management",
        "Technical expertise",
        "Product",
        "Data",
        "Sales and customers",
        "Operations",
        "People and HR",
        "Finance",
    ),
)
HOPES = QuestionDefault(
    "hopes",
    "What do you hope to get from this program?",
    QuestionKind.TEXT,
    is_required=False,
)

GOAL_QUESTIONS: dict[str, list[QuestionDefault]] = {
    Goal.CROSS_FUNCTIONAL: [SKILLS_OFFERED, SKILLS_WANTED, AVAILABILITY],
    Goal.ONBOARDING: [INTERESTS, MEETING_MODE, AVAILABILITY],
    Goal.WELLBEING: [SUPPORT_TOPICS, MEETING_MODE, AVAILABILITY],
    Goal.NETWORKING: [INTERESTS, MEETING_MODE],
    Goal.SKILL_LEARNING: [SKILLS_OFFERED, SKILLS_WANTED, MEETING_FREQUENCY],
    Goal.CAREER_EXPLORATION: [CAREER_AREAS, SKILLS_WANTED, AVAILABILITY],
}
FORMAT_QUESTIONS: dict[str, list[QuestionDefault]] = {
    Format.HELP_NETWORK: [
        QuestionDefault("skills_offered", "Topics you can help with", QuestionKind.SKILLS_OFFERED),
        QuestionDefault(
            "skills_wanted", "Topics you would like help with", QuestionKind.SKILLS_WANTED
        ),
    ],
}


# --- matching policy ------------------------------------------------------------------------
def _criterion(kind: str, weight: float, **parts: Any) -> dict[str, Any]:
    return {"kind": kind, **parts, "weight": weight}


NOT_IN_REPORTING_LINE = {"kind": "not_in_reporting_line"}

GOAL_CRITERIA: dict[str, list[dict[str, Any]]] = {
    Goal.CROSS_FUNCTIONAL: [
        _criterion("complement", 3, offer="skills_offered", want="skills_wanted"),
        _criterion("near", 1, field="years_experience", scale=10),
    ],
    Goal.ONBOARDING: [
        _criterion("same", 2, field="job_title"),
        _criterion("same", 1, field="level"),
        _criterion("same", 2, field="site"),
        _criterion("near", 1, field="utc_offset", scale=3),
        _criterion("overlap", 1, field="interests"),
    ],
    Goal.WELLBEING: [
        _criterion("overlap", 3, field="support_topics"),
        _criterion("overlap", 1, field="availability"),
        _criterion("different", 1, field="department"),
    ],
    Goal.NETWORKING: [
        _criterion("different", 3, field="department"),
        _criterion("overlap", 2, field="interests"),
        _criterion("different", 1, field="site"),
        _criterion("overlap", 1, field="languages"),
    ],
    Goal.SKILL_LEARNING: [
        _criterion("complement", 3, offer="skills_offered", want="skills_wanted"),
        _criterion("near", 1, field="utc_offset", scale=6),
        _criterion("overlap", 1, field="languages"),
    ],
    Goal.CAREER_EXPLORATION: [
        _criterion("overlap", 3, field="career_areas"),
        _criterion("complement", 2, offer="skills_offered", want="skills_wanted"),
        _criterion("near", 1, field="years_experience", scale=10),
    ],
}
GOAL_CONSTRAINTS: dict[str, list[dict[str, Any]]] = {
    Goal.CROSS_FUNCTIONAL: [{"kind": "must_differ", "field": "department"}],
    Goal.CAREER_EXPLORATION: [{"kind": "must_differ", "field": "department"}],
}
FORMAT_CONSTRAINTS: dict[str, list[dict[str, Any]]] = {
    # Shadowing happens in person: host and shadow work on the same site.
    Format.SHADOWING: [{"kind": "must_match", "field": "site"}],
    Format.CIRCLES: [{"kind": "max_gap", "field": "utc_offset", "max": 3}],
    Format.BUDDIES: [{"kind": "max_gap", "field": "utc_offset", "max": 3}],
}
FORMAT_CRITERIA: dict[str, list[dict[str, Any]]] = {
    Format.HELP_NETWORK: [
        _criterion("complement", 3, offer="skills_offered", want="skills_wanted"),
    ],
    # Circles should mix departments (DOMAIN.md), whatever the goals.
    Format.CIRCLES: [_criterion("different", 1, field="department")],
    # A buddy in a similar role on the same site, whatever the goals.
    Format.BUDDIES: [
        _criterion("same", 2, field="job_title"),
        _criterion("same", 2, field="site"),
    ],
}

DEFAULT_GROUP_SIZE = (4, 6)
DEFAULT_CAPACITY: dict[str, int] = {Format.SHADOWING: 2, Format.BUDDIES: 1}


def default_format(goals: Sequence[str]) -> str:
    """The format most of the goals point to; ties go to the more structured format."""
    votes = Counter(GOAL_FORMAT[goal] for goal in goals if goal in GOAL_FORMAT)
    if not votes:
        return Format.PAIRS
    best = max(votes.values())
    return next(fmt for fmt in FORMAT_PRIORITY if votes.get(fmt) == best)


def format_policy_settings(
    program_format: str, *, group_size: tuple[int, int] = DEFAULT_GROUP_SIZE
) -> dict[str, Any]:
    """The engine format and its side/group settings for a program format."""
    if program_format in (Format.SHADOWING, Format.BUDDIES):
        side_a, side_b = FORMAT_ROLES[program_format]
        return {"format": "bipartite", "sides": {"field": "role", "a": side_a, "b": side_b}}
    if program_format == Format.CIRCLES:
        return {"format": "circles", "group_size": [group_size[0], group_size[1]]}
    return {"format": "pairs"}


def _rule_identity(rule: dict[str, Any]) -> tuple[Any, ...]:
    return (rule["kind"], rule.get("field"), rule.get("offer"), rule.get("want"))


def default_policy(
    goals: Sequence[str],
    program_format: str,
    *,
    group_size: tuple[int, int] = DEFAULT_GROUP_SIZE,
) -> dict[str, Any]:
    """A matching policy (MATCHING.md shape) combining the goals' criteria and the format's rules.

    A criterion several goals share keeps its largest weight; only attributes the default
    questions or the directory provide are used.
    """
    criteria: dict[tuple[Any, ...], dict[str, Any]] = {}
    for rule in [
        *(rule for goal in goals for rule in GOAL_CRITERIA.get(goal, [])),
        *FORMAT_CRITERIA.get(program_format, []),
    ]:
        identity = _rule_identity(rule)
        if identity in criteria:
            criteria[identity]["weight"] = max(criteria[identity]["weight"], rule["weight"])
        else:
            criteria[identity] = copy.deepcopy(rule)
    constraints: dict[tuple[Any, ...], dict[str, Any]] = {}
    for rule in [
        NOT_IN_REPORTING_LINE,
        *(rule for goal in goals for rule in GOAL_CONSTRAINTS.get(goal, [])),
        *FORMAT_CONSTRAINTS.get(program_format, []),
    ]:
        constraints.setdefault(_rule_identity(rule), copy.deepcopy(rule))
    # Buddies and circles aim to include everyone; a newcomer without a buddy is a failure.
    objective = "participation" if program_format in (Format.BUDDIES, Format.CIRCLES) else "quality"
    question_keys = {question.key for question in default_questions(goals, program_format)}
    available = question_keys | set(DIRECTORY_ATTRIBUTES)
    return {
        **format_policy_settings(program_format, group_size=group_size),
        "objective": objective,
        "min_score": 0.0,
        "criterion": [
            rule for rule in criteria.values() if policy_fields({"criterion": [rule]}) <= available
        ],
        "constraint": list(constraints.values()),
    }


def default_questions(goals: Sequence[str], program_format: str) -> list[QuestionDefault]:
    """The goals' questions then the format's, each key once, ending with the open question."""
    chosen: dict[str, QuestionDefault] = {}
    for question in [
        *FORMAT_QUESTIONS.get(program_format, []),
        *(question for goal in goals for question in GOAL_QUESTIONS.get(goal, [])),
    ]:
        chosen.setdefault(question.key, question)
    # Complement criteria need both halves; asking for one alone would confuse people.
    if "skills_offered" in chosen or "skills_wanted" in chosen:
        chosen.setdefault("skills_offered", SKILLS_OFFERED)
        chosen.setdefault("skills_wanted", SKILLS_WANTED)
    chosen.setdefault(HOPES.key, HOPES)
    return list(chosen.values())


def default_metrics(goals: Sequence[str]) -> list[dict[str, Any]]:
    """Success metrics: match rate, first meetings, meetings, then what each goal aims at."""
    return metrics_for(
        [*BASE_METRICS, *(key for goal in goals for key in GOAL_METRICS.get(goal, []))]
    )


# --- training -------------------------------------------------------------------------------
@dataclass(frozen=True)
class TrainingDefault:
    title: str
    body: str
    kind: str = TrainingKind.ACKNOWLEDGE
    quiz: tuple[dict[str, Any], ...] = ()
    pass_mark_percent: int = 100
    is_required: bool = True

    def as_dict(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "body": self.body,
            "kind": self.kind,
            "quiz": [dict(item, choices=list(item["choices"])) for item in self.quiz],
            "pass_mark_percent": self.pass_mark_percent,
            "is_required": self.is_required,
        }


GOOD_PEER_MENTOR = TrainingDefault(
    "Being a good peer mentor",
    "Peer mentoring works when both of you give and take. Agree early how often you will meet "
    "and what each of you wants to learn.\n\n"
    "Listen more than you talk, ask open questions, and share your own experience rather than "
    "telling the other person what to do.\n\n"
    "What you hear stays between you unless someone is at risk. If a conversation raises a "
    "problem you can't help with, point to your HR partner or the employee assistance line.\n\n"
    "If it isn't working, say so kindly and tell your program manager: connections can be "
    "closed early and people re-matched.",
)
PEER_MENTOR_QUIZ = TrainingDefault(
    "Peer mentoring check",
    "Three short questions to check the essentials before you are matched.",
    kind=TrainingKind.QUIZ,
    quiz=(
        {
            "question": "What makes a first meeting go well?",
            "choices": (
                "Agreeing how often to meet and what each of you wants to learn",
                "Presenting your achievements",
                "Waiting for the other person to set the agenda",
            ),
            "answer": 0,
        },
        {
            "question": "Your peer tells you something personal. What do you do?",
            "choices": (
                "Mention it to their manager",
                "Keep it between you unless someone is at risk",
                "Write it in the shared notes",
            ),
            "answer": 1,
        },
        {
            "question": "The connection is not working for you. What is the best next step?",
            "choices": (
                "Stop replying",
                "Keep meeting anyway until the program ends",
                "Say so kindly and tell your program manager",
            ),
            "answer": 2,
        },
    ),
    pass_mark_percent=67,
)
FORMAT_TRAINING: dict[str, list[TrainingDefault]] = {
    Format.SHADOWING: [
        TrainingDefault(
            "Hosting and shadowing safely",
            "Shadows join low-risk work only: no customer decisions, no access to restricted "
            "data, no production changes. Hosts plan a few half-days in advance and explain the "
            "why behind the work. Shadows prepare questions and share what they saw afterwards.",
            is_required=False,
        )
    ],
    Format.CIRCLES: [
        TrainingDefault(
            "Taking part in a circle",
            "Circles work with a short agenda, a shared theme and everyone speaking. A "
            "facilitator, if your circle has one, keeps time; what is said in the circle stays "
            "in the circle.",
            is_required=False,
        )
    ],
    Format.BUDDIES: [
        TrainingDefault(
            "Welcoming a newcomer",
            "Buddies answer the questions newcomers hesitate to ask their manager: where "
            "things are, who to ask, how work really gets done. Meet in the first week, then "
            "every week or two for the first three months.",
            is_required=False,
        )
    ],
}


def default_training(program_format: str) -> list[TrainingDefault]:
    """The two peer mentoring basics (acknowledge, 3-question quiz) and a format guide."""
    return [GOOD_PEER_MENTOR, PEER_MENTOR_QUIZ, *FORMAT_TRAINING.get(program_format, [])]


@dataclass(frozen=True)
class ProgramDefaults:
    """Everything a new program starts with; see `program_defaults`."""

    format: str
    questions: list[QuestionDefault]
    matching_policy: dict[str, Any]
    success_metrics: list[dict[str, Any]]
    training: list[TrainingDefault]
    default_capacity: int = 1
    group_size: tuple[int, int] = DEFAULT_GROUP_SIZE
    roles: tuple[str, ...] = field(default_factory=tuple)


def program_defaults(goals: Sequence[str], program_format: str | None = None) -> ProgramDefaults:
    """Defaults for a program with these goals (unknown goals ignored) and optional format."""
    goals = [goal for goal in dict.fromkeys(goals) if goal in GOAL_FORMAT]
    chosen_format = program_format or default_format(goals)
    return ProgramDefaults(
        format=chosen_format,
        questions=default_questions(goals, chosen_format),
        matching_policy=default_policy(goals, chosen_format),
        success_metrics=default_metrics(goals),
        training=default_training(chosen_format),
        default_capacity=DEFAULT_CAPACITY.get(chosen_format, 1),
        roles=FORMAT_ROLES[chosen_format],
    )
