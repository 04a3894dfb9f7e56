"""Survey totals that respect anonymity: the only way survey answers leave this app.

The rules (docs/surveys.md explains them for people):

1. Every figure counts PEOPLE, not responses (one person answering three closing surveys is one
   person), through `person_number`. A figure based on fewer people than the
   program's `anonymity_threshold` is suppressed: no number, a note instead. That holds for a
   whole survey, for each question, and for each group of a breakdown.
2. A breakdown (by department, site or track) never lets a hidden group be worked out by
   subtracting the shown groups from the total: when the hidden groups add up to fewer people
   than the threshold, the smallest shown groups are hidden with them until they do not.
3. Free-text answers are shown only when the question was answered by at least the threshold,
   sorted alphabetically (so their order says nothing), never with a name and never per group.
4. Nothing here returns a response or answer row, or anything that identifies its author.
5. Results move only in steps that cannot isolate one answer: every figure counts released
   responses only (`SurveyResponse.is_released`). A survey's waiting responses are released
   together once they come from at least the threshold of people
   (`services.answering.responses_release_batch`), and all of them when it closes
   (`survey_close`). Comparing the results before and after one person answers shows no
   change, so it does not reveal her rating, her score or her words.

Every selector checks that the viewer manages the program (PermissionDenied otherwise) and runs
a constant number of queries, whatever the number of responses.

One module per scope: counting (the statistics, tallies and the group-hiding rule every
figure goes through), one_survey (a survey's results), program (a program's measures) and
across_programs (the survey overview of every program a viewer manages).
"""

from peermentor.surveys.aggregates.across_programs import (
    ProgramSurveyOverview,
    programs_survey_overview,
)
from peermentor.surveys.aggregates.counting import (
    BREAKDOWNS,
    TEXT_ANSWERS_LIMIT,
    ChoiceStats,
    Group,
    NpsStats,
    RatingStats,
    hidden_groups,
    require_results_viewer,
    suppression_note,
)
from peermentor.surveys.aggregates.one_survey import (
    QuestionResult,
    ResponseRate,
    SurveyResults,
    survey_results,
)
from peermentor.surveys.aggregates.program import (
    AssessmentChange,
    DimensionChange,
    NpsSummary,
    RatingSummary,
    assessment_change,
    nps_summary,
    response_rate,
    satisfaction_summary,
)

__all__ = [
    "BREAKDOWNS",
    "TEXT_ANSWERS_LIMIT",
    "AssessmentChange",
    "ChoiceStats",
    "DimensionChange",
    "Group",
    "NpsStats",
    "NpsSummary",
    "ProgramSurveyOverview",
    "QuestionResult",
    "RatingStats",
    "RatingSummary",
    "ResponseRate",
    "SurveyResults",
    "assessment_change",
    "hidden_groups",
    "nps_summary",
    "programs_survey_overview",
    "require_results_viewer",
    "response_rate",
    "satisfaction_summary",
    "suppression_note",
    "survey_results",
]
