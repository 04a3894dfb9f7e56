"""The survey templates a program can start from, per format. Pure data: `survey_add_from_template`
turns one into a draft survey whose every question stays editable.

Why the 30-day pulse is not recommended by default: engagement already asks every connection's
members a named 1-5 check-in at 30 days and every 60 after (the health signal managers act on).
The survey pulse is its anonymous, program-wide complement — match quality and meeting
frequency, counted only in totals — for managers who want an honest measure on top; adding both
by default would ask people the same thing twice in the same week.
"""

from __future__ import annotations

from dataclasses import dataclass

from peermentor.programs.models import Format, Goal
from peermentor.surveys.models import QuestionKind, SurveyAudience, SurveyPurpose, SurveySchedule

# The goal dimensions of the pre/post self-assessment, in the order reports show them.
ASSESSMENT_DIMENSIONS: dict[str, str] = {
    "confidence": "Confidence",
    "skills": "Skills",
    "belonging": "Belonging",
    "network": "Network",
}
SATISFACTION_KEY = "satisfaction"
RECOMMEND_KEY = "recommend"


@dataclass(frozen=True)
class QuestionTemplate:
    key: str
    text: str
    kind: str
    choices: tuple[str, ...] = ()
    help_text: str = ""
    is_required: bool = True


@dataclass(frozen=True)
class SurveyTemplate:
    key: str
    title: str
    description: str
    purpose: str
    schedule: str
    audience: str
    questions: tuple[QuestionTemplate, ...]
    days_after_start: int | None = None
    is_anonymous: bool = True
    is_recommended: bool = True
    when: str = ""


# What people call their connection, per format (used inside questions).
CONNECTION_WORDS: dict[str, str] = {
    Format.PAIRS: "your peer pairing",
    Format.SHADOWING: "your shadowing placement",
    Format.CIRCLES: "your circle",
    Format.BUDDIES: "your buddy pairing",
    Format.HELP_NETWORK: "the help network",
}

WHAT_HELPED: dict[str, tuple[str, ...]] = {
    Format.PAIRS: (
        "Learning from my peer",
        "Teaching my peer",
        "Working on real tasks together",
    ),
    Format.SHADOWING: (
        "Assignments with my host",
        "Seeing another function at work",
        "Time my manager set aside for it",
    ),
    Format.CIRCLES: (
        "Our group sessions",
        "Hearing how others handle things",
        "The facilitator",
    ),
    Format.BUDDIES: (
        "Tips about how things work here",
        "Introductions to other people",
        "Someone to ask without feeling silly",
    ),
    Format.HELP_NETWORK: (
        "Getting help quickly",
        "Meeting people outside my team",
        "Being able to help others",
    ),
}
COMMON_HELPED = ("Regular meetings", "Having clear goals", "Support from the program team")

AGREEMENT_HELP = "1 = not at all, 5 = completely."


def _skills_statement(goals: list[str]) -> str:
    """The skills dimension in the words of the program's main goal."""
    if Goal.ONBOARDING in goals:
        return "I know how to get things done in this organisation."
    if Goal.CROSS_FUNCTIONAL in goals or Goal.CAREER_EXPLORATION in goals:
        return "I understand how other functions work and which roles I could grow into."
    if Goal.SKILL_LEARNING in goals:
        return "I have the skills I want to develop for my work."
    return "I have the skills I need to grow in my role."


def assessment_questions(goals: list[str]) -> tuple[QuestionTemplate, ...]:
    """The same four statements before and after, so that answers can be compared."""
    statements = {
        "confidence": "I feel confident taking on new challenges at work.",
        "skills": _skills_statement(goals),
        "belonging": "I feel I belong in this organisation.",
        "network": "I know people outside my immediate team whom I can ask for help.",
    }
    return tuple(
        QuestionTemplate(
            key=key, text=statements[key], kind=QuestionKind.RATING, help_text=AGREEMENT_HELP
        )
        for key in ASSESSMENT_DIMENSIONS
    )


def _is_connection_format(program_format: str) -> bool:
    # Help-network meetings are one-off: nothing to be halfway through or to close.
    return program_format != Format.HELP_NETWORK


def templates_for(program_format: str, goals: list[str] | None = None) -> list[SurveyTemplate]:
    """The templates offered to a program of `program_format` with `goals`."""
    goals = list(goals or [])
    by_connection = _is_connection_format(program_format)
    templates: list[SurveyTemplate] = []
    if by_connection:
        connection_words = CONNECTION_WORDS.get(program_format, "your connection")
        templates.append(_pulse_template(connection_words))
        templates.append(_mid_point_template())
    end_schedule = SurveySchedule.AT_CLOSURE if by_connection else SurveySchedule.ON_DATE
    end_audience = (
        SurveyAudience.CONNECTION_MEMBERS if by_connection else SurveyAudience.PARTICIPANTS
    )
    end_when = "when each connection ends" if by_connection else "on the date you choose"
    helped = WHAT_HELPED.get(program_format, ()) + COMMON_HELPED
    templates.append(_closing_template(end_schedule, end_audience, end_when, helped))
    templates.append(_pre_assessment_template(goals))
    templates.append(_post_assessment_template(goals, end_schedule, end_audience, end_when))
    return templates


