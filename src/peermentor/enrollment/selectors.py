"""Reads for enrollment pages (and for matches and insights), bounded and viewer-aware."""

from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any, TypedDict

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.db.models import Count, Exists, IntegerField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import timezone

from peermentor.accounts.models import User
from peermentor.enrollment import permissions
from peermentor.enrollment.answers import answer_display
from peermentor.enrollment.eligibility import (
    check_eligibility,
    eligible_people_q,
)
from peermentor.enrollment.models import (
    Answer,
    Invitation,
    Participant,
    ParticipantStatus,
    TrainingCompletion,
)
from peermentor.enrollment.tokens import MAX_AGE as INVITATION_MAX_AGE
from peermentor.people.models import Department, Person, Site
from peermentor.programs.models import Program, ProgramStatus, Track

if TYPE_CHECKING:  # django-stubs-ext is a development dependency
    from django_stubs_ext import WithAnnotations


class Progress(TypedDict):
    """What with_progress annotates on each participant."""

    required_answered: int
    required_trained: int


def _long_date(day: date) -> str:
    return f"{day.day} {day:%B %Y}"


def enrollment_closed_reason(program: Program, *, today: date) -> str:
    """Why `program` takes no enrollments today, or "" when it does."""
    if program.status != ProgramStatus.ENROLLING:
        return "Enrollment is not open for this program."
    if program.enrollment_opens_on and today < program.enrollment_opens_on:
        return f"Enrollment opens on {_long_date(program.enrollment_opens_on)}."
    if program.enrollment_closes_on and today > program.enrollment_closes_on:
        return f"Enrollment closed on {_long_date(program.enrollment_closes_on)}."
    return ""


def _open_programs_q(today: date) -> Q:
    return (
        Q(status=ProgramStatus.ENROLLING)
        & (Q(enrollment_opens_on__isnull=True) | Q(enrollment_opens_on__lte=today))
        & (Q(enrollment_closes_on__isnull=True) | Q(enrollment_closes_on__gte=today))
    )


def person_for_user(user: User) -> Person | None:
    """The directory entry behind a signed-in account (with what eligibility names)."""
    if not getattr(user, "is_authenticated", False):
        return None
    return Person.objects.select_related("department", "site", "manager").filter(user=user).first()


# --- progress ---------------------------------------------------------------------------------
def _count(model: Any, **filters: Any) -> Coalesce:
    rows = (
        model.objects.filter(participant=OuterRef("pk"), **filters)
        .order_by()
        .values("participant")
        .annotate(count=Count("pk"))
        .values("count")[:1]
    )
    return Coalesce(Subquery(rows, output_field=IntegerField()), Value(0))


def with_progress(
    participants: QuerySet[Participant],
) -> "QuerySet[WithAnnotations[Participant, Progress]]":
    """Annotate required answers given and required modules done, one subquery each.

    Answers are stored only when not blank, so a count is "questions answered".
    """
    return participants.annotate(
        required_answered=_count(Answer, question__is_required=True),
        required_trained=_count(TrainingCompletion, module__is_required=True),
    )


@dataclass(frozen=True)
class ProgramRequirements:
    required_questions: int
    required_modules: int


def program_requirements(program: Program) -> ProgramRequirements:
    return ProgramRequirements(
        required_questions=program.questions.filter(is_required=True).count(),
        required_modules=program.training_modules.filter(is_required=True).count(),
    )


def participant_missing(
    participant: "WithAnnotations[Participant, Progress]", requirements: ProgramRequirements
) -> list[str]:
    """What still stands between `participant` (annotated by with_progress) and matching."""
    if participant.status == ParticipantStatus.DECLINED:
        return ["Not approved"]
    if participant.status == ParticipantStatus.WITHDRAWN:
        return ["Withdrawn"]
    missing: list[str] = []
    if participant.status == ParticipantStatus.PENDING_APPROVAL:
        missing.append("Waiting for approval")
    unanswered = requirements.required_questions - participant.required_answered
    if unanswered > 0:
        missing.append(
            f"Profile: {unanswered} required question{'s' if unanswered != 1 else ''} unanswered"
        )
    modules_left = requirements.required_modules - participant.required_trained
    if modules_left > 0:
        missing.append(
            f"Training: {modules_left} of {requirements.required_modules} "
            f"module{'s' if requirements.required_modules != 1 else ''} left"
        )
    return missing


def next_step(participant: Participant) -> str:
    """The one thing the participant should do next, from the stored readiness flags."""
    if participant.status == ParticipantStatus.DECLINED:
        return "Not approved"
    if participant.status == ParticipantStatus.WITHDRAWN:
        return "Withdrawn"
    if not participant.is_profile_complete:
        return "Complete your profile"
    if not participant.is_training_complete:
        return "Finish your training"
    if participant.status == ParticipantStatus.PENDING_APPROVAL:
        return "Waiting for approval"
    return "Ready — waiting for a match"


