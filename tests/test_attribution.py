"""Baseline Shapley attributions: exact sums, LightGBM's own routing, agreement with shap where
shap is right, and a brute-force Shapley computation where it is not (categorical and
missing splits)."""

from __future__ import annotations

import itertools
import math

import lightgbm as lgb
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from models.attribution import BaselineShapley, forest_from_booster

N_CATEGORIES = 5


def _data(n: int, seed: int, missing: bool, categorical: bool) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 6))
    X[:, 2] = rng.integers(0, 4, n)  # a count with many exact zeros
    if categorical:
        X[:, 5] = rng.integers(0, N_CATEGORIES, n)
    logit = X[:, 0] - 0.8 * X[:, 1] + 0.5 * X[:, 2] + 0.7 * (X[:, 5] % 2) + 0.3 * X[:, 3] * X[:, 4]
    if missing:
        for j in (0, 1, 3):
            X[rng.random(n) < 0.2, j] = np.nan
        logit = np.where(np.isnan(X[:, 0]), 1.0, logit)  # missing means something
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    return X, y


def _booster(
    missing: bool,
    categorical: bool,
    leaves: int = 15,
    trees: int = 40,
    seed: int = 0,
    zero_as_missing: bool = False,
) -> lgb.Booster:
    X, y = _data(3000, seed, missing, categorical)
    params = {
        "objective": "binary",
        "num_leaves": leaves,
        "learning_rate": 0.2,
        "min_data_in_leaf": 20,
        "min_data_per_group": 5,
        "cat_smooth": 1.0,
        "max_cat_to_onehot": 2,
        "zero_as_missing": zero_as_missing,
        "verbose": -1,
        "seed": seed,
    }
    data = lgb.Dataset(X, y, categorical_feature=[5] if categorical else "auto")
    return lgb.train(params, data, num_boost_round=trees)


@pytest.fixture(scope="module")
def mixed() -> lgb.Booster:
    return _booster(missing=True, categorical=True)


def _rows(n: int, seed: int) -> np.ndarray:
    X, _ = _data(n, seed, missing=True, categorical=True)
    rng = np.random.default_rng(seed + 1)
    X[rng.random(n) < 0.1, 5] = np.nan  # missing category
    X[rng.random(n) < 0.05, 5] = N_CATEGORIES + 2  # a category never seen in training
    X[rng.random(n) < 0.1, 2] = np.nan
    return X


def test_the_model_under_test_has_categorical_and_missing_splits(mixed: lgb.Booster) -> None:
    forest = forest_from_booster(mixed)
    assert forest.is_categorical.any()
    inner = forest.feature >= 0
    assert (forest.missing_type[inner] == 2).any()  # NaN-aware splits
    assert (forest.default_left[inner] & (forest.missing_type[inner] == 2)).any()


def test_routing_equals_lightgbm_pred_leaf(mixed: lgb.Booster) -> None:
    X = _rows(400, seed=3)
    explainer = BaselineShapley(mixed, X[0])
    expected = np.asarray(mixed.predict(X, pred_leaf=True), dtype=np.int64)
    np.testing.assert_array_equal(explainer.leaves(X), expected)


def test_routing_with_zero_as_missing() -> None:
    booster = _booster(missing=True, categorical=False, zero_as_missing=True)
    forest = forest_from_booster(booster)
    assert (forest.missing_type[forest.feature >= 0] == 1).any()
    X = _rows(300, seed=4)
    X[:, 5] = np.where(np.isnan(X[:, 5]), 0.0, X[:, 5])
    X[::7, 0] = 0.0
    explainer = BaselineShapley(booster, X[1])
    np.testing.assert_array_equal(
        explainer.leaves(X), np.asarray(booster.predict(X, pred_leaf=True), dtype=np.int64)
    )
    phi = explainer.explain(X)
    margin = np.asarray(booster.predict(X, raw_score=True))
    np.testing.assert_allclose(phi.sum(1) + explainer.base_value_, margin, rtol=0, atol=1e-9)


