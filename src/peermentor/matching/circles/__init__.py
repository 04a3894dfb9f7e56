"""Circles: groups of `group_size = [lo, hi]` people in which every pair is allowed.

Objective (MATCHING.md): place as many people as possible, then maximise the total, where a
circle of s people with pair-score sum W scores s x (mean pair score) = 2 W / (s - 1). The problem
contains clique partitioning, so no exact method scales; we use a careful heuristic:

1. Pair lookups go through an *oracle*. Up to DENSE_LIMIT people it is a dense float32 matrix of
   the scorer's fast keys (exact scores within ~2e-5; whether a pair is allowed is decided exactly:
   keys near min_score are confirmed with the exact scorer). Beyond, the oracle calls the exact
   scorer for each batch of pairs. Either way each person's NEIGHBOURS best allowed partners are
   found in one vectorised pass: the candidate neighbourhoods that every later step searches.
2. Construction: hardest people first (fewest allowed partners), each seeds a circle that grows
   greedily with the candidate most compatible with everyone already in it.
3. Repair: people left over are inserted where every pair stays allowed, directly or by moving a
   member of a full circle elsewhere; leftovers then form new circles, borrowing members from
   circles that can spare one.
4. Local search: for batches of people, every move to a neighbour's circle and every swap with a
   member of one is evaluated at once (numpy); the best improving actions that touch disjoint
   circles are applied. Sweeps repeat until nothing improves. Optional `balance` attributes add a
   penalty on how far each circle's mix is from the population's.
5. Final scores are recomputed with the exact scorer and every pair is checked again.

The reported upper bound is valid for any result: a person in a circle of s >= lo contributes
their mean score with the s - 1 others, at most the mean of their best lo - 1 allowed partners.

Modules: `solver` (entry point), `oracle` (pair look-ups and neighbourhoods), `state` (circles
and their sums), `build` (construction), `repair` (placing people left out), `exact` (exhaustive
search for small pools and windows), `search` (sweeps and iterated local search), `moves` (one
batched step of moves and swaps), `repartition` (re-splitting two circles), `balance` (balance
penalties), `result` (exact scores, reasons, bound), `params` (shared constants).
"""

from .solver import solve_circles

__all__ = ["solve_circles"]
