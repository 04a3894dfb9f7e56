"""Reads of admin-led matching, shared by pages and tests; each takes the viewer."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet

from peermentor.accounts.models import User
from peermentor.core.permissions import require
from peermentor.enrollment.models import Participant, ParticipantRole
from peermentor.matches.adapter import BIPARTITE_SIDES, build_engine_input
from peermentor.matches.models import MatchRun, Proposal, ProposalMember, UnmatchedEntry
from peermentor.matches.permissions import can_manage_matching
from peermentor.matches.wording import plain_words
from peermentor.matching.api import build_scorer
from peermentor.matching.explain import reasons
from peermentor.matching.model import Constraint, InputError, Locks
from peermentor.people.models import Department
from peermentor.programs.models import Format, Program
from peermentor.programs.policy import DIRECTORY_ATTRIBUTES, describe_rule

MANAGERS_ONLY = "Only the program's managers can see match runs."

SORTS = {"score": ("score", "id"), "-score": ("-score", "id")}


def run_list(*, viewer: User, program: Program) -> QuerySet[MatchRun]:
    require(can_manage_matching(viewer, program), MANAGERS_ONLY)
    return MatchRun.objects.filter(program=program).select_related("track", "created_by")


@dataclass
class ProposalFilters:
    sort: str = "-score"
    department_id: int | None = None
    warnings: str = ""  # "", "yes", "no"
    state: str = ""  # "", "locked", "excluded", "manual", "open"

    @classmethod
    def from_query(cls, query: Any) -> ProposalFilters:
        sort = query.get("sort", "-score")
        department = query.get("department", "")
        warnings = query.get("warnings", "")
        state = query.get("state", "")
        return cls(
            sort=sort if sort in SORTS else "-score",
            department_id=int(department) if str(department).isdigit() else None,
            warnings=warnings if warnings in ("yes", "no") else "",
            state=state if state in ("locked", "excluded", "manual", "open") else "",
        )


def proposal_list(
    *, viewer: User, run: MatchRun, filters: ProposalFilters | None = None
) -> QuerySet[Proposal]:
    """The run's proposals, filtered and sorted, with members and their people prefetched."""
    require(can_manage_matching(viewer, run.program), MANAGERS_ONLY)
    filters = filters or ProposalFilters()
    queryset = Proposal.objects.filter(run=run)
    if filters.department_id is not None:
        queryset = queryset.filter(
            Exists(
                ProposalMember.objects.filter(
                    proposal_id=OuterRef("pk"),
                    participant__person__department_id=filters.department_id,
                )
            )
        )
    if filters.warnings == "yes":
        queryset = queryset.filter(has_warnings=True)
    elif filters.warnings == "no":
        queryset = queryset.filter(has_warnings=False)
    if filters.state == "locked":
        queryset = queryset.filter(is_locked=True)
    elif filters.state == "excluded":
        queryset = queryset.filter(is_excluded=True)
    elif filters.state == "manual":
        queryset = queryset.filter(is_manual=True)
    elif filters.state == "open":
        queryset = queryset.filter(is_locked=False, is_excluded=False)
    return queryset.order_by(*SORTS[filters.sort]).prefetch_related(
        Prefetch(
            "members",
            queryset=ProposalMember.objects.select_related(
                "participant__person__department", "participant__person__site"
            ).order_by("id"),
        )
    )


def proposal_row(*, viewer: User, proposal: Proposal) -> Proposal:
    return proposal_list(viewer=viewer, run=proposal.run).get(pk=proposal.pk)


def run_departments(*, viewer: User, run: MatchRun) -> QuerySet[Department]:
    """Departments of the run's proposed people, for the filter."""
    require(can_manage_matching(viewer, run.program), MANAGERS_ONLY)
    return Department.objects.filter(
        Exists(
            ProposalMember.objects.filter(
                run=run, participant__person__department_id=OuterRef("pk")
            )
        )
    ).order_by("name")


def unmatched_list(*, viewer: User, run: MatchRun) -> QuerySet[UnmatchedEntry]:
    require(can_manage_matching(viewer, run.program), MANAGERS_ONLY)
    return (
        UnmatchedEntry.objects.filter(run=run)
        .select_related("participant__person__department")
        .order_by("participant__person__full_name", "id")
    )


