"""Properties of the PD calibrator, the WoE scorecard baseline and the metrics.

Synthetic data with fixed seeds; every test pins a concrete number or an ordering that a wrong
implementation would break.
"""

from __future__ import annotations

import json
import math
import re

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from models.calibration import PDCalibrator
from models.metrics import (
    PSI_EPSILON,
    approval_rates,
    auc,
    brier,
    calibration_by_group,
    calibration_error,
    calibration_table,
    four_fifths,
    psi,
)
from models.woe import MISSING, WoEBinner, WoEScorecard


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def test_sigmoid_helper() -> None:
    assert _sigmoid(np.array([0.0]))[0] == 0.5
    assert _sigmoid(np.array([math.log(3.0)]))[0] == pytest.approx(0.75, rel=1e-12)


def _logistic_sample(seed: int, n: int = 20_000) -> tuple[np.ndarray, np.ndarray]:
    """True log-odds z ~ N(-2, 1.2) and y ~ Bernoulli(sigmoid(z)) (about 15 % defaults)."""
    rng = np.random.default_rng(seed)
    z = rng.normal(-2.0, 1.2, n)
    return z, rng.binomial(1, _sigmoid(z))


def _step_sample(seed: int, n: int = 20_000) -> tuple[np.ndarray, np.ndarray]:
    """A margin whose PD is a staircase (3 %, 40 %, 45 %): no sigmoid fits its plateaus."""
    rng = np.random.default_rng(seed)
    u = rng.normal(0.0, 1.0, n)
    p = np.where(u < -0.5, 0.03, np.where(u < 0.5, 0.40, 0.45))
    return u, rng.binomial(1, p)


# -- PDCalibrator ------------------------------------------------------------------------------


def test_calibration_improves_brier_of_a_miscalibrated_margin() -> None:
    z, y = _logistic_sample(0)
    margin = 2.0 * z + 1.0  # ranks perfectly, but far too confident and shifted
    cal = PDCalibrator().fit(margin, y)
    z_new, y_new = _logistic_sample(1)
    margin_new = 2.0 * z_new + 1.0
    raw = brier(y_new, _sigmoid(margin_new))
    calibrated = brier(y_new, cal.predict(margin_new))
    oracle = brier(y_new, _sigmoid(z_new))
    assert raw - calibrated > 0.005
    assert calibrated - oracle < 0.0005
    # and the mean PD matches the default rate out of sample
    assert cal.predict(margin_new).mean() == pytest.approx(y_new.mean(), abs=0.01)


def test_auto_picks_platt_on_a_logistic_linear_margin() -> None:
    z, y = _logistic_sample(0)
    cal = PDCalibrator(method="auto").fit(2.0 * z + 1.0, y)
    assert cal.method_ == "platt"
    assert set(cal.brier_holdout_) == {"isotonic", "platt"}
    assert cal.brier_holdout_["platt"] < cal.brier_holdout_["isotonic"]
    # Platt recovers the inverse of the distortion: a = 1/2, b = -1/2
    assert cal.a_ == pytest.approx(0.5, abs=0.03)
    assert cal.b_ == pytest.approx(-0.5, abs=0.08)


def test_auto_picks_isotonic_on_a_staircase() -> None:
    u, y = _step_sample(0)
    cal = PDCalibrator(method="auto").fit(u, y)
    assert cal.method_ == "isotonic"
    assert cal.brier_holdout_["isotonic"] < cal.brier_holdout_["platt"] - 0.005
    # the mapping recovers the plateaus (averaged over each: isotonic steps are noisy at the ends)
    p = cal.predict(u)
    assert p[u < -0.5].mean() == pytest.approx(0.03, abs=0.005)
    assert p[(u >= -0.5) & (u < 0.5)].mean() == pytest.approx(0.40, abs=0.02)
    assert p[u >= 0.5].mean() == pytest.approx(0.45, abs=0.02)


def test_fixed_method_skips_the_holdout_comparison() -> None:
    u, y = _step_sample(0)
    cal = PDCalibrator(method="platt").fit(u, y)
    assert cal.method_ == "platt"
    assert cal.brier_holdout_ == {}
    assert not hasattr(cal, "x_thresholds_")