# --- one participation --------------------------------------------------------------------------
def participation_for(*, viewer: User, pk: int) -> Participant:
    """The participation `viewer` may see, else Http404 (outsiders never learn it exists)."""
    participant = (
        Participant.objects.select_related(
            "program",
            "track",
            "person",
            "person__user",
            "person__department",
            "person__site",
            "person__manager",
        )
        .filter(pk=pk)
        .first()
    )
    if participant is None or not permissions.can_view_participation(viewer, participant):
        raise Http404("No such participation.")
    return participant


@dataclass
class QuestionRow:
    question: Any
    answer: Answer | None
    display: str


@dataclass
class ModuleRow:
    module: Any
    completion: TrainingCompletion | None

    @property
    def is_done(self) -> bool:
        return self.completion is not None


@dataclass
class ParticipationDetail:
    participant: Participant
    can_see_answers: bool
    can_decide: bool
    can_withdraw: bool
    is_own: bool
    questions: list[QuestionRow] = field(default_factory=list)
    modules: list[ModuleRow] = field(default_factory=list)

    @property
    def can_edit(self) -> bool:
        """Only the participant fills in their profile and training, while taking part."""
        return self.is_own and self.participant.status in (
            ParticipantStatus.PENDING_APPROVAL,
            ParticipantStatus.ENROLLED,
        )

    @property
    def modules_done(self) -> int:
        return sum(1 for row in self.modules if row.is_done)

    @property
    def next_step(self) -> str:
        return next_step(self.participant)


def participation_detail(*, viewer: User, participant: Participant) -> ParticipationDetail:
    """What the participation page shows this viewer: answers only to its owner and managers."""
    can_see_answers = permissions.can_see_answers(viewer, participant)
    detail = ParticipationDetail(
        participant=participant,
        can_see_answers=can_see_answers,
        can_decide=participant.status == ParticipantStatus.PENDING_APPROVAL
        and permissions.can_decide_participant(viewer, participant),
        can_withdraw=participant.status
        in (ParticipantStatus.PENDING_APPROVAL, ParticipantStatus.ENROLLED)
        and permissions.can_withdraw_participant(viewer, participant),
        is_own=permissions.is_own_participation(viewer, participant),
    )
    if permissions.can_see_progress(viewer, participant):
        completions = {item.module_id: item for item in participant.training_completions.all()}
        detail.modules = [
            ModuleRow(module, completions.get(module.pk))
            for module in participant.program.training_modules.all()
        ]
    if can_see_answers:
        answers = {answer.question_id: answer for answer in participant.answers.all()}
        detail.questions = [
            QuestionRow(
                question,
                answers.get(question.pk),
                answer_display(question, answers[question.pk]) if question.pk in answers else "",
            )
            for question in participant.program.questions.all()
        ]
    return detail


def participant_answers(*, participant: Participant) -> dict[str, Answer]:
    """Answers by question key (the caller has already checked the viewer may see them)."""
    return {
        answer.question.key: answer
        for answer in participant.answers.select_related("question").all()
    }


# --- the admin's participant list ---------------------------------------------------------------
READINESS_FILTERS = {"ready": "Ready to match", "not_ready": "Not ready yet"}


def participant_list(
    *,
    viewer: User,
    program: Program,
    status: str = "",
    track_id: int | None = None,
    readiness: str = "",
    search: str = "",
) -> "QuerySet[WithAnnotations[Participant, Progress]]":
    """Every participant of `program` with progress annotations; managers and admins only."""
    if not permissions.can_manage_program(viewer, program):
        raise PermissionDenied
    participants = with_progress(
        Participant.objects.filter(program=program).select_related(
            "person", "person__department", "person__site", "track"
        )
    )
    if status in ParticipantStatus.values:
        participants = participants.filter(status=status)
    if track_id:
        participants = participants.filter(track_id=track_id)
    if readiness == "ready":
        participants = participants.filter(ready_at__isnull=False)
    elif readiness == "not_ready":
        participants = participants.filter(ready_at__isnull=True)
    search = search.strip()
    if search:
        participants = participants.filter(
            Q(person__full_name__icontains=search) | Q(person__email__icontains=search)
        )
    return participants.order_by("person__full_name", "pk")


