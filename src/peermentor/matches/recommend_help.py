"""Help-network recommendations: which peers to suggest to someone asking for help on a skill.

Owned by the help network (NOTIFY); it lives in matches/ because only matches/ may call the
engine. Engine input comes from `build_engine_input` (the one place that turns rows into
profiles); the asker's profile gets the ask's skill as what they want, and the engine scores
every candidate against the asker with this policy:

- complement: the candidate offered the skill asked about (weight 4);
- different department and different site (weights 2 and 1): hybrid and remote staff value
  ties outside their own team most and form them least (DOMAIN.md), so peers outside the
  asker's team and site come first;
- overlap of languages (weight 1).

Blocks and past partners are never suggested (the adapter's `avoid`). Candidates must already
be filtered to those who offered the skill and have room (helpnetwork.selectors does that).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from peermentor.enrollment.models import Participant
from peermentor.matches.adapter import ParticipantRow, build_engine_input
from peermentor.matching.api import recommend
from peermentor.matching.model import InputError
from peermentor.programs.models import Program

WANT_FIELD = "help_topic"
DEFAULT_TOP = 10


def help_policy(offer_field: str) -> dict[str, Any]:
    """The policy that ranks helpers; `offer_field` is the key of the program's question of
    kind "skills offered"."""
    return {
        "objective": "quality",
        "min_score": 0.0,
        "criteria": [
            {"kind": "complement", "offer": offer_field, "want": WANT_FIELD, "weight": 4},
            {"kind": "different", "field": "department", "weight": 2},
            {"kind": "different", "field": "site", "weight": 1},
            {"kind": "overlap", "field": "languages", "weight": 1},
        ],
        "constraints": [],
    }


@dataclass(frozen=True)
class HelperSuggestion:
    participant_id: int
    score: float
    reasons: str
    is_outside_team: bool
    is_outside_site: bool


def _where(row: ParticipantRow) -> str:
    return ", ".join(part for part in (row.department, row.site) if part)


def explain(
    asker: ParticipantRow, helper: ParticipantRow, skill_name: str
) -> tuple[str, bool, bool]:
    """Plain language for the asker: what the helper offered and where they work, said
    relative to the asker ("works in Finance, London — outside your team and site")."""
    outside_team = bool(helper.department and helper.department != asker.department)
    outside_site = bool(helper.site and helper.site != asker.site)
    parts = [f"Offered to help with {skill_name}."]
    where = _where(helper)
    if outside_team and outside_site:
        parts.append(f"Works in {where} — outside your team and site.")
    elif outside_team:
        parts.append(f"Works in {where} — outside your team.")
    elif outside_site:
        parts.append(f"Works at {helper.site} — another site, in your team.")
    elif where:
        parts.append(f"Works in {where} — your own team and site.")
    languages = set(helper.languages or []) & set(asker.languages or [])
    if languages and len(set(asker.languages or [])) > 1:
        parts.append(f"Speaks {', '.join(sorted(languages))}.")
    return " ".join(parts), outside_team, outside_site


def recommend_helpers(
    *,
    program: Program,
    asker_id: int,
    skill_name: str,
    offer_field: str,
    candidate_ids: Sequence[int],
    top: int = DEFAULT_TOP,
) -> list[HelperSuggestion]:
    """The `top` best candidates for the ask, best first (ties by the engine's id): only
    candidates the engine allows with the asker (no block, not met before), ranked by the
    policy above, each with plain-language reasons. Empty when there is nobody to suggest."""
    candidate_ids = [pk for pk in dict.fromkeys(candidate_ids) if pk != asker_id]
    if not candidate_ids or top <= 0:
        return []
    wanted = [Participant(pk=pk) for pk in (asker_id, *candidate_ids)]
    try:
        engine_input = build_engine_input(
            program,
            participants=wanted,
            policy=help_policy(offer_field.lower()),
            include_context=False,
            # Someone helping in a flash meeting now may still ask or be suggested; room for
            # the new flash meeting is checked by the caller and again when an offer is taken.
            respect_room=False,
        )
    except InputError:
        return []
    rows_by_participant = {row.pk: row for row in engine_input.id_map.values()}
    asker_row = rows_by_participant.get(asker_id)
    if asker_row is None:
        return []
    topic = skill_name.replace(";", ",").strip()
    people = [
        dataclasses.replace(person, attributes={**person.attributes, WANT_FIELD: topic})
        if person.id == str(asker_row.person_id)
        else person
        for person in engine_input.people
    ]
    # The engine's recommend: exactly the `top` allowed partners by score, ties by engine id.
    found = recommend(people, engine_input.policy, str(asker_row.person_id), top=top)
    ranked = [
        (item.score, engine_input.id_map[item.person_id])
        for item in found.items
        if item.person_id in engine_input.id_map
    ]
    suggestions = []
    for score, row in ranked:
        reasons, outside_team, outside_site = explain(asker_row, row, skill_name)
        suggestions.append(
            HelperSuggestion(
                participant_id=row.pk,
                score=round(score, 6),
                reasons=reasons,
                is_outside_team=outside_team,
                is_outside_site=outside_site,
            )
        )
    return suggestions