def test_auto_is_reproducible_for_a_seed() -> None:
    u, y = _step_sample(3)
    a = PDCalibrator(random_state=7).fit(u, y)
    b = PDCalibrator(random_state=7).fit(u, y)
    assert a.brier_holdout_ == b.brier_holdout_


@pytest.mark.parametrize("method", ["isotonic", "platt"])
def test_predict_is_monotone_in_margin(method: str) -> None:
    z, y = _logistic_sample(2, n=5_000)
    cal = PDCalibrator(method=method).fit(2.0 * z + 1.0, y)  # type: ignore[arg-type]
    grid = np.linspace(-30.0, 30.0, 4001)
    assert np.all(np.diff(cal.predict(grid)) >= 0.0)


@pytest.mark.parametrize("method", ["isotonic", "platt"])
def test_clip_is_respected(method: str) -> None:
    z, y = _logistic_sample(4, n=5_000)
    cal = PDCalibrator(method=method, clip=(0.01, 0.6)).fit(2.0 * z + 1.0, y)  # type: ignore[arg-type]
    p = cal.predict(np.linspace(-50.0, 50.0, 1001))
    assert p.min() == 0.01
    assert p.max() == 0.6


@pytest.mark.parametrize("method", ["auto", "isotonic", "platt"])
def test_json_round_trip_predicts_identically(method: str) -> None:
    u, y = _step_sample(5, n=6_000)
    cal = PDCalibrator(method=method, clip=(0.001, 0.9)).fit(u, y)  # type: ignore[arg-type]
    restored = PDCalibrator.from_dict(json.loads(json.dumps(cal.to_dict())))
    grid = np.concatenate([np.linspace(-5.0, 5.0, 2001), u])
    assert np.array_equal(restored.predict(grid), cal.predict(grid))
    assert restored.method_ == cal.method_
    assert restored.brier_holdout_ == cal.brier_holdout_
    assert restored.clip == (0.001, 0.9)


def test_invalid_method_message() -> None:
    expected = (
        "The 'method' parameter of PDCalibrator must be one of "
        "{'auto', 'isotonic', 'platt'}; got 'sigmoid' instead."
    )
    with pytest.raises(ValueError, match=re.escape(expected)):
        PDCalibrator(method="sigmoid").fit([0.0, 1.0, 2.0, 3.0], [0, 1, 0, 1])  # type: ignore[arg-type]


def test_invalid_clip_and_inputs() -> None:
    with pytest.raises(ValueError, match="The 'clip' parameter of PDCalibrator"):
        PDCalibrator(clip=(0.5, 0.1)).fit([0.0, 1.0, 2.0, 3.0], [0, 1, 0, 1])
    with pytest.raises(ValueError, match="both classes"):
        PDCalibrator().fit([0.0, 1.0, 2.0], [0, 0, 0])
    with pytest.raises(ValueError, match="NaN"):
        PDCalibrator().fit([0.0, np.nan, 2.0, 3.0], [0, 1, 0, 1])
    with pytest.raises(RuntimeError, match="not fitted"):
        PDCalibrator().predict([0.0])
    with pytest.raises(ValueError, match="not a serialised PDCalibrator"):
        PDCalibrator.from_dict({"format": "pickle"})


def test_init_only_stores_arguments() -> None:
    cal = PDCalibrator(method="platt", clip=(0.1, 0.2), random_state=3)
    assert vars(cal) == {"method": "platt", "clip": (0.1, 0.2), "random_state": 3}


# -- WoE binning and scorecard -----------------------------------------------------------------


def _scorecard_problem(seed: int, n: int = 10_000) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """3 informative features (2 numeric, 1 category) and 2 noise features; returns frame, y, z."""
    rng = np.random.default_rng(seed)
    x1 = rng.normal(size=n)
    x2 = rng.exponential(size=n)
    x3 = rng.choice(["a", "b", "c", "d"], size=n)
    effect = pd.Series(x3).map({"a": -0.8, "b": 0.0, "c": 0.5, "d": 1.2}).to_numpy()
    z = -1.5 + 1.0 * x1 - 0.8 * x2 + effect
    frame = pd.DataFrame(
        {
            "x1": x1,
            "x2": x2,
            "x3": pd.Series(x3, dtype="category"),
            "noise_num": rng.normal(size=n),
            "noise_cat": pd.Series(rng.choice(["p", "q", "r"], size=n), dtype="str"),
        }
    )
    return frame, rng.binomial(1, _sigmoid(z)), z


