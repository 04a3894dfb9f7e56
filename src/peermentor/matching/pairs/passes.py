"""Passes over all pairs (float32 matrix products, half the matrix by symmetry) that keep each
person's best partners by key minus a per-partner shift, with a bound on everyone not kept."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ..model import ProgressCallback
from ..scoring import FastScores
from .edges import sorted_unique
from .params import COLUMN_BLOCK, ROUNDING, ROW_BLOCK
from .workers import block_workers

FloatArray = NDArray[np.float64]
Float32Array = NDArray[np.float32]
IndexArray = NDArray[np.intp]

SAMPLE = 2048
POPULARITY_QUANTILE = 16 / 2048


@dataclass
class Lists:
    """Per person, the partners ranked best by key_ij - shift_j, and a bound on the rest.

    Every maybe-allowed pair (i, j) NOT listed for i has key_ij - shift_j <= bound_i, so its
    exact score is at most bound_i + shift_j + error.
    """

    owner: IndexArray
    partner: IndexArray
    bound: FloatArray
    shift: FloatArray
    error: float  # of the shifted keys the pass compared

    def caps(self) -> FloatArray:
        """cap_i = bound_i + shift_i + error (+ float32 rounding): every allowed pair outside
        both people's lists scores at most (cap_i + cap_j) / 2 (see certify)."""
        cap: FloatArray = self.bound + self.shift + self.error + ROUNDING
        return cap


