"""Local search: improving augmenting paths (free-x=y-free) and pair swaps."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from ..scoring import Scorer
from .edges import EdgeSet

FloatArray = NDArray[np.float64]
IndexArray = NDArray[np.intp]


Move = tuple[float, list[int]]  # gain, and people a, b, c, d to pair as a-b and c-d


def local_search(
    scorer: Scorer, pool: IndexArray, mate: IndexArray, edges: EdgeSet, bonus: float
) -> IndexArray:
    """Apply improving augmenting paths (free-x=y-free) and pair swaps until none is left."""
    mate = mate.copy()
    m = len(mate)
    for _ in range(8):
        first = np.concatenate([edges.first, edges.second])
        second = np.concatenate([edges.second, edges.first])
        weight = np.concatenate([edges.weight, edges.weight])
        current = np.zeros(m)
        matched = np.flatnonzero(mate >= 0)
        current[matched] = edges.lookup(matched, mate[matched])
        current = np.nan_to_num(current)
        moves = _augmenting_paths(mate, first, second, weight, current, bonus)
        moves += _pair_swaps(scorer, pool, mate, first, second, weight, current)
        if not _apply(scorer, pool, mate, edges, moves):
            break
    return mate


def _augmenting_paths(
    mate: IndexArray,
    first: IndexArray,
    second: IndexArray,
    weight: FloatArray,
    current: FloatArray,
    bonus: float,
) -> list[Move]:
    """Free a -> b (matched to c) while c finds a free d: a-b, c-d replaces b-c."""
    m = len(mate)
    free_first = (mate[first] < 0) & (mate[second] >= 0)
    a_side, b_side, w_ab = first[free_first], second[free_first], weight[free_first]
    c_free = (mate[first] >= 0) & (mate[second] < 0)
    c_side, d_side, w_cd = first[c_free], second[c_free], weight[c_free]
    best_in = _best_per(b_side, w_ab, a_side, m)  # best free partner for each matched b
    best_out = _best_per(c_side, w_cd, d_side, m)  # best free partner for each matched c
    moves: list[Move] = []
    for b in np.flatnonzero(best_in[1] >= 0).tolist():
        c = int(mate[b])
        a = int(best_in[1][b])
        d = int(best_out[1][c])
        if d >= 0 and d != a:
            gain = best_in[0][b] + best_out[0][c] - current[b] + bonus
            if gain > 1e-12:
                moves.append((gain, [a, b, c, d]))
    return moves


def _pair_swaps(
    scorer: Scorer,
    pool: IndexArray,
    mate: IndexArray,
    first: IndexArray,
    second: IndexArray,
    weight: FloatArray,
    current: FloatArray,
) -> list[Move]:
    """Pair swap: a-b and c-d become a-c and b-d (or b-c and a-d): needs the other pair."""
    both = (mate[first] >= 0) & (mate[second] >= 0) & (mate[first] != second)
    a_s, c_s, w_ac = first[both], second[both], weight[both]
    keep = a_s < c_s
    a_s, c_s, w_ac = a_s[keep], c_s[keep], w_ac[keep]
    b_s, d_s = mate[a_s], mate[c_s]
    base = current[a_s] + current[c_s]
    promising = w_ac + 1.0 > base  # the other pair scores at most 1
    if not promising.any():
        return []
    a_s, b_s, c_s, d_s, w_ac, base = (
        a_s[promising],
        b_s[promising],
        c_s[promising],
        d_s[promising],
        w_ac[promising],
        base[promising],
    )
    w_bd, allowed = scorer.pair_scores(pool[b_s], pool[d_s])
    gain = w_ac + w_bd - base
    good = allowed & (gain > 1e-12)
    return [
        (g, [a, c, b, d])
        for g, a, b, c, d in zip(
            gain[good].tolist(),
            a_s[good].tolist(),
            b_s[good].tolist(),
            c_s[good].tolist(),
            d_s[good].tolist(),
            strict=True,
        )
    ]


def _apply(
    scorer: Scorer, pool: IndexArray, mate: IndexArray, edges: EdgeSet, moves: list[Move]
) -> bool:
    """Apply the best moves that share nobody (in place); returns whether any was applied."""
    if not moves:
        return False
    moves.sort(key=lambda item: -item[0])
    used = np.zeros(len(mate), dtype=np.bool_)
    new_pairs: list[tuple[int, int]] = []
    for _, people in moves:
        if used[people].any():
            continue
        used[people] = True
        # Everyone in a move is free or paired within the move: re-pair them.
        a, b, c, d = people
        mate[people] = -1
        mate[a], mate[b] = b, a
        mate[c], mate[d] = d, c
        new_pairs.extend([(a, b), (c, d)])
    if new_pairs:
        pairs = np.array(new_pairs, dtype=np.intp)
        edges.add(scorer, pool, pairs[:, 0], pairs[:, 1])
    return bool(new_pairs)


def _best_per(
    owner: IndexArray, weight: FloatArray, partner: IndexArray, m: int
) -> tuple[FloatArray, IndexArray]:
    """For each owner, its best partner (ties: lowest position) and that weight."""
    best_weight = np.full(m, -np.inf)
    best_partner = np.full(m, -1, dtype=np.intp)
    if len(owner) == 0:
        return best_weight, best_partner
    order = np.lexsort((partner, -weight, owner))
    owner_sorted = owner[order]
    first = order[np.concatenate(([True], owner_sorted[1:] != owner_sorted[:-1]))]
    best_weight[owner[first]] = weight[first]
    best_partner[owner[first]] = partner[first]
    return best_weight, best_partner