def test_woe_matches_the_smoothed_formula_by_hand() -> None:
    # A: 10 rows, 4 defaults; B: 30 rows, 3 defaults -> B=7, G=33, s=0.5, k=2
    frame = pd.DataFrame({"c": ["A"] * 10 + ["B"] * 30})
    y = [1] * 4 + [0] * 6 + [1] * 3 + [0] * 27
    binner = WoEBinner(smoothing=0.5).fit(frame, y)
    assert binner.woe_["c"]["A"] == pytest.approx(1.0791942028110082, rel=1e-9)
    assert binner.woe_["c"]["B"] == pytest.approx(-0.6145040532408321, rel=1e-9)
    share_bad = np.array([4.5, 3.5]) / 8
    share_good = np.array([6.5, 27.5]) / 34
    iv = float(np.sum((share_bad - share_good) * np.log(share_bad / share_good)))
    assert binner.iv_["c"] == pytest.approx(iv, rel=1e-9)


def test_woe_is_positive_for_the_riskier_bin() -> None:
    rng = np.random.default_rng(0)
    n = 4_000
    x = rng.uniform(0.0, 1.0, n)
    y = rng.binomial(1, 0.02 + 0.4 * x)  # risk rises with x
    binner = WoEBinner(max_bins=4).fit(pd.DataFrame({"x": x}), y)
    woe = [binner.woe_["x"][label] for label in binner.bins_["x"].labels]
    assert len(woe) == 4
    assert woe[0] < 0.0 < woe[-1]
    assert all(np.diff(woe) > 0)  # more risk, more WoE, bin by bin


def test_numeric_bins_are_right_closed_quantiles() -> None:
    frame = pd.DataFrame({"x": np.arange(1.0, 101.0)})
    # 2, 6, 12 and 20 defaults in the four quarters, so every bin has its own WoE
    y = np.concatenate([np.r_[np.ones(k), np.zeros(25 - k)] for k in (2, 6, 12, 20)])
    binner = WoEBinner(max_bins=4, min_bin_share=0.0).fit(frame, y)
    bins = binner.bins_["x"]
    assert bins.edges == (25.75, 50.5, 75.25)
    assert bins.n == (25, 25, 25, 25)
    assert bins.n_bad == (2, 6, 12, 20)
    woe = [binner.woe_["x"][label] for label in bins.labels]
    assert len(set(woe)) == 4
    out = binner.transform(pd.DataFrame({"x": [25.75, 25.76, -1e9, 1e9]}))["x"].tolist()
    assert out == [woe[0], woe[1], woe[0], woe[3]]


def test_small_bins_merge_with_heavily_tied_values() -> None:
    # 90 % zeros: quantile edges collapse; a 3 % tail bin is merged into its neighbour
    x = np.r_[np.zeros(900), np.full(70, 1.0), np.full(30, 2.0)]
    y = np.r_[np.zeros(880), np.ones(20), np.zeros(50), np.ones(20), np.ones(30)]
    binner = WoEBinner(max_bins=10, min_bin_share=0.05).fit(pd.DataFrame({"x": x}), y)
    bins = binner.bins_["x"]
    assert bins.n == (900, 100)
    assert min(bins.n) >= 0.05 * 1000


def test_relabelling_categories_changes_nothing() -> None:
    frame, y, _ = _scorecard_problem(1, n=4_000)
    renamed = frame.copy()
    renamed["x3"] = renamed["x3"].cat.rename_categories({"a": "zz", "b": "y", "c": "b", "d": "a"})
    renamed["noise_cat"] = renamed["noise_cat"].map({"p": "r", "q": "p", "r": "q"})
    p = WoEScorecard().fit(frame, y).predict_proba(frame)
    p_renamed = WoEScorecard().fit(renamed, y).predict_proba(renamed)
    assert np.array_equal(p, p_renamed)


def test_str_and_category_columns_give_the_same_woe() -> None:
    frame, y, _ = _scorecard_problem(2, n=3_000)
    as_str = frame.assign(x3=frame["x3"].astype("str"))
    a = WoEBinner().fit(frame, y).transform(frame)
    b = WoEBinner().fit(as_str, y).transform(as_str)
    pd.testing.assert_frame_equal(a, b)