row_values = st.one_of(
    st.floats(-4, 4, allow_nan=False),
    st.just(float("nan")),
    st.sampled_from([0.0, 1.0, 2.0, 3.0]),
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    x=st.lists(row_values, min_size=6, max_size=6),
    r=st.lists(row_values, min_size=6, max_size=6),
    cat_x=st.one_of(st.integers(0, N_CATEGORIES + 2).map(float), st.just(float("nan"))),
    cat_r=st.integers(0, N_CATEGORIES - 1).map(float),
)
def test_contributions_add_up_to_the_margin_difference(
    mixed: lgb.Booster, x: list[float], r: list[float], cat_x: float, cat_r: float
) -> None:
    x[5], r[5] = cat_x, cat_r
    explainer = BaselineShapley(mixed, np.array(r))
    X = np.array([x])
    phi = explainer.explain(X)
    margin = float(np.asarray(mixed.predict(X, raw_score=True))[0])
    base = float(np.asarray(mixed.predict(np.array([r]), raw_score=True))[0])
    assert explainer.base_value_ == pytest.approx(base, abs=1e-12)
    assert phi.sum() + explainer.base_value_ == pytest.approx(margin, abs=1e-9)
    # a feature where x and r agree gets nothing
    same = [j for j in range(6) if x[j] == r[j] or (math.isnan(x[j]) and math.isnan(r[j]))]
    assert np.all(phi[0, same] == 0.0)


def test_batch_sums_on_many_rows(mixed: lgb.Booster) -> None:
    X = _rows(3000, seed=5)
    explainer = BaselineShapley(mixed, np.nanmedian(X, axis=0))
    phi, walked = explainer.explain_with_margin(X)
    margin = np.asarray(mixed.predict(X, raw_score=True))
    # the walk's own margin is the booster's, to the bit (the scoring path uses it)
    np.testing.assert_array_equal(walked, margin)
    np.testing.assert_allclose(phi.sum(1) + explainer.base_value_, margin, rtol=0, atol=1e-9)
    # rows are independent: one row alone gives what it gave in the batch
    np.testing.assert_allclose(explainer.explain(X[17:18])[0], phi[17], rtol=0, atol=1e-12)


def _brute_force(booster: lgb.Booster, x: np.ndarray, r: np.ndarray) -> np.ndarray:
    """Shapley values of v(S) = f(x on S, r elsewhere), every subset evaluated by LightGBM."""
    n = len(x)
    subsets = list(itertools.product([False, True], repeat=n))
    hybrids = np.array([np.where(mask, x, r) for mask in subsets])
    value = dict(zip(subsets, np.asarray(booster.predict(hybrids, raw_score=True)), strict=True))
    phi = np.zeros(n)
    for i in range(n):
        for mask in subsets:
            if mask[i]:
                continue
            k = sum(mask)
            weight = math.factorial(k) * math.factorial(n - k - 1) / math.factorial(n)
            with_i = tuple(True if j == i else m for j, m in enumerate(mask))
            phi[i] += weight * (value[with_i] - value[mask])
    return phi


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_equals_brute_force_shapley_on_categorical_and_missing_splits(seed: int) -> None:
    booster = _booster(missing=True, categorical=True, leaves=6, trees=12, seed=seed)
    X = _rows(12, seed=10 + seed)
    for i in range(0, 12, 2):
        x, r = X[i], X[i + 1]
        explainer = BaselineShapley(booster, r)
        np.testing.assert_allclose(
            explainer.explain(x.reshape(1, -1))[0], _brute_force(booster, x, r), atol=1e-9
        )


def test_equals_shap_interventional_where_shap_is_right() -> None:
    """Numeric features and no missing values: shap's interventional TreeExplainer with one
    reference row computes the same baseline Shapley values."""
    shap = pytest.importorskip("shap")
    booster = _booster(missing=False, categorical=False, leaves=31, trees=60)
    X, _ = _data(200, seed=7, missing=False, categorical=False)
    reference = np.median(X, axis=0)
    explainer = BaselineShapley(booster, reference)
    theirs = shap.TreeExplainer(
        booster, data=reference.reshape(1, -1), feature_perturbation="interventional"
    )
    np.testing.assert_allclose(explainer.explain(X), theirs.shap_values(X), atol=1e-6)
    assert explainer.base_value_ == pytest.approx(float(np.ravel(theirs.expected_value)[0]))


def test_refuses_a_reference_of_the_wrong_width(mixed: lgb.Booster) -> None:
    with pytest.raises(ValueError, match="6 features"):
        BaselineShapley(mixed, np.zeros(4))
    with pytest.raises(ValueError, match=r"\(n, 6\)"):
        BaselineShapley(mixed, np.zeros(6)).explain(np.zeros((2, 5)))
