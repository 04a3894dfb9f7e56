"""Tuning constants shared by several steps of the circles solver."""

from __future__ import annotations

# Candidate neighbourhood: each person's best allowed partners.
NEIGHBOURS = 32
# Weight of the balance penalty (per attribute, per squared head-count deviation).
BALANCE_WEIGHT = 0.2
# Placing one more person always outranks any change of score.
PLACE_BONUS = 1e3
# Below this much, a gain is rounding noise.
EPSILON = 1e-9
