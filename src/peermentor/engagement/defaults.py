"""The engagement plans every program starts with, one per kind of connection.

Programs get copies (plan_templates_ensure_defaults) that their managers may change; a new
connection copies its program's template once, when it starts (plans_instantiate_many; or
plan_instantiate on first visit for one that has no plan). Due dates are days after the
connection starts.
"""

from dataclasses import dataclass
from decimal import Decimal

from peermentor.connections.models import ConnectionKind
from peermentor.engagement.models import PlanItemKind
from peermentor.enrollment.models import ParticipantRole


@dataclass(frozen=True)
class DefaultItem:
    kind: str
    title: str
    description: str = ""
    due_after_days: int | None = None
    for_role: str = ""
    effort_hours: Decimal | None = None
    learning_goal: str = ""


GOAL, MILESTONE, TASK, ASSIGNMENT = (
    PlanItemKind.GOAL,
    PlanItemKind.MILESTONE,
    PlanItemKind.TASK,
    PlanItemKind.ASSIGNMENT,
)

PEER_PAIR = (
    "Peer pair plan",
    [
        DefaultItem(
            GOAL,
            "Agree what each of you wants to learn",
            "Write down one or two goals each, and what the other can offer towards them.",
            due_after_days=14,
        ),
        DefaultItem(
            MILESTONE,
            "First meeting",
            "Meet, get to know each other, and agree how often you will meet.",
            due_after_days=14,
        ),
        DefaultItem(
            TASK,
            "Share one resource that helped you",
            "An article, a course, a tool or a person worth knowing.",
            due_after_days=30,
        ),
        DefaultItem(
            MILESTONE,
            "Mid-point review",
            "Look back at your goals: what has moved, what needs a change of plan?",
            due_after_days=90,
        ),
        DefaultItem(
            MILESTONE,
            "Closing reflection",
            "What did you learn, and what will you keep doing after the program?",
            due_after_days=180,
        ),
    ],
)

SHADOWING = (
    "Job shadowing plan",
    [
        DefaultItem(
            GOAL,
            "Agree what the shadow wants to learn about this role",
            "The shadow names two or three things to see or try; the host says what is realistic.",
            due_after_days=7,
        ),
        DefaultItem(
            MILESTONE,
            "First shadowing day",
            "Spend a first day or half-day together in the host's team.",
            due_after_days=14,
            for_role=ParticipantRole.HOST,
        ),
        DefaultItem(
            ASSIGNMENT,
            "A first low-risk assignment",
            "A concrete task the shadow can do with the host's data or tools, with no customer "
            "or production impact (for example: draft a summary of a team meeting, review a "
            "document, reproduce a small analysis).",
            due_after_days=21,
            for_role=ParticipantRole.SHADOW,
            effort_hours=Decimal("2"),
            learning_goal="How the host's team works day to day and what good looks like there.",
        ),
        DefaultItem(
            TASK,
            "Reflect on each assignment",
            "After each assignment the shadow writes what they did, learned and found hard.",
            due_after_days=28,
            for_role=ParticipantRole.SHADOW,
        ),
        DefaultItem(
            TASK,
            "Give feedback on each reflection",
            "The host answers each reflection: what went well and one thing to try next time.",
            due_after_days=35,
            for_role=ParticipantRole.HOST,
        ),
        DefaultItem(
            MILESTONE,
            "Closing conversation",
            "What the shadow takes back to their own team, and whether to stay in touch.",
            due_after_days=60,
        ),
    ],
)

BUDDY = (
    "Onboarding buddy checklist",
    [
        DefaultItem(
            MILESTONE,
            "First-week welcome",
            "Meet in the first days: coffee, a tour or a video call.",
            due_after_days=3,
            for_role=ParticipantRole.BUDDY,
        ),
        DefaultItem(
            TASK,
            "First week: who is who",
            "Introduce the newcomer to three people worth knowing outside their own team.",
            due_after_days=7,
            for_role=ParticipantRole.BUDDY,
        ),
        DefaultItem(
            TASK,
            "First week: tools and places",
            "Where things live: chat channels, documents, the kitchen, how to book a room.",
            due_after_days=7,
        ),
        DefaultItem(
            TASK,
            "First month: unwritten rules",
            "How decisions are made, when meetings are skipped, who to ask about what.",
            due_after_days=30,
        ),
        DefaultItem(
            MILESTONE,
            "First-month check-in",
            "What is going well, what is still confusing, what would help now.",
            due_after_days=30,
        ),
    ],
)

CIRCLE = (
    "Circle session agenda",
    [
        DefaultItem(
            GOAL,
            "Agree the circle's theme and ground rules",
            "What you will talk about, how often you meet, and that what is said stays here.",
            due_after_days=14,
        ),
        DefaultItem(
            MILESTONE,
            "First session: introductions",
            "Each member shares a current challenge related to the theme (about 5 minutes each).",
            due_after_days=14,
        ),
        DefaultItem(
            TASK,
            "Every session: check-in round",
            "One sentence each: how you are and one thing since last time.",
        ),
        DefaultItem(
            TASK,
            "Every session: one deep dive",
            "One member brings a question; the others ask questions before giving advice.",
        ),
        DefaultItem(
            TASK,
            "Every session: commitments",
            "Each member names one small thing to try before the next session.",
        ),
        DefaultItem(
            MILESTONE,
            "Closing session",
            "Look back: what changed for each of you, and what you want to keep.",
            due_after_days=180,
        ),
    ],
)

FLASH = (
    "Flash meeting",
    [
        DefaultItem(
            TASK,
            "Say what you need help with",
            "A few lines before you meet, so the time goes to the answer.",
            due_after_days=2,
        ),
        DefaultItem(MILESTONE, "Meet once", "A short call or coffee.", due_after_days=7),
        DefaultItem(
            TASK,
            "Say thank you and decide what next",
            "Keep it one-off, or turn it into an ongoing connection.",
            due_after_days=10,
        ),
    ],
)

DEFAULT_TEMPLATES: dict[str, tuple[str, list[DefaultItem]]] = {
    ConnectionKind.PAIR: PEER_PAIR,
    ConnectionKind.SHADOWING: SHADOWING,
    ConnectionKind.BUDDY: BUDDY,
    ConnectionKind.CIRCLE: CIRCLE,
    ConnectionKind.FLASH: FLASH,
}