def test_unseen_category_and_unseen_missing_get_zero_woe() -> None:
    frame = pd.DataFrame(
        {
            "c": pd.Series(["a", "b"] * 50, dtype="category"),
            "x": np.tile([1.0, 2.0, 3.0, 4.0], 25),
        }
    )
    y = np.tile([1, 0, 0, 0], 25)
    binner = WoEBinner().fit(frame, y)
    new = pd.DataFrame(
        {
            "c": pd.Series(["a", "never_seen", None], dtype="category"),
            "x": [1.0, np.nan, np.inf],
        }
    )
    out = binner.transform(new)
    assert out["c"].tolist() == [binner.woe_["c"]["a"], 0.0, 0.0]
    assert out["x"].iloc[1] == 0.0 and out["x"].iloc[2] == 0.0
    assert out["c"].iloc[0] > 0.0  # "a" carries every default
    assert out.index.equals(new.index)


def test_missing_values_get_their_own_bin() -> None:
    x = np.r_[np.full(100, np.nan), np.linspace(0.0, 1.0, 300)]
    y = np.r_[np.ones(40), np.zeros(60), np.zeros(270), np.ones(30)]
    binner = WoEBinner(max_bins=3).fit(pd.DataFrame({"x": x}), y)
    bins = binner.bins_["x"]
    assert bins.labels[-1] == MISSING
    assert bins.n[-1] == 100 and bins.n_bad[-1] == 40
    assert binner.woe_["x"][MISSING] > 0.0  # 40 % defaults vs 10 % elsewhere
    out = binner.transform(pd.DataFrame({"x": [np.nan]}))
    assert out["x"].iloc[0] == binner.woe_["x"][MISSING]


def test_all_nan_and_constant_columns() -> None:
    frame, y, _ = _scorecard_problem(3, n=3_000)
    frame = frame.assign(
        empty=np.nan,
        empty_str=pd.Series([None] * len(frame), dtype="str"),
        constant=7.0,
        flag=True,
    )
    card = WoEScorecard().fit(frame, y)
    for name in ("empty", "empty_str", "constant", "flag"):
        assert card.iv_[name] == 0.0
        assert name in card.dropped_ and name not in card.features_
    woe = card.binner_.transform(frame)
    assert (woe[["empty", "empty_str", "constant", "flag"]] == 0.0).all().all()
    p = card.predict_proba(frame.assign(empty=1.5, constant=np.nan))
    assert np.all(np.isfinite(p)) and np.all((p > 0.0) & (p < 1.0))


def test_scorecard_keeps_at_least_one_column() -> None:
    rng = np.random.default_rng(4)
    frame = pd.DataFrame({"a": rng.normal(size=500), "b": np.nan})
    y = rng.binomial(1, 0.2, 500)
    card = WoEScorecard(min_iv=10.0).fit(frame, y)
    assert card.features_ == ["a"]
    assert card.predict_proba(frame).shape == (500,)


def test_scorecard_discriminates_and_drops_noise_by_iv() -> None:
    frame, y, _ = _scorecard_problem(1)
    card = WoEScorecard().fit(frame, y)
    assert card.features_ == ["x1", "x2", "x3"]
    assert sorted(card.dropped_) == ["noise_cat", "noise_num"]
    assert card.iv_["noise_num"] < 0.02 and card.iv_["noise_cat"] < 0.02
    assert min(card.iv_[c] for c in ("x1", "x2", "x3")) > 0.1
    assert all(v > 0.0 for v in card.coef_.values())  # positive WoE = more risk
    frame_test, y_test, z_test = _scorecard_problem(2)
    # predict needs only the kept columns
    p = card.predict_proba(frame_test[card.features_])
    assert auc(y_test, p) > 0.7
    assert auc(y_test, z_test) - auc(y_test, p) < 0.03  # close to the true model's ranking
    assert p.mean() == pytest.approx(y_test.mean(), abs=0.02)