def invited_not_enrolled(
    *, viewer: User, program: Program, search: str = ""
) -> QuerySet[Invitation]:
    """Invitations of `program` whose person has not enrolled (nor applied), by name; for its
    managers. Two queries a page (the page and its count)."""
    if not permissions.can_manage_program(viewer, program):
        raise PermissionDenied
    invitations = (
        Invitation.objects.filter(program=program)
        .exclude(Exists(Participant.objects.filter(program=program, person=OuterRef("person"))))
        .select_related("person", "person__department", "track")
    )
    search = search.strip()
    if search:
        invitations = invitations.filter(
            Q(person__full_name__icontains=search) | Q(person__email__icontains=search)
        )
    return invitations.order_by("person__full_name", "pk")


def ready_participants(*, program: Program, track: Track | None = None) -> QuerySet[Participant]:
    """Who a match run takes: enrolled, profile and required training done (ready_at set)."""
    participants = Participant.objects.filter(
        program=program, status=ParticipantStatus.ENROLLED, ready_at__isnull=False
    )
    if track is not None:
        participants = participants.filter(track=track)
    return participants.select_related("person", "person__department", "person__site", "track")


def enrollment_funnel(*, program: Program) -> dict[str, int]:
    """Invited, pending, enrolled, ready, declined and withdrawn counts in two queries."""
    counts = Participant.objects.filter(program=program).aggregate(
        pending=Count("pk", filter=Q(status=ParticipantStatus.PENDING_APPROVAL)),
        enrolled=Count("pk", filter=Q(status=ParticipantStatus.ENROLLED)),
        ready=Count("pk", filter=Q(ready_at__isnull=False)),
        declined=Count("pk", filter=Q(status=ParticipantStatus.DECLINED)),
        withdrawn=Count("pk", filter=Q(status=ParticipantStatus.WITHDRAWN)),
    )
    counts["invited"] = Invitation.objects.filter(program=program).count()
    return counts


# --- invitations ----------------------------------------------------------------------------
@dataclass(frozen=True)
class InvitationAudience:
    matched: int
    already: int
    ineligible: int
    to_invite: QuerySet[Person]

    @property
    def to_invite_count(self) -> int:
        return self.matched - self.already - self.ineligible


def directory_filter_options() -> dict[str, Any]:
    """Departments, sites and levels an invitation filter can choose from."""
    levels = (
        Person.objects.filter(is_active=True)
        .exclude(level="")
        .order_by("level")
        .values_list("level", flat=True)
        .distinct()
    )
    return {
        "departments": list(Department.objects.all()),
        "sites": list(Site.objects.all()),
        "levels": list(levels),
    }


def invitation_audience(
    *,
    program: Program,
    track: Track | None = None,
    people_filter: dict[str, Any] | None = None,
    person_ids: list[int] | None = None,
    today: date,
) -> InvitationAudience:
    """Active people the filter (or the explicit ids) names, split into who would be invited,
    who is already invited (with a link still valid) or taking part, and who the eligibility
    rules leave out."""
    people = Person.objects.filter(is_active=True)
    if person_ids is not None:
        people = people.filter(pk__in=person_ids)
    else:
        people_filter = people_filter or {}
        if people_filter.get("department_ids"):
            people = people.filter(department_id__in=people_filter["department_ids"])
        if people_filter.get("site_ids"):
            people = people.filter(site_id__in=people_filter["site_ids"])
        if people_filter.get("levels"):
            people = people.filter(level__in=people_filter["levels"])
        search = (people_filter.get("search") or "").strip()
        if search:
            people = people.filter(
                Q(full_name__icontains=search)
                | Q(email__icontains=search)
                | Q(job_title__icontains=search)
            )
    # An invitation whose link expired unanswered does not count: that person may be re-invited.
    live_invitations = Invitation.objects.filter(program=program, person=OuterRef("pk")).filter(
        Q(accepted_at__isnull=False)
        | Q(emailed_at__isnull=True)
        | Q(emailed_at__gte=timezone.now() - INVITATION_MAX_AGE)
    )
    already_q = Q(Exists(live_invitations)) | Q(
        Exists(Participant.objects.filter(program=program, person=OuterRef("pk")))
    )
    counts = people.aggregate(
        matched=Count("pk"),
        already=Count("pk", filter=already_q),
        ineligible=Count("pk", filter=~already_q & ~eligible_people_q(program, track, today=today)),
    )
    to_invite = people.exclude(already_q).filter(eligible_people_q(program, track, today=today))
    return InvitationAudience(
        matched=counts["matched"],
        already=counts["already"],
        ineligible=counts["ineligible"],
        to_invite=to_invite.order_by("pk"),
    )


def invitation_preview(
    *,
    viewer: User,
    program: Program,
    track: Track | None = None,
    people_filter: dict[str, Any] | None = None,
) -> InvitationAudience:
    if not permissions.can_manage_program(viewer, program):
        raise PermissionDenied
    return invitation_audience(
        program=program,
        track=track,
        people_filter=people_filter,
        today=timezone.localdate(),
    )