def run_counts(*, viewer: User, run: MatchRun) -> dict[str, int]:
    """Locked, excluded and hand-made proposals of the run (one query)."""
    from django.db.models import Count

    require(can_manage_matching(viewer, run.program), MANAGERS_ONLY)
    return Proposal.objects.filter(run=run).aggregate(
        total=Count("id"),
        locked=Count("id", filter=Q(is_locked=True)),
        excluded=Count("id", filter=Q(is_excluded=True)),
        manual=Count("id", filter=Q(is_manual=True)),
        with_warnings=Count("id", filter=Q(has_warnings=True)),
    )


def pairable_participants(*, viewer: User, run: MatchRun) -> QuerySet[Participant]:
    """Everyone the run considered (proposed or left out), by name: the manual pair choices."""
    require(can_manage_matching(viewer, run.program), MANAGERS_ONLY)
    in_run = Q(Exists(ProposalMember.objects.filter(run=run, participant_id=OuterRef("pk")))) | Q(
        Exists(UnmatchedEntry.objects.filter(run=run, participant_id=OuterRef("pk")))
    )
    return (
        Participant.objects.filter(program=run.program)
        .filter(in_run)
        .exclude(role=ParticipantRole.FACILITATOR)
        .select_related("person")
        .order_by("person__full_name", "id")
    )


SEARCH_LIMIT = 20
SEARCH_MAX_TERMS = 5


@dataclass
class PairableSearch:
    """One person picker of the "match by hand" page: who is chosen, and who matches."""

    query: str = ""
    chosen: Participant | None = None
    results: list[Participant] = field(default_factory=list)
    has_more: bool = False  # more than the limit match: the page asks for more of the name


def pairable_search(
    *,
    viewer: User,
    run: MatchRun,
    query: str = "",
    chosen: Participant | int | None = None,
    limit: int = SEARCH_LIMIT,
) -> PairableSearch:
    """At most `limit` of the run's pairable people whose name or e-mail contains every word
    of `query` (by name), and the one already `chosen` (an id is looked up among them; one
    that is not pairable is dropped). Nobody is listed for an empty query: at 10,000 people a
    list of everyone helps nobody. Two queries at most, whatever the run's size."""
    people = pairable_participants(viewer=viewer, run=run)
    search = PairableSearch(query=" ".join(str(query or "").split())[:200])
    if isinstance(chosen, Participant):
        search.chosen = chosen
    elif chosen is not None:
        search.chosen = people.filter(pk=chosen).first()
    terms = search.query.split()[:SEARCH_MAX_TERMS]
    if not terms:
        return search
    matching = people
    for term in terms:
        matching = matching.filter(
            Q(person__full_name__icontains=term) | Q(person__email__icontains=term)
        )
    if search.chosen is not None:
        matching = matching.exclude(pk=search.chosen.pk)
    found = list(matching[: limit + 1])
    search.results, search.has_more = found[:limit], len(found) > limit
    return search


# --- a pair made by hand -----------------------------------------------------------------------
@dataclass
class PairCheck:
    """What pairing two people by hand would give: score, reasons, and the rules it breaks."""

    first: Participant
    second: Participant
    ordered: list[Participant] = field(default_factory=list)
    score: float = 0.0
    reasons: str = ""
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    refusal: str = ""
    circle: Proposal | None = None


def _rule_labels(program: Program) -> dict[str, str]:

    labels = {name: label.lower() for name, (label, _kind) in DIRECTORY_ATTRIBUTES.items()}
    for key, label in program.questions.values_list("key", "label"):
        labels[key] = label
    return labels


def _describe(constraint: Constraint, labels: dict[str, str]) -> str:

    rule = {"kind": constraint.kind, "field": constraint.field, "max": constraint.max}
    return "Breaks the rule: " + describe_rule(rule, labels) + "."


def _reasons(scorer: Any, i: int, j: int, *, directed: bool) -> str:

    return plain_words(str(reasons(scorer, i, j, directed=directed)))


def manual_pair_check(
    *, viewer: User, run: MatchRun, first: Participant, second: Participant
) -> PairCheck:
    """Score, reasons and warnings for pairing `first` with `second` in `run` (circles:
    `first` joining the circle `second` is in). `refusal` says why it cannot be done at all."""
    program = run.program
    require(can_manage_matching(viewer, program), MANAGERS_ONLY)
    check = PairCheck(first=first, second=second, ordered=[first, second])
    for participant in (first, second):
        if participant.program_id != program.pk or (
            run.track_id is not None and participant.track_id != run.track_id
        ):
            check.refusal = "Both people must take part in this program (and the run's track)."
            return check
    if first.pk == second.pk:
        check.refusal = "Choose two different people."
        return check
    sides = BIPARTITE_SIDES.get(program.format)
    members: list[Participant] | None = [first, second]
    if sides is not None:
        members = _order_sides(check, run, sides)
    elif program.format == Format.CIRCLES:
        members = _circle_joined(check, run, program)
    if members is not None:
        _score_by_hand(check, run, program, members, directed=sides is not None)
    return check


