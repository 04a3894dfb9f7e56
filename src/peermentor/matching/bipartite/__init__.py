"""Bipartite matching with capacities: hosts, buddies or mentors (side a) and the people they take.

Each side-a person `a` may take up to `capacity[a]` side-b people; each side-b person gets at most
one side-a person. This is a transportation (b-matching) problem. Its linear program has a
totally unimodular constraint matrix, so the LP optimum is attained by an integral assignment and
LP duality certifies it:

    max  sum_ab w_ab x_ab   s.t.  sum_b x_ab <= c_a,   sum_a x_ab <= 1,   x >= 0
    min  sum_a c_a u_a + sum_b v_b   s.t.  u_a + v_b >= w_ab (allowed pairs),   u, v >= 0

With 5,000 hosts and 10,000 shadows there are 50 million pairs: too many to hand to a solver. We
solve it by column generation (delayed pricing):

1. Score every pair block by block (kept in memory as float64 when that fits comfortably) and take
   as candidates each person's best allowed partners.
2. Solve the assignment exactly on the candidates: hosts are expanded into capacity slots, every
   side-b person gets a private "stay unassigned" column, and scipy's sparse LAPJV
   (`min_weight_full_bipartite_matching`) finds the optimum.
3. Recover optimal LP duals of the candidate problem from the assignment: by complementary
   slackness the host duals u are the longest-path potentials of the exchange graph (a -> a' when
   a's candidate is assigned to a'), computed by Bellman-Ford; v_b = w_ab - u_a on assigned pairs.
4. Price every allowed pair: a pair with w_ab - u_a - v_b > 0 could improve the result; the most
   violating ones join the candidates and we go back to 2. When none is left, the duals are
   feasible for the full problem and prove the assignment optimal.

The reported bound does not trust any of this: given the host duals u, v_b = max(0, max_a w_ab -
u_a) over ALL allowed pairs is the cheapest feasible choice of v, so sum c_a u_a + sum v_b bounds
every valid result by weak duality. The solution is certified when the bound equals its total.

The `participation` objective (most side-b people placed, then the greatest total) uses weights
M + w_ab with M above any total score, so one more placement outweighs any score; among results
placing as many people, the bound on the total score is the dual bound minus M per placement.

Modules: `solver` (entry point and column generation), `problem` (sides, locks, capacities, pair
weights), `pricing` (passes over every pair), `assignment` (the candidate assignment and its
duals), `result` (groups, reasons, people left out), `params` (shared constants).
"""

from .solver import solve_bipartite

__all__ = ["solve_bipartite"]
