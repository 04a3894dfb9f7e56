"""Balance penalties: how a move, a swap or a re-split changes the sum over circles and
categories of (count - size x population share)^2 of the policy's `balance` attributes."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from .params import BALANCE_WEIGHT
from .state import State

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]


def split_penalty(state: State, pooled: IntArray, inside: FloatArray) -> FloatArray:
    """Balance penalty of both parts of every split (P, M)."""
    total = np.zeros((pooled.shape[0], inside.shape[1]))
    size_in = inside.sum(axis=0)
    size_out = pooled.shape[1] - size_in
    for attribute in state.balance:
        one_hot = np.eye(len(attribute.shares))[attribute.codes[pooled]]  # (P, t, cats)
        counts_in = np.einsum("ptc,tm->pmc", one_hot, inside)
        counts_out = one_hot.sum(axis=1)[:, None, :] - counts_in
        expected_in = size_in[None, :, None] * attribute.shares[None, None, :]
        expected_out = size_out[None, :, None] * attribute.shares[None, None, :]
        total += ((counts_in - expected_in) ** 2).sum(axis=2)
        total += ((counts_out - expected_out) ** 2).sum(axis=2)
    return BALANCE_WEIGHT * total


def balance_move(state: State, people: IntArray, home: IntArray, circles: IntArray) -> FloatArray:
    """Change of balance penalty when each person moves to each candidate circle."""
    safe_home = np.maximum(home, 0)
    safe_circles = np.maximum(circles, 0)
    delta = np.zeros(circles.shape)
    for attribute in state.balance:
        category = attribute.codes[people]
        shares = attribute.shares
        share2 = float((shares**2).sum())
        counts_c = attribute.counts[safe_circles].astype(np.float64)  # (B, K, cats)
        q_c = (counts_c**2).sum(axis=2)
        r_c = counts_c @ shares
        s_c = state.size[safe_circles].astype(np.float64)
        c_k = np.take_along_axis(counts_c, category[:, None, None], axis=2)[:, :, 0]
        p_k = shares[category][:, None]
        delta += _penalty(q_c + 2 * c_k + 1, r_c + p_k, s_c + 1, share2) - _penalty(
            q_c, r_c, s_c, share2
        )
        counts_h = attribute.counts[safe_home].astype(np.float64)  # (B, cats)
        q_h = (counts_h**2).sum(axis=1)
        r_h = counts_h @ shares
        s_h = state.size[safe_home].astype(np.float64)
        h_k = counts_h[np.arange(len(people)), category]
        leave = _penalty(q_h - 2 * h_k + 1, r_h - shares[category], s_h - 1, share2)
        leave -= _penalty(q_h, r_h, s_h, share2)
        delta += np.where(home >= 0, leave, 0.0)[:, None]
    return BALANCE_WEIGHT * delta


def _penalty(squares: FloatArray, dot: FloatArray, size: FloatArray, share2: float) -> FloatArray:
    """sum_k (c_k - s p_k)^2 from sum c_k^2, sum c_k p_k, s and sum p_k^2."""
    return squares - 2.0 * size * dot + size * size * share2


def balance_swap(
    state: State, people: IntArray, home: IntArray, circles: IntArray, q: IntArray
) -> FloatArray:
    """Change of balance penalty when each person swaps with each member q of a circle."""
    safe_home = np.maximum(home, 0)
    safe_circles = np.maximum(circles, 0)
    safe_q = np.maximum(q, 0)
    delta = np.zeros(q.shape)
    for attribute in state.balance:
        shares = attribute.shares
        k_p = attribute.codes[people][:, None, None]  # person's category
        k_q = attribute.codes[safe_q]  # (B, K, hi)
        differ = k_p != k_q
        counts_c = attribute.counts[safe_circles].astype(np.float64)  # (B, K, cats)
        # In the candidate circle, q (k_q) leaves and the person (k_p) arrives.
        c_q = np.take_along_axis(counts_c, k_q, axis=2)
        c_p = np.take_along_axis(counts_c, np.broadcast_to(k_p, k_q.shape), axis=2)
        delta_q = -2 * c_q + 1 + 2 * c_p + 1
        delta_r = shares[np.broadcast_to(k_p, k_q.shape)] - shares[k_q]
        s_c = state.size[safe_circles].astype(np.float64)[:, :, None]
        delta_c = delta_q - 2.0 * s_c * delta_r
        # At home the person leaves and q arrives (only if the person had a home).
        counts_h = attribute.counts[safe_home].astype(np.float64)  # (B, cats)
        h_p = counts_h[np.arange(len(people)), attribute.codes[people]][:, None, None]
        h_q = np.take_along_axis(counts_h, k_q.reshape(len(people), -1), axis=1)
        h_q = h_q.reshape(k_q.shape)
        s_h = state.size[safe_home].astype(np.float64)[:, None, None]
        delta_h = (-2 * h_p + 1 + 2 * h_q + 1) - 2.0 * s_h * (-delta_r)
        delta_h = np.where((home >= 0)[:, None, None], delta_h, 0.0)
        delta += np.where(differ, delta_c + delta_h, 0.0)
    return BALANCE_WEIGHT * delta
