"""The relaxation and its certificate: feasible duals, tight against an LP solver."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from peermentor.matching.bounds import DoubleCover, auction, tighten_dual


def random_graph(
    seed: int, n: int, density: float, levels: int | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    first, second = np.nonzero(np.triu(rng.random((n, n)) < density, 1))
    # With levels, only a few distinct weights: heavy ties.
    weights = rng.integers(0, levels + 1, len(first)) / levels if levels else rng.random(len(first))
    return first.astype(np.intp), second.astype(np.intp), weights


def lp_optimum(n: int, first: np.ndarray, second: np.ndarray, weights: np.ndarray) -> float:
    if len(first) == 0:
        return 0.0
    rows = np.concatenate([first, second])
    cols = np.concatenate([np.arange(len(first))] * 2)
    incidence = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, len(first)))
    result = linprog(-weights, A_ub=incidence, b_ub=np.ones(n), bounds=(0, None), method="highs")
    return float(-result.fun)


def is_feasible(
    dual: np.ndarray, first: np.ndarray, second: np.ndarray, weights: np.ndarray
) -> bool:
    return bool(np.all(dual >= 0) and np.all(dual[first] + dual[second] >= weights))


@settings(max_examples=25, deadline=None)
@given(
    st.integers(0, 10_000),
    st.integers(2, 60),
    st.floats(0.05, 0.9),
    st.sampled_from([None, 2, 4]),
)
def test_auction_dual_is_feasible_and_close_to_the_lp(
    seed: int, n: int, density: float, levels: int | None
) -> None:
    first, second, weights = random_graph(seed, n, density, levels)
    cover = DoubleCover(n, first, second, weights, 0.0)
    epsilon = 1e-4
    _, prices = auction(cover, epsilon_final=epsilon, epsilon_start=0.05)
    dual = cover.matching_dual(prices)
    optimum = lp_optimum(n, first, second, weights)
    assert is_feasible(dual, first, second, weights)
    assert dual.sum() >= optimum - 1e-9
    assert dual.sum() <= optimum + n * epsilon + 1e-9
    tightened = tighten_dual(cover, dual)
    assert is_feasible(tightened, first, second, weights)
    assert optimum - 1e-9 <= tightened.sum() <= dual.sum() + 1e-6


def test_unfinished_auction_still_gives_a_feasible_dual() -> None:
    first, second, weights = random_graph(5, 300, 0.1, levels=3)
    cover = DoubleCover(300, first, second, weights, 0.0)
    assigned, prices = auction(
        cover, epsilon_final=3e-4, epsilon_start=0.05, finish_assignment=False
    )
    dual = tighten_dual(cover, cover.matching_dual(prices))
    assert is_feasible(dual, first, second, weights)
    assert dual.sum() == pytest.approx(lp_optimum(300, first, second, weights), rel=2e-3)
    taken = assigned[assigned >= 0]
    assert len(np.unique(taken)) == len(taken), "no object is assigned twice"


def test_outside_options_give_duals_above_half_of_them() -> None:
    first, second, weights = random_graph(9, 80, 0.1)
    options = np.random.default_rng(1).random(80) * 0.8
    cover = DoubleCover(80, first, second, weights, options)
    _, prices = auction(cover, epsilon_final=1e-4, epsilon_start=0.05, finish_assignment=False)
    for dual in (cover.matching_dual(prices), tighten_dual(cover, cover.matching_dual(prices))):
        assert is_feasible(dual, first, second, weights)
        assert np.all(dual >= options / 2)
    # Never below the plain relaxation, which it contains.
    assert (
        tighten_dual(cover, cover.matching_dual(prices)).sum()
        >= lp_optimum(80, first, second, weights) - 1e-9
    )