def _pulse_template(connection_words: str) -> SurveyTemplate:
    return SurveyTemplate(
        key="pulse_30",
        title="30-day pulse",
        description=(
            "A minute to tell us how it is going. Anonymous: the program team sees only totals."
        ),
        purpose=SurveyPurpose.PULSE,
        schedule=SurveySchedule.AFTER_START,
        audience=SurveyAudience.CONNECTION_MEMBERS,
        days_after_start=30,
        is_recommended=False,
        when="30 days after each connection starts",
        questions=(
            QuestionTemplate(
                key="match_quality",
                text=f"How well does {connection_words} suit you so far?",
                kind=QuestionKind.RATING,
                help_text="1 = not at all, 5 = very well.",
            ),
            QuestionTemplate(
                key="meetings_so_far",
                text="How often have you met so far?",
                kind=QuestionKind.SINGLE_CHOICE,
                choices=("Not yet", "Once", "Two or three times", "More than three times"),
            ),
            QuestionTemplate(
                key="pulse_comment",
                text="Is there anything that would help?",
                kind=QuestionKind.TEXT,
                is_required=False,
            ),
        ),
    )


def _mid_point_template() -> SurveyTemplate:
    return SurveyTemplate(
        key="mid_point",
        title="Mid-point review",
        description="Halfway through: are you getting what you hoped for?",
        purpose=SurveyPurpose.MID_POINT,
        schedule=SurveySchedule.MID_POINT,
        audience=SurveyAudience.CONNECTION_MEMBERS,
        when="halfway between a connection's start and its planned end",
        questions=(
            QuestionTemplate(
                key="progress",
                text="How much progress have you made towards your goals so far?",
                kind=QuestionKind.RATING,
                help_text="1 = none yet, 5 = a lot.",
            ),
            QuestionTemplate(
                key="on_track",
                text="Do you expect to reach your goals by the end?",
                kind=QuestionKind.SINGLE_CHOICE,
                choices=("Yes", "Probably", "Unlikely", "Not sure yet"),
            ),
            QuestionTemplate(
                key="second_half",
                text="What would make the second half more useful?",
                kind=QuestionKind.TEXT,
                is_required=False,
            ),
        ),
    )


def _closing_template(
    end_schedule: str, end_audience: str, end_when: str, helped: tuple[str, ...]
) -> SurveyTemplate:
    return SurveyTemplate(
        key="closing",
        title="Closing survey",
        description="Thank you for taking part. Your answers shape the next cohort.",
        purpose=SurveyPurpose.CLOSING,
        schedule=end_schedule,
        audience=end_audience,
        when=end_when,
        questions=(
            QuestionTemplate(
                key=SATISFACTION_KEY,
                text="Overall, how satisfied are you with the program?",
                kind=QuestionKind.RATING,
                help_text="1 = very dissatisfied, 5 = very satisfied.",
            ),
            QuestionTemplate(
                key=RECOMMEND_KEY,
                text="How likely are you to recommend this program to a colleague?",
                kind=QuestionKind.NPS,
                help_text="0 = not at all likely, 10 = extremely likely.",
            ),
            QuestionTemplate(
                key="what_helped",
                text="What helped you most?",
                kind=QuestionKind.MULTIPLE_CHOICE,
                choices=helped,
                help_text="Choose all that apply.",
                is_required=False,
            ),
            QuestionTemplate(
                key="what_helped_text",
                text="In your own words: what helped, and what would you change?",
                kind=QuestionKind.TEXT,
                is_required=False,
            ),
        ),
    )


def _pre_assessment_template(goals: list[str]) -> SurveyTemplate:
    return SurveyTemplate(
        key="pre_assessment",
        title="Self-assessment: before",
        description=(
            "Four statements about where you are today. You answer the same ones at the "
            "end, so the program can show what changed. Anonymous."
        ),
        purpose=SurveyPurpose.PRE_ASSESSMENT,
        schedule=SurveySchedule.AT_ENROLLMENT,
        audience=SurveyAudience.PARTICIPANTS,
        when="when each participant enrolls",
        questions=assessment_questions(goals),
    )


def _post_assessment_template(
    goals: list[str], end_schedule: str, end_audience: str, end_when: str
) -> SurveyTemplate:
    return SurveyTemplate(
        key="post_assessment",
        title="Self-assessment: after",
        description=(
            "The same four statements as when you joined, to show what changed. Anonymous."
        ),
        purpose=SurveyPurpose.POST_ASSESSMENT,
        schedule=end_schedule,
        audience=end_audience,
        when=end_when,
        questions=assessment_questions(goals),
    )


def template_for(program_format: str, goals: list[str] | None, key: str) -> SurveyTemplate | None:
    for template in templates_for(program_format, goals):
        if template.key == key:
            return template
    return None
