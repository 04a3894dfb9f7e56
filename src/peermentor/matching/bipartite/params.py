"""Tuning constants shared by several steps of the bipartite solver."""

from __future__ import annotations

# About two million pairs per scored block keeps a block's temporaries near 100 MB.
BLOCK_PAIRS = 1 << 21
