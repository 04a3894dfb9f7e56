"""Publishing a match run: every use of the run's proposals, in one transaction."""

from django.db import transaction

from peermentor.accounts.models import User
from peermentor.matches import services as matches
from peermentor.matches.models import MatchRun
from peermentor.selfmatch.models import MatchRequest, RequestStatus
from peermentor.selfmatch.services import requests_cancel_unhonourable

WITHDRAWN_REASON = "{name} has been matched by the program's match run."


@transaction.atomic
def match_run_publish(*, actor: User, run: MatchRun) -> int:
    """Afterwards every proposal of the run that is not excluded is an active connection with
    its plan, no pending self-match request involves someone the run placed who has no room
    left (both people are told), and the run is published; its members are told by e-mail
    once this commits. All or nothing. Returns how many connections were published."""
    placed = matches.match_run_place(actor=actor, run=run)
    concerned = _with_pending_requests(program_id=run.program_id, among=placed.participant_ids)
    withdrawn = (
        requests_cancel_unhonourable(
            actor=actor, participant_ids=sorted(concerned), reason=WITHDRAWN_REASON
        )
        if concerned
        else 0
    )
    return matches.match_run_mark_published(
        actor=actor, run=run, placed=placed, requests_withdrawn=withdrawn
    )


def _with_pending_requests(*, program_id: int, among: set[int]) -> set[int]:
    """Those of `among` in a pending request of the program: one read of the program's pending
    requests, so that only the people concerned are locked, however many were placed."""
    return {
        participant_id
        for pair in MatchRequest.objects.filter(
            program_id=program_id, status=RequestStatus.PENDING
        ).values_list("requester_id", "recipient_id")
        for participant_id in pair
        if participant_id in among
    }