# --- the participant's home page -----------------------------------------------------------------
@dataclass(frozen=True)
class OpenProgram:
    program: Program
    is_invited: bool


def participant_home_context(*, user: User) -> dict[str, Any]:
    """The home page of someone who takes part: my programs and what's next, approvals waiting
    for me as a line manager, and open programs I'm eligible for. Bounded queries."""
    today = timezone.localdate()
    person = person_for_user(user)
    context: dict[str, Any] = {
        "template": "enrollment/participant_home.html",
        "person": person,
        "participations": [],
        "open_programs": [],
        "approvals": [],
        "approvals_count": 0,
    }
    if person is None:
        return context
    participations = list(
        Participant.objects.filter(person=person)
        .exclude(program__status=ProgramStatus.DRAFT)
        .select_related("program", "track")
        .order_by("-enrolled_at", "-pk")
    )
    context["participations"] = [(item, next_step(item)) for item in participations]
    taken = {item.program_id for item in participations}
    invited = set(
        Invitation.objects.filter(person=person, program__status=ProgramStatus.ENROLLING)
        .values_list("program_id", flat=True)
        .order_by()
    )
    candidates = (
        Program.objects.filter(_open_programs_q(today))
        .filter(Q(is_self_enrollment_open=True) | Q(pk__in=invited))
        .exclude(pk__in=taken)
        .order_by("enrollment_closes_on", "name")[:50]
    )
    context["open_programs"] = [
        OpenProgram(program, program.pk in invited)
        for program in candidates
        if not check_eligibility(program, person, today=today)
    ]
    approvals = Participant.objects.filter(
        status=ParticipantStatus.PENDING_APPROVAL,
        person__manager=person,
        program__needs_manager_approval=True,
    ).select_related("person", "program")
    context["approvals"] = list(approvals.order_by("enrolled_at", "pk")[:20])
    context["approvals_count"] = (
        approvals.count() if len(context["approvals"]) == 20 else len(context["approvals"])
    )
    return context


# --- the enroll page ----------------------------------------------------------------------------
@dataclass
class EnrollmentOverview:
    program: Program
    person: Person | None
    participant: Participant | None
    closed_reason: str
    ineligible_reasons: list[str]
    is_invited: bool
    requirements: ProgramRequirements
    line_manager_name: str

    @property
    def is_invitation_only(self) -> bool:
        return not self.program.is_self_enrollment_open and not self.is_invited

    @property
    def is_active_participant(self) -> bool:
        return self.participant is not None and self.participant.status in (
            ParticipantStatus.PENDING_APPROVAL,
            ParticipantStatus.ENROLLED,
        )

    @property
    def can_enroll(self) -> bool:
        return (
            self.person is not None
            and not self.closed_reason
            and not self.ineligible_reasons
            and not self.is_invitation_only
            and (self.participant is None or self.participant.status == ParticipantStatus.WITHDRAWN)
        )


def enrollment_overview(*, viewer: User, program: Program) -> EnrollmentOverview:
    """What the enroll page tells `viewer` about joining `program` and what will happen."""
    today = timezone.localdate()
    person = person_for_user(viewer)
    participant = None
    is_invited = False
    reasons: list[str] = []
    if person is not None:
        participant = Participant.objects.filter(program=program, person=person).first()
        is_invited = Invitation.objects.filter(program=program, person=person).exists()
        reasons = check_eligibility(program, person, today=today)
    manager = person.manager if person is not None else None
    return EnrollmentOverview(
        program=program,
        person=person,
        participant=participant,
        closed_reason=enrollment_closed_reason(program, today=today),
        ineligible_reasons=reasons,
        is_invited=is_invited,
        requirements=program_requirements(program),
        line_manager_name=manager.full_name if manager is not None else "",
    )


def training_module_for(*, participant: Participant, pk: Any) -> Any:
    """A module of the participant's own program, else Http404."""
    try:
        return participant.program.training_modules.get(pk=pk)
    except (ObjectDoesNotExist, ValueError, TypeError):
        raise Http404("No such training module.") from None


def next_training_module(*, participant: Participant) -> Any:
    """The first required module not done yet (then optional ones), or None."""
    done = participant.training_completions.values("module_id")
    return (
        participant.program.training_modules.exclude(pk__in=done)
        .order_by("-is_required", "position", "pk")
        .first()
    )


def invitation_account(*, invitation: Invitation) -> Any:
    """The account the invited person would sign in with, if there is one."""
    person = invitation.person
    if person.user_id is not None:
        return person.user
    return User.objects.filter(email__iexact=person.email).first()