def test_woe_parameter_messages() -> None:
    frame = pd.DataFrame({"x": [1.0, 2.0]})
    with pytest.raises(
        ValueError,
        match=re.escape(
            "The 'max_bins' parameter of WoEBinner must be an int >= 2; got 1 instead."
        ),
    ):
        WoEBinner(max_bins=1).fit(frame, [0, 1])
    with pytest.raises(
        ValueError,
        match=re.escape(
            "The 'C' parameter of WoEScorecard must be a finite float > 0; got 0.0 instead."
        ),
    ):
        WoEScorecard(C=0.0).fit(frame, [0, 1])
    with pytest.raises(ValueError, match="reserved for missing"):
        WoEBinner().fit(pd.DataFrame({"c": [MISSING, "a"]}), [0, 1])
    with pytest.raises(ValueError, match="lacks columns"):
        WoEBinner().fit(frame, [0, 1]).transform(pd.DataFrame({"y": [1.0]}))


# -- metrics -----------------------------------------------------------------------------------


def test_auc_hand_computed_cases() -> None:
    y = [0, 0, 1, 1]
    assert auc(y, [0.1, 0.2, 0.8, 0.9]) == 1.0
    assert auc(y, [0.9, 0.8, 0.2, 0.1]) == 0.0
    assert auc(y, [0.3, 0.3, 0.3, 0.3]) == 0.5
    assert auc(y, [0.1, 0.4, 0.35, 0.8]) == 0.75  # 3 of 4 pairs ordered
    assert auc(y, [0.1, 0.4, 0.4, 0.8]) == 0.875  # one tie counts 1/2


def test_auc_matches_sklearn_with_ties() -> None:
    rng = np.random.default_rng(5)
    y = rng.binomial(1, 0.3, 2_000)
    score = np.round(rng.normal(size=2_000) + y, 1)  # rounding makes many ties
    assert auc(y, score) == pytest.approx(roc_auc_score(y, score), rel=1e-12)


def test_auc_needs_both_classes() -> None:
    with pytest.raises(ValueError, match=r"only one class; every label is 1 \(default\)"):
        auc([1, 1, 1], [0.1, 0.2, 0.3])


def test_brier() -> None:
    assert brier([0, 1, 1, 0], [0.0, 1.0, 0.5, 0.5]) == pytest.approx(0.125)


def test_ece_of_a_perfectly_calibrated_table_is_zero() -> None:
    pds = np.repeat(np.arange(1, 10) / 10.0, 100)
    y = np.concatenate([np.r_[np.ones(k * 10), np.zeros(100 - k * 10)] for k in range(1, 10)])
    assert calibration_error(y, pds) == pytest.approx(0.0, abs=1e-12)
    table = calibration_table(y, pds, bins=9)
    assert list(table.columns) == ["bin", "n", "mean_pd", "observed_rate"]
    assert table["n"].tolist() == [100] * 9
    np.testing.assert_allclose(table["observed_rate"], table["mean_pd"], atol=1e-12)


def test_ece_of_a_flat_pd_against_a_lower_default_rate() -> None:
    y = np.r_[np.ones(100), np.zeros(900)]
    assert calibration_error(y, np.full(1_000, 0.5)) == pytest.approx(0.4, rel=1e-12)
    assert calibration_table(y, np.full(1_000, 0.5))["n"].tolist() == [1_000]  # ties share a bin


def test_ece_small_on_a_large_calibrated_sample() -> None:
    rng = np.random.default_rng(6)
    p = rng.uniform(0.0, 0.6, 200_000)
    y = rng.binomial(1, p)
    assert calibration_error(y, p) < 0.005
    assert calibration_error(y, np.clip(p * 1.5, 0.0, 1.0)) > 0.1


def test_psi_identical_and_shifted_samples() -> None:
    rng = np.random.default_rng(7)
    base = rng.normal(size=50_000)
    assert psi(base, base) == pytest.approx(0.0, abs=1e-12)
    assert psi(base, rng.normal(size=50_000)) < 0.01
    shifted = psi(base, rng.normal(0.5, 1.0, 50_000))
    assert 0.1 < shifted < 0.5


def test_psi_hand_computed_and_empty_bin() -> None:
    expected = np.r_[np.zeros(50), np.ones(50)]
    actual = np.r_[np.zeros(80), np.ones(20)]
    assert psi(expected, actual, bins=2) == pytest.approx(0.4158883083359672, rel=1e-9)
    all_low = np.zeros(100)
    by_hand = (1.0 - 0.5) * math.log(1.0 / 0.5) + (PSI_EPSILON - 0.5) * math.log(PSI_EPSILON / 0.5)
    assert psi(expected, all_low, bins=2) == pytest.approx(by_hand, rel=1e-9)


