"""Copying a program for its next cohort, with what every app keeps per program."""

from django.db import transaction

from peermentor.accounts.models import User
from peermentor.engagement.services import plan_templates_copy
from peermentor.notifications.services import nudge_settings_copy
from peermentor.programs import services as programs
from peermentor.programs.models import Program
from peermentor.selfmatch.services import self_match_settings_copy
from peermentor.surveys.services import surveys_copy


@transaction.atomic
def program_copy(*, actor: User, program: Program, name: str | None = None) -> Program:
    """After the call a new draft program exists with the source's settings (self-match on or
    off and how requests work, reminder thresholds), questions, tracks, training modules,
    managers, engagement plan templates and surveys (as drafts), and no dates, participants
    or answers: the next cohort."""
    new = programs.program_copy(actor=actor, program=program, name=name)
    plan_templates_copy(actor=actor, source=program, target=new)
    surveys_copy(actor=actor, source=program, target=new)
    self_match_settings_copy(source=program, target=new)
    nudge_settings_copy(source=program, target=new)
    return new
