"""The relaxation on the candidate graph: the fractional matching LP solved as an assignment on
its double cover by the auction, its tightened dual, and the bound with outside options."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from ..bounds import DoubleCover, auction, tighten_dual
from .edges import EdgeSet
from .params import EPSILON_START
from .passes import Lists

FloatArray = NDArray[np.float64]
IndexArray = NDArray[np.intp]

EPSILON_FINAL = 3e-4
# Each auction phase stops with this share of people still bidding (see bounds.auction).
LEAVE_SHARE = 0.002


def certified_bound(m: int, edges: EdgeSet, priced: Lists) -> float:
    """A bound on every valid result: the relaxation with each person's outside option.

    Every pair outside the candidate graph scores at most (cap_i + cap_j) / 2 (see certify).
    Giving each person an outside option worth cap_i in the double cover (its diagonal) makes
    any dual of that assignment satisfy u_i >= cap_i / 2 as well as u_i + u_j >= w_ij on the
    candidates, so its sum bounds every valid result; the auction finds a near-optimal one.
    """
    _, _, _, dual = relaxation(m, edges, 0.0, diagonal=np.maximum(priced.caps(), 0.0))
    return float(dual.sum())


def relaxation(
    m: int, edges: EdgeSet, bonus: float, *, diagonal: float | FloatArray = 0.0
) -> tuple[DoubleCover, IndexArray, FloatArray, FloatArray]:
    """The relaxation on the candidate graph: its cover, assignment, prices and tightened dual.
    `diagonal` is what staying unmatched is worth to each person (an outside option)."""
    cover = DoubleCover(m, edges.first, edges.second, edges.weight + bonus, diagonal)
    # The last few bidders of each phase are left to the rounding and repair steps: their
    # displacement chains cost more than the rest of the auction.
    assigned, prices = auction(
        cover,
        epsilon_final=EPSILON_FINAL,
        epsilon_start=EPSILON_START,
        finish_assignment=False,
        leave_share=LEAVE_SHARE,
    )
    return cover, assigned, prices, tighten_dual(cover, cover.matching_dual(prices))


def cap_raise(dual: FloatArray, priced: Lists) -> float:
    """What the pricing bound alone would add to the dual (see certify)."""
    return float(np.maximum(dual, priced.caps() * 0.5).sum() - dual.sum())


def score_dual(cover_dual: FloatArray, bonus: float) -> FloatArray:
    """The matching dual for the scores themselves, from one for scores plus `bonus`."""
    if not bonus:
        return cover_dual
    # u' covers w + bonus; u = max(0, u' - bonus / 2) covers w itself.
    return np.maximum(cover_dual - bonus * 0.5, 0.0)
