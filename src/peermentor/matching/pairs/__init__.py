"""Pairs (anyone with anyone): the greatest total score, or the most people placed.

Small pools (up to `EXACT_BELOW` people) are solved exactly with Edmonds' blossom algorithm on
every allowed pair. Larger pools go through five steps, none of which loops in Python over pairs:

1. Candidates. A float32 matrix-product pass over all pairs (`FastScores`, half the matrix by
   symmetry) keeps each person's best `k` allowed partners. Per-row thresholds taken from a random
   sample of partners discard almost every pair before any sorting. The (k+1)-th best score of
   each person is kept: it bounds every pair that did not make the list.
2. Relaxation. The fractional matching LP on the candidate graph is solved as an assignment on
   its double cover by an auction (`bounds.auction`); its prices give a dual.
3. Rounding. The assignment splits into 2-cycles (pairs), fixed points (unmatched) and longer
   cycles, each of which is matched optimally by dynamic programming.
4. Repair and local search. People left without a partner get their best allowed FREE partners
   added as candidates and the auction re-runs from its prices (this is what rescues people whose
   favourites are hubs everyone wants); then augmenting paths of length three and pair swaps
   that raise the objective are applied until none is left.
5. Certificate. The dual is raised where needed to cover pairs outside the candidate graph:
   exactly, by pricing that person's row against everybody, or by the (k+1)-th score bound (see
   `bounds.extend_dual`). Violated pairs found while pricing join the candidates and steps 2-4
   run again. The reported bound is the sum of the raised dual. Up to 3,000 people, a bound far
   above the result (odd cycles of ties) is tightened with odd-set cuts (`oddsets.py`).

Modules: `solver` (entry point, exact small pools, odd-set tightening), `large` (the large-pool
pipeline), `passes` (steps 1 and 3: passes over all pairs), `edges` (the candidate graph),
`relaxation` (step 2 and the outside-option bound), `rounding` and `repair` and `local_search`
(step 4), `certify` (step 5), `workers` (threads), `result`, `params` (shared constants).
"""

from .solver import solve_pairs

__all__ = ["solve_pairs"]