def _order_sides(
    check: PairCheck, run: MatchRun, sides: tuple[str, str]
) -> list[Participant] | None:
    """The pair in side order (host first), or None with `check.refusal` set when their roles
    are not one of each side or the host has no free place in the run."""
    first, second = check.first, check.second
    roles = {first.role, second.role}
    if roles != set(sides):
        side_names = [ParticipantRole(side).label.lower() for side in sides]
        check.refusal = f"Choose one {side_names[0]} and one {side_names[1]}."
        return None
    check.ordered = [first, second] if first.role == sides[0] else [second, first]
    host = check.ordered[0]
    taken = (
        ProposalMember.objects.filter(run=run, participant=host, proposal__is_excluded=False)
        .exclude(proposal__members__participant=check.ordered[1])
        .count()
    )
    if taken >= host.capacity:
        check.refusal = (
            f"{host.person.full_name} has no free place (takes {host.capacity} at a time)."
        )
        return None
    return check.ordered


def _circle_joined(check: PairCheck, run: MatchRun, program: Program) -> list[Participant] | None:
    """`first` with the other members of the circle `second` is in (`check.circle`), or None
    with `check.refusal` set when there is no such circle or it is full."""
    first, second = check.first, check.second
    membership = (
        ProposalMember.objects.filter(run=run, participant=second)
        .exclude(role=ParticipantRole.FACILITATOR)
        .select_related("proposal")
        .first()
    )
    if membership is None:
        check.refusal = f"{second.person.full_name} is not in a circle of this run."
        return None
    check.circle = membership.proposal
    circle_members = list(
        Participant.objects.filter(
            pk__in=ProposalMember.objects.filter(proposal=check.circle)
            .exclude(role=ParticipantRole.FACILITATOR)
            .exclude(participant=first)
            .values("participant_id")
        ).select_related("person")
    )
    if len(circle_members) >= program.group_size_max:
        check.refusal = f"That circle already has {program.group_size_max} people."
        return None
    return [first, *circle_members]


def _score_by_hand(
    check: PairCheck,
    run: MatchRun,
    program: Program,
    members: list[Participant],
    *,
    directed: bool,
) -> None:
    """Score the first member with each other one under the run's settings, as the engine
    would: `check.score` (their mean), the best pair's reasons, and a warning per rule broken;
    or `check.refusal` when the settings no longer work or someone has no room."""

    try:
        engine_input = build_engine_input(
            program, participants=members, policy=run.parameters.get("policy")
        )
    except InputError as error:
        check.refusal = f"The run's settings can no longer be used: {error.detail}"
        return
    for participant in members:
        if str(participant.person_id) not in engine_input.id_map:
            check.refusal = f"{participant.person.full_name} already has a current connection."
            return
    forbidden = tuple(
        (pair[0], pair[1]) for pair in run.parameters.get("forbidden", []) if len(pair) == 2
    )
    scorer = build_scorer(
        engine_input.people,
        engine_input.policy,
        locks=Locks(context=engine_input.context_ids, forbidden=forbidden),
    )
    labels = _rule_labels(program)
    anchor = scorer.index(str(members[0].person_id))
    partners = [scorer.index(str(p.person_id)) for p in members[1:]]
    scores = []
    for partner, participant in zip(partners, members[1:], strict=True):
        scores.append(scorer.pair_score(anchor, partner, directed=directed))
        prefix = f"With {participant.person.full_name}: " if len(partners) > 1 else ""
        for constraint in scorer.failed_constraints(anchor, partner):
            check.warnings.append(prefix + _describe(constraint, labels))
        if scorer.is_excluded(anchor, partner):
            check.warnings.append(
                prefix
                + "They must not be matched: one asked not to be, they were connected before, "
                "or the pair was excluded."
            )
    check.score = sum(scores) / len(scores) if scores else 0.0
    minimum = engine_input.policy.min_score
    if check.score < minimum - 1e-9:
        check.warnings.append(
            f"The score {check.score:.2f} is below the minimum score {minimum:.2f}."
        )
    best = max(range(len(partners)), key=lambda k: scores[k]) if partners else 0
    check.reasons = _reasons(scorer, anchor, partners[best], directed=directed) if partners else ""
