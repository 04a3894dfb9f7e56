"""The certificate: raise the candidate graph's dual so that it covers every allowed pair
(docs/matching.md, "The certified upper bound")."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from ..scoring import FastScores
from .params import COLUMN_BLOCK, ROUNDING, ROW_BLOCK
from .passes import Lists
from .workers import block_workers

FloatArray = NDArray[np.float64]
IndexArray = NDArray[np.intp]

# How many pairs the certificate may price exactly (a few seconds of matrix products).
PRICING_PAIRS = 200_000_000


def certify(
    fast: FastScores,
    dual: FloatArray,
    priced: Lists,
    *,
    budget_rows: int | None = None,
) -> tuple[FloatArray, tuple[IndexArray, IndexArray], dict[str, float]]:
    """Raise the candidate-graph dual u so that it covers EVERY allowed pair (docs/matching.md).

    Pairs in the candidate graph are covered by u itself. For a pair (i, j) outside it, pass 2
    listed neither for the other, so with cap_i = r_i + u1_i (r from pass 2, u1 the duals it
    priced with) and e the keys' error:

        w_ij <= min(r_i + u1_j, r_j + u1_i) + e <= (cap_i + cap_j) / 2 + e,

    hence u_i >= (cap_i + e) / 2 for both people covers it. Where that raise would cost most,
    the person is priced exactly instead: their row is scored against everybody and their dual
    set to max_j (w_ij - u_j) (keys plus their error), which covers every pair they are in.
    Returns the certified dual, violated pairs worth adding as candidates, and report figures.
    """
    m = len(dual)
    rounding = ROUNDING
    cap = priced.caps()
    unpriced_value = np.maximum(dual, cap * 0.5)
    deficiency = unpriced_value - dual
    order = np.argsort(-deficiency, kind="stable")
    significant = order[deficiency[order] > 1e-6]
    limit = budget_rows if budget_rows is not None else max(512, PRICING_PAIRS // max(m, 1))
    rows_to_price = np.sort(significant[:limit])
    result = unpriced_value.copy()
    dual32 = dual.astype(np.float32)
    shifted_error = fast.set_shift(dual32) + rounding
    floor = np.float32(fast.min_score - shifted_error)

    def price(rows: IndexArray) -> tuple[FloatArray, IndexArray, IndexArray]:
        """max_j (key_ij - u_j) - u_i per row, and pairs missed by a clear margin."""
        needed = np.full(len(rows), -np.inf, dtype=np.float32)
        first: list[IndexArray] = []
        second: list[IndexArray] = []
        for column_start in range(0, m, COLUMN_BLOCK):
            column_stop = min(m, column_start + COLUMN_BLOCK)
            # reduced = key_ij - u_i - u_j in one product.
            reduced = fast.shifted_keys(rows, slice(column_start, column_stop))
            if fast.min_score > 0:
                raw_floor = floor - dual32[rows][:, None] - dual32[None, column_start:column_stop]
                reduced[reduced < raw_floor] = -np.inf
            needed = np.maximum(needed, reduced.max(axis=1))
            hits = np.flatnonzero(reduced > 1e-3)
            if len(hits):
                width = column_stop - column_start
                strongest = hits[np.argsort(-reduced.ravel()[hits])[: 4 * len(rows)]]
                first.append(rows[strongest // width])
                second.append(column_start + strongest % width)
        empty = np.zeros(0, dtype=np.intp)
        return (
            needed.astype(np.float64),
            np.concatenate(first) if first else empty,
            np.concatenate(second) if second else empty,
        )

    groups = [rows_to_price[i : i + ROW_BLOCK] for i in range(0, len(rows_to_price), ROW_BLOCK)]
    violated_first: list[IndexArray] = []
    violated_second: list[IndexArray] = []
    with block_workers() as executor:
        for rows, (needed, first, second) in zip(groups, executor.map(price, groups), strict=True):
            exact_row = np.maximum(dual[rows], dual[rows] + needed + shifted_error)
            result[rows] = np.minimum(exact_row, unpriced_value[rows])
            violated_first.append(first)
            violated_second.append(second)
    stats = {
        "dual_cap_rule_raise": float(deficiency.sum()),
        "dual_candidate_graph": float(dual.sum()),
        "dual_raise": float((result - dual).sum()),
        "rows_priced": float(len(rows_to_price)),
        "keys_error": float(fast.error),
    }
    empty = np.zeros(0, dtype=np.intp)
    first = np.concatenate(violated_first) if violated_first else empty
    second = np.concatenate(violated_second) if violated_second else empty
    return result, (first, second), stats