def sample_thresholds(
    fast: FastScores, k: int, rng: np.random.Generator
) -> tuple[Float32Array, Float32Array]:
    """Popularity (about the 2(k+1)-th best score of each person, from a random sample of
    partners) and, per person, a starting threshold for the first pass.

    Scores are symmetric, so a person's own row says how much others like them: someone who
    scores high with many people is everybody's favourite. Ranking partners by key minus their
    popularity finds the partners for whom one is a comparatively good match, which is what an
    optimal matching uses; ranking by raw score lists the same few favourites for everyone.
    """
    m = len(fast.pool)
    keep = k + 1
    sample_size = min(m, SAMPLE)
    sample = np.sort(rng.choice(m, size=sample_size, replace=False))
    # The q-th best of s sampled keys is about the (q * m / s)-th best of the row. Popularity
    # is the score at the top 0.8% of the row: deep enough not to be one lucky match (measured:
    # shallower or deeper quantiles give relaxations 0.5-4% worse on 10,000-100,000 people).
    # The starting threshold lets at least four times the sample's share through, so that
    # lists fill in one pass (thresholds then rise as they fill).
    popular = max(1, min(sample_size, round(POPULARITY_QUANTILE * sample_size)))
    passing = min(sample_size, keep if sample_size == m else max(4, 2 * keep * sample_size // m))

    def quantile(values: Float32Array, q: int) -> Float32Array:
        result = np.partition(values, sample_size - q, axis=1)[:, sample_size - q]
        return np.asarray(result, dtype=np.float32)

    sample_popularity = np.maximum(quantile(fast.keys(sample, sample), popular), np.float32(0.0))
    popularity = np.zeros(m, dtype=np.float32)
    threshold = np.full(m, -np.inf, dtype=np.float32)
    for start in range(0, m, ROW_BLOCK * 4):
        stop = min(m, start + ROW_BLOCK * 4)
        keys = fast.keys(slice(start, stop), sample)
        popularity[start:stop] = np.maximum(quantile(keys, popular), np.float32(0.0))
        threshold[start:stop] = quantile(keys - sample_popularity[None, :], passing)
    # Rows with few maybe-allowed partners in the sample keep everything allowed.
    threshold[~np.isfinite(threshold)] = np.float32(-10.0)
    return popularity, threshold


def ranked_lists(
    fast: FastScores,
    shift: Float32Array,
    size: int,
    threshold: Float32Array,
    report: ProgressCallback,
    progress_from: float,
    progress_to: float,
) -> Lists:
    """One pass over all pairs: each person's `size` best partners by key_ij - shift_j."""
    m = len(fast.pool)
    keep = size + 1
    top_key = np.full((m, keep), -np.inf, dtype=np.float32)
    top_partner = np.full((m, keep), -1, dtype=np.intp)
    initial = threshold.astype(np.float32).copy()
    _symmetric_pass(
        fast,
        shift,
        threshold.astype(np.float32).copy(),
        top_key,
        top_partner,
        lambda fraction: report(
            "scoring", progress_from + (progress_to - progress_from) * fraction
        ),
    )
    owner = np.repeat(np.arange(m), size)
    partner = top_partner[:, :size].ravel()
    listed = partner >= 0
    # A full list: everyone else ranks below its last entry. Otherwise nobody was displaced, so
    # everyone not listed ranked below the starting threshold.
    full = top_partner[:, size] >= 0
    bound = np.where(full, top_key[:, size], initial).astype(np.float64)
    return Lists(
        owner[listed].astype(np.intp),
        partner[listed],
        bound,
        shift.astype(np.float64),
        fast.set_shift(shift),
    )


def _symmetric_pass(
    fast: FastScores,
    shift: Float32Array,
    threshold: Float32Array,
    top_key: Float32Array,
    top_partner: IndexArray,
    on_progress: Callable[[float], None],
) -> None:
    """One pass over every pair (each computed once), keeping per person the best partners.

    Partner j is ranked for person i by key_ij - shift_j and kept when that reaches
    threshold_i; thresholds rise as the lists fill. Pairs that are certainly not allowed never
    enter a list. The product gives c_ij = key_ij - shift_i - shift_j directly, so both sides
    of a pair are tested against it: i keeps j when c_ij >= threshold_i - shift_i, and j keeps
    i when c_ij >= threshold_j - shift_j. Row blocks run on all cores (numpy and BLAS release
    the interpreter lock); lists are merged in block order, so results do not depend on timing.
    """
    m = len(fast.pool)
    error = fast.set_shift(shift)
    floor = np.float32(fast.min_score - error)
    blocks = list(range(0, m, ROW_BLOCK))
    # Merging sorts the touched lists: batch the survivors so that each list is sorted rarely.
    merge_every = max(1 << 20, 2 * m * top_key.shape[1])

    list_size = top_key.shape[1]
    # A block only ever needs each person's best few: bound what it holds when many tie.
    local_limit = 4 * list_size * (ROW_BLOCK + COLUMN_BLOCK)

    def scan(start: int) -> tuple[IndexArray, IndexArray, Float32Array]:
        return _scan_rows(fast, shift, threshold, floor, start, list_size, local_limit)

    pending: list[tuple[IndexArray, IndexArray, Float32Array]] = []
    buffered = 0
    with block_workers() as pool:
        for number, found in enumerate(pool.map(scan, blocks)):
            pending.append(found)
            buffered += len(found[0])
            if buffered > merge_every or number == len(blocks) - 1:
                _merge(
                    top_key,
                    top_partner,
                    threshold,
                    np.concatenate([p[0] for p in pending]),
                    np.concatenate([p[1] for p in pending]),
                    np.concatenate([p[2] for p in pending]),
                )
                pending = []
                buffered = 0
            if number % 16 == 0:
                on_progress(number / len(blocks))


def _scan_rows(
    fast: FastScores,
    shift: Float32Array,
    threshold: Float32Array,
    floor: np.float32,
    start: int,
    list_size: int,
    local_limit: int,
) -> tuple[IndexArray, IndexArray, Float32Array]:
    """The pairs of rows start:start+ROW_BLOCK with every later column that reach either side's
    threshold, reduced to each owner's `list_size` best: (owner, partner, key - shift_partner)."""
    m = len(fast.pool)
    stop = min(m, start + ROW_BLOCK)
    owners: list[IndexArray] = []
    partners: list[IndexArray] = []
    values: list[Float32Array] = []
    row_shift = shift[start:stop]
    for column_start in range(start, m, COLUMN_BLOCK):
        column_stop = min(m, column_start + COLUMN_BLOCK)
        reduced = fast.shifted_keys(slice(start, stop), slice(column_start, column_stop))
        width = column_stop - column_start
        row_level = (threshold[start:stop] - row_shift)[:, None]
        column_level = threshold[column_start:column_stop] - shift[column_start:column_stop]
        hit = reduced >= row_level
        hit |= reduced >= column_level[None, :]
        flat = np.flatnonzero(hit)
        if len(flat) == 0:
            continue
        row, column = flat // width, flat % width
        value = reduced.ravel()[flat]
        raw = value + row_shift[row] + shift[column_start + column]
        valid = raw >= floor
        row, column, value = row[valid], column[valid], value[valid]
        person, partner = start + row, column_start + column
        # Row side: person keeps partner, ranked by key - shift_partner.
        mine = value >= row_level[row, 0]
        owners.append(person[mine])
        partners.append(partner[mine])
        values.append(value[mine] + row_shift[row[mine]])
        # Column side, for partners past this row block (each pair is seen once).
        theirs = (value >= column_level[column]) & (partner >= stop)
        owners.append(partner[theirs])
        partners.append(person[theirs])
        values.append(value[theirs] + shift[partner[theirs]])
        if sum(len(x) for x in owners) > local_limit:
            owners, partners, values = _best_per_owner(owners, partners, values, list_size)
    if not owners:
        empty = np.zeros(0, dtype=np.intp)
        return empty, empty, np.zeros(0, dtype=np.float32)
    owners, partners, values = _best_per_owner(owners, partners, values, list_size)
    return owners[0], partners[0], values[0]


def _best_per_owner(
    owners: list[IndexArray], partners: list[IndexArray], values: list[Float32Array], keep: int
) -> tuple[list[IndexArray], list[IndexArray], list[Float32Array]]:
    """Only each owner's `keep` best (value, then lowest partner) of the given triples."""
    owner = np.concatenate(owners)
    partner = np.concatenate(partners)
    value = np.concatenate(values)
    order = np.lexsort((partner, _owner_then_descending(owner, value)))
    owner, partner, value = owner[order], partner[order], value[order]
    starts = np.flatnonzero(np.concatenate(([True], owner[1:] != owner[:-1])))
    counts = np.diff(np.concatenate([starts, [len(owner)]]))
    rank = np.arange(len(owner)) - np.repeat(starts, counts)
    kept = rank < keep
    return [owner[kept]], [partner[kept]], [value[kept]]


def _owner_then_descending(owner: IndexArray, value: Float32Array) -> NDArray[np.int64]:
    """One int64 sort key: by owner, then by value from the largest (float32 bits, ordered)."""
    bits = np.ascontiguousarray(value, dtype=np.float32).view(np.uint32).astype(np.int64)
    # IEEE order as integers: flip negatives entirely, set the sign bit of the others.
    ordered = np.where(bits >= 1 << 31, (1 << 32) - 1 - bits, bits + (1 << 31))
    descending = (1 << 32) - 1 - ordered
    key: NDArray[np.int64] = owner.astype(np.int64) * (1 << 32) + descending
    return key


def _merge(
    top_key: Float32Array,
    top_partner: IndexArray,
    threshold: Float32Array,
    owners: IndexArray,
    partners: IndexArray,
    values: Float32Array,
) -> None:
    """Merge new (owner, partner, key) triples into the per-owner top lists."""
    if len(owners) == 0:
        return
    keep = top_key.shape[1]
    touched = sorted_unique(owners)
    all_owners = np.concatenate([np.repeat(touched, keep), owners])
    all_partners = np.concatenate([top_partner[touched].ravel(), partners])
    all_values = np.concatenate([top_key[touched].ravel(), values])
    real = all_partners >= 0
    all_owners, all_partners, all_values = all_owners[real], all_partners[real], all_values[real]
    order = np.lexsort((all_partners, _owner_then_descending(all_owners, all_values)))
    all_owners, all_partners, all_values = all_owners[order], all_partners[order], all_values[order]
    group_start = np.searchsorted(all_owners, touched)
    counts = np.diff(np.concatenate([group_start, [len(all_owners)]]))
    rank = np.arange(len(all_owners)) - np.repeat(group_start, counts)
    kept = rank < keep
    slot = np.searchsorted(touched, all_owners[kept])
    new_key = np.full((len(touched), keep), -np.inf, dtype=np.float32)
    new_partner = np.full((len(touched), keep), -1, dtype=np.intp)
    new_key[slot, rank[kept]] = all_values[kept]
    new_partner[slot, rank[kept]] = all_partners[kept]
    top_key[touched] = new_key
    top_partner[touched] = new_partner
    full = new_partner[:, keep - 1] >= 0
    threshold[touched[full]] = np.maximum(threshold[touched[full]], new_key[full, keep - 1])
