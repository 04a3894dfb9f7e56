"""Every write in enrollment: invitations, enrolling, approval, answers, training, readiness.

One module per idea: enrolling (enrol, approve, decline, withdraw), answering (profile
answers), training, readiness, invitations (send, e-mail, claim or link an account).
"""

from peermentor.enrollment.invitation_emails import invitation_emails_send
from peermentor.enrollment.services.answering import answers_save
from peermentor.enrollment.services.enrolling import (
    participant_approve,
    participant_decline,
    participant_enroll,
    participant_withdraw,
)
from peermentor.enrollment.services.invitations import (
    InvitationReport,
    invitation_account_claim,
    invitation_account_link,
    invitation_resend,
    invitations_send,
)
from peermentor.enrollment.services.readiness import (
    participant_refresh_readiness,
    program_participants_refresh_readiness,
)
from peermentor.enrollment.services.training import TrainingResult, training_complete

__all__ = [
    "InvitationReport",
    "TrainingResult",
    "answers_save",
    "invitation_account_claim",
    "invitation_account_link",
    "invitation_emails_send",
    "invitation_resend",
    "invitations_send",
    "participant_approve",
    "participant_decline",
    "participant_enroll",
    "participant_refresh_readiness",
    "participant_withdraw",
    "program_participants_refresh_readiness",
    "training_complete",
]
