"""The survey overview of every program a viewer manages."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Count, Q

from peermentor.accounts.models import User
from peermentor.programs.models import Program, ProgramManager
from peermentor.surveys.aggregates.counting import (
    NpsStats,
    RatingStats,
    _Tally,
    _tally,
    suppression_note,
)
from peermentor.surveys.aggregates.one_survey import ResponseRate
from peermentor.surveys.aggregates.program import NpsSummary, RatingSummary
from peermentor.surveys.defaults import SATISFACTION_KEY
from peermentor.surveys.models import (
    QuestionKind,
    SurveyAnswer,
    SurveyInvitation,
)


@dataclass(frozen=True)
class ProgramSurveyOverview:
    program_id: int
    satisfaction: RatingSummary
    nps: NpsSummary
    response_rate: ResponseRate


def _manageable_ids(viewer: User, programs: Iterable[Program]) -> dict[int, Program]:
    programs = list(programs)
    if not (getattr(viewer, "is_authenticated", False) and viewer.is_active):
        return {}
    if viewer.is_org_admin:
        return {program.pk: program for program in programs}
    managed = set(
        ProgramManager.objects.filter(
            user_id=viewer.pk, program_id__in=[p.pk for p in programs]
        ).values_list("program_id", flat=True)
    )
    return {program.pk: program for program in programs if program.pk in managed}


def programs_survey_overview(
    *, viewer: User, programs: Iterable[Program]
) -> dict[int, ProgramSurveyOverview]:
    """Satisfaction, likelihood to recommend and response rate for each of `programs` the
    viewer manages (the others are left out), each program against its own threshold. A
    constant number of queries, whatever the number of programs."""
    allowed = _manageable_ids(viewer, programs)
    if not allowed:
        return {}
    by_program = "survey__program_id"
    base = SurveyAnswer.objects.filter(
        survey__program_id__in=list(allowed), number__isnull=False, response__is_released=True
    )
    satisfaction, _ = _tally(
        base.filter(question__key=SATISFACTION_KEY, question__kind=QuestionKind.RATING),
        by=by_program,
        breakdown=None,
    )
    nps, _ = _tally(
        base.filter(question__kind=QuestionKind.NPS),
        by=by_program,
        breakdown=None,
    )
    rates = {
        row["survey__program_id"]: ResponseRate(row["invited"], row["answered"])
        for row in SurveyInvitation.objects.filter(survey__program_id__in=list(allowed))
        .values("survey__program_id")
        .annotate(invited=Count("pk"), answered=Count("pk", filter=Q(answered_at__isnull=False)))
        .order_by()
    }
    overview = {}
    for program_id, program in allowed.items():
        threshold = program.anonymity_threshold
        note = suppression_note(threshold)
        found = satisfaction.get(program_id, _Tally())
        rating = (
            RatingSummary(found.people, False, "", RatingStats.from_counts(found.values), [])
            if found.people >= threshold
            else RatingSummary(None, True, note, None, [])
        )
        found = nps.get(program_id, _Tally())
        recommend = (
            NpsSummary(found.people, False, "", NpsStats.from_counts(found.values), [])
            if found.people >= threshold
            else NpsSummary(None, True, note, None, [])
        )
        overview[program_id] = ProgramSurveyOverview(
            program_id=program_id,
            satisfaction=rating,
            nps=recommend,
            response_rate=rates.get(program_id, ResponseRate(0, 0)),
        )
    return overview
