"""Recommendations: the best allowed partners for one person, exactly by score.

Build a `Recommender` once per population (it encodes every attribute); each query then scores
one row against everybody in a single vectorised block, which takes milliseconds even with
100,000 people.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from . import explain
from .scoring import Scorer

IndexArray = NDArray[np.intp]


@dataclass(frozen=True)
class Recommendation:
    """One suggested partner with the exact pair score and why they fit."""

    person_id: str
    score: float
    reasons: str


@dataclass(frozen=True)
class Recommendations:
    """The best partners, best first (ties by id), and why there are none when empty."""

    items: tuple[Recommendation, ...]
    reason_if_empty: str | None


class Recommender:
    """Top-k allowed partners for any person of one scorer's population.

    Partners are active people (not context people from the locks); for a bipartite policy,
    the people of the other side, scored with the side-a person as side a.
    """

    def __init__(self, scorer: Scorer) -> None:
        self.scorer = scorer
        self.bipartite = scorer.policy.format == "bipartite"
        active = scorer.active
        self._everyone = np.flatnonzero(active).astype(np.intp)
        self._side_a = np.flatnonzero(active & (scorer.side == 0)).astype(np.intp)
        self._side_b = np.flatnonzero(active & (scorer.side == 1)).astype(np.intp)

    def partners_of(self, i: int) -> IndexArray:
        """The people `i` could be grouped with, before any rule is applied."""
        if not self.bipartite:
            return self._everyone
        side = int(self.scorer.side[i])
        if side == 0:
            return self._side_b
        if side == 1:
            return self._side_a
        return np.zeros(0, dtype=np.intp)

    def recommend(self, person_id: str, top: int = 10) -> Recommendations:
        """The `top` allowed partners of `person_id` by exact score, ties broken by id.

        KeyError when the id is unknown.
        """
        scorer = self.scorer
        i = scorer.index(person_id)
        partners = self.partners_of(i)
        if self.bipartite and scorer.side[i] < 0:
            return Recommendations((), f"{person_id!r} belongs to neither side of the program")
        if len(partners) == 0 or top <= 0:
            reason = "no partner to choose from" if top > 0 else None
            return Recommendations((), reason)
        if self.bipartite and scorer.side[i] == 1:
            scores_2d, allowed_2d = scorer.block(partners, np.array([i]), directed=True)
            scores, allowed = scores_2d[:, 0], allowed_2d[:, 0]
        else:
            scores_2d, allowed_2d = scorer.block(np.array([i]), partners, directed=self.bipartite)
            scores, allowed = scores_2d[0], allowed_2d[0]
        candidates = np.flatnonzero(allowed)
        if len(candidates) == 0:
            reason = explain.unmatched_reasons(
                scorer,
                np.array([i]),
                np.zeros(scorer.n, dtype=np.bool_),
                partners,
                directed=self.bipartite,
            )[0]
            return Recommendations((), reason)
        candidate_scores = scores[candidates]
        if len(candidates) > top:
            # Everything tied with the top-th best score competes on id.
            cut = np.partition(candidate_scores, len(candidates) - top)[len(candidates) - top]
            keep = candidate_scores >= cut
            candidates, candidate_scores = candidates[keep], candidate_scores[keep]
        ids = [scorer.ids[int(partners[c])] for c in candidates]
        order = sorted(range(len(candidates)), key=lambda k: (-candidate_scores[k], ids[k]))[:top]
        chosen = partners[candidates[order]]
        if self.bipartite and scorer.side[i] == 1:
            texts = explain.reasons_for_pairs(
                scorer, chosen, np.full(len(chosen), i, dtype=np.intp), directed=True
            )
        else:
            texts = explain.reasons_for_pairs(
                scorer, np.full(len(chosen), i, dtype=np.intp), chosen, directed=self.bipartite
            )
        items = tuple(
            Recommendation(person_id=ids[k], score=float(candidate_scores[k]), reasons=text)
            for k, text in zip(order, texts, strict=True)
        )
        return Recommendations(items, None)