def _approvals(spec: dict[str, tuple[int, int]]) -> tuple[np.ndarray, np.ndarray]:
    """{group: (n, approved)} -> (approved flags, group labels)."""
    flags = np.concatenate(
        [np.r_[np.ones(a, bool), np.zeros(n - a, bool)] for n, a in spec.values()]
    )
    groups = np.concatenate([np.full(n, g) for g, (n, _) in spec.items()])
    return flags, groups


def test_approvals_helper() -> None:
    flags, groups = _approvals({"a": (3, 1), "b": (2, 2)})
    assert flags.tolist() == [True, False, False, True, True]
    assert groups.tolist() == ["a", "a", "a", "b", "b"]


def test_approval_rates_table() -> None:
    flags, groups = _approvals({"b": (4, 1), "a": (10, 6)})
    table = approval_rates(flags, groups)
    assert table.to_dict(orient="list") == {
        "group": ["a", "b"],
        "n": [10, 4],
        "approved": [6, 1],
        "rate": [0.6, 0.25],
    }


def test_four_fifths_pass_and_fail() -> None:
    passing = four_fifths(*_approvals({"a": (100, 60), "b": (100, 50)}))
    assert passing["ratio"] == pytest.approx(50 / 60)
    assert passing["passes"] is True
    failing = four_fifths(*_approvals({"a": (100, 60), "b": (100, 50), "c": (100, 40)}))
    assert failing["ratio"] == pytest.approx(40 / 60)
    assert failing["passes"] is False
    assert failing["rates"] == {"a": 0.6, "b": 0.5, "c": 0.4}


def test_four_fifths_reports_small_groups_and_leaves_them_out() -> None:
    result = four_fifths(*_approvals({"a": (100, 60), "b": (100, 55), "tiny": (10, 0)}), min_n=30)
    assert result["groups_too_small"] == ["tiny"]
    assert result["rates"]["tiny"] == 0.0
    assert result["ratio"] == pytest.approx(55 / 60)
    assert result["passes"] is True
    # one group large enough: nothing to compare, never a pass
    alone = four_fifths(*_approvals({"a": (100, 60), "tiny": (10, 0)}))
    assert math.isnan(alone["ratio"]) and alone["passes"] is False
    json.dumps(result)  # the report is written as JSON


def test_calibration_by_group() -> None:
    y = np.r_[np.ones(10), np.zeros(90), np.ones(30), np.zeros(70)]
    pd_ = np.r_[np.full(100, 0.2), np.full(100, 0.3)]
    groups = np.r_[np.full(100, "x"), np.full(100, "y")]
    table = calibration_by_group(y, pd_, groups)
    assert list(table.columns) == ["group", "n", "mean_pd", "observed_rate", "difference"]
    assert table["group"].tolist() == ["x", "y"]
    assert table["n"].tolist() == [100, 100]
    np.testing.assert_allclose(table["observed_rate"], [0.1, 0.3])
    np.testing.assert_allclose(table["difference"], [0.1, 0.0], atol=1e-12)


def test_monotone_binning_gives_a_default_rate_that_runs_one_way() -> None:
    """20 noisy pre-bins merged until the rate rises (or falls) steadily; without the merge
    the same column zigzags."""
    from models.woe import WoEBinner

    rng = np.random.default_rng(5)
    x = rng.uniform(0, 10, 3000)
    y = (rng.random(3000) < 0.05 + 0.02 * x).astype(int)
    frame = pd.DataFrame({"x": x})
    for monotone in (True, False):
        bins = WoEBinner(max_bins=20, monotone=monotone).fit(frame, y).bins_["x"]
        rate = np.asarray(bins.n_bad) / np.asarray(bins.n)
        steady = bool((np.diff(rate) >= 0).all() or (np.diff(rate) <= 0).all())
        assert steady == monotone, (monotone, rate)
    falling = WoEBinner(max_bins=20, monotone=True).fit(frame, 1 - y).bins_["x"]
    assert (np.diff(np.asarray(falling.n_bad) / np.asarray(falling.n)) <= 0).all()
