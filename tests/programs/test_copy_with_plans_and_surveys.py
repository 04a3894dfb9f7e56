"""Copying a program for the next cohort also copies its plans and surveys (issue 7)."""

import pytest

from peermentor.engagement.models import PlanTemplate
from peermentor.engagement.services import plan_templates_ensure_defaults
from peermentor.flows.program_copy import program_copy
from peermentor.surveys.models import Survey
from tests.factories import SurveyFactory, SurveyQuestionFactory

pytestmark = pytest.mark.django_db


def test_the_next_cohort_gets_the_plans_and_draft_surveys(personas):
    source = personas.program
    plan_templates_ensure_defaults(program=source)
    survey = SurveyFactory(program=source, title="Closing survey")
    SurveyQuestionFactory(survey=survey)

    copy = program_copy(actor=personas.manager, program=source)

    assert set(PlanTemplate.objects.filter(program=copy).values_list("kind", flat=True)) == set(
        PlanTemplate.objects.filter(program=source).values_list("kind", flat=True)
    )
    copied = Survey.objects.get(program=copy)
    assert copied.title == "Closing survey"
    assert copied.questions.count() == 1
    # The source is untouched.
    assert Survey.objects.filter(program=source).count() == 1
