"""Tuning constants shared by several steps of the pairs solver."""

from __future__ import annotations

ROW_BLOCK = 256
COLUMN_BLOCK = 8192
# Scores are scaled to integers for the exact blossom solver.
INTEGER_SCALE = 10**9
EPSILON_START = 0.05
ROUNDING = 2e-6  # float32 arithmetic on keys and duals of size <= 2
