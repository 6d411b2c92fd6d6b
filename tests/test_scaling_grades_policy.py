"""Score scaling and grade bands, with hand-computed values (the policy: test_policy.py)."""

from __future__ import annotations

import json
import math
import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from models.grades import GRADE_LABELS, GRADES, GradeBands, NotFittedError
from models.scaling import PD_FLOOR, ScoreScale

# ----------------------------------------------------------------------------- scaling


def test_anchor_odds_map_exactly_to_anchor_points() -> None:
    scale = ScoreScale()
    assert scale.score(1 / 51) == pytest.approx(600.0, rel=1e-9)
    assert ScoreScale(anchor_points=500, anchor_odds=20, pdo=50).score(1 / 21) == pytest.approx(
        500.0, rel=1e-9
    )


def test_factor_and_offset_are_the_formula() -> None:
    scale = ScoreScale()
    assert scale.factor == pytest.approx(20 / math.log(2), rel=1e-12)
    assert scale.offset == pytest.approx(600 - 20 / math.log(2) * math.log(50), rel=1e-12)
    assert scale.score(0.5) == pytest.approx(scale.offset, rel=1e-12)  # odds 1:1


def _odds(p: float) -> float:
    return (1 - p) / p


def test_pdo_points_double_the_odds() -> None:
    scale = ScoreScale()
    # odds 100:1 is PD 1/101, odds 200:1 is PD 1/201
    assert scale.score([1 / 101, 1 / 201]) == pytest.approx([620.0, 640.0], rel=1e-9)
    pd_600, pd_620 = scale.pd_from_score([600.0, 620.0])
    assert _odds(pd_620) / _odds(pd_600) == pytest.approx(2.0, rel=1e-9)


def test_higher_risk_lower_score() -> None:
    scores = ScoreScale().score([0.01, 0.05, 0.2, 0.6])
    assert np.all(np.diff(scores) < 0)


def test_score_pd_round_trip() -> None:
    scale = ScoreScale(anchor_points=650, anchor_odds=30, pdo=40)
    pds = np.array([1e-5, 0.001, 0.02, 0.3, 0.5, 0.9, 0.999])
    assert scale.pd_from_score(scale.score(pds)) == pytest.approx(pds, rel=1e-9)
    scores = np.array([[300.0, 500.0], [650.0, 900.0]])
    back = scale.score(scale.pd_from_score(scores))
    assert back.shape == (2, 2)
    assert back == pytest.approx(scores, rel=1e-9)


def test_pd_0_and_1_are_clipped_to_finite_scores() -> None:
    scale = ScoreScale()
    s0, s1 = scale.score([0.0, 1.0])
    assert s0 == pytest.approx(scale.score(PD_FLOOR), rel=1e-12)
    assert s1 == pytest.approx(scale.score(1 - PD_FLOOR), rel=1e-12)
    assert s0 - scale.offset == pytest.approx(scale.offset - s1, rel=1e-6)


@pytest.mark.parametrize("bad", [-0.1, 1.5, float("nan")])
def test_score_rejects_non_probabilities(bad: float) -> None:
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        ScoreScale().score([0.1, bad])


def test_invalid_pdo_message_names_the_parameter() -> None:
    expected = "The 'pdo' parameter of ScoreScale must be > 0; got -5 instead."
    with pytest.raises(ValueError, match=re.escape(expected)):
        ScoreScale(pdo=-5)
    with pytest.raises(ValueError, match=re.escape("The 'anchor_odds' parameter of ScoreScale")):
        ScoreScale(anchor_odds=0)
    with pytest.raises(ValueError, match=r"'anchor_points'.*finite"):
        ScoreScale(anchor_points=float("inf"))


def test_scale_dict_round_trip() -> None:
    scale = ScoreScale(anchor_points=620.0, anchor_odds=40.0, pdo=25.0)
    data = json.loads(json.dumps(scale.to_dict()))
    assert data == {"anchor_points": 620.0, "anchor_odds": 40.0, "pdo": 25.0}
    assert ScoreScale.from_dict(data) == scale
    with pytest.raises(ValueError, match="missing \\['pdo'\\]"):
        ScoreScale.from_dict({"anchor_points": 600.0, "anchor_odds": 50.0})


# ----------------------------------------------------------------------------- grades


def _bands(upper: list[float]) -> GradeBands:
    return GradeBands.from_dict({"quantiles": [0.30, 0.55, 0.75, 0.90], "upper": upper})


def test_grades_declared_once_with_labels() -> None:
    assert GRADES == ("A", "B", "C", "D", "E")
    assert set(GRADE_LABELS) == set(GRADES)
    assert GRADE_LABELS["A"] == ("Sangat rendah", "Very low risk")
    assert GRADE_LABELS["E"] == ("Sangat tinggi", "Very high risk")


def test_fit_gives_exact_cut_points() -> None:
    rng = np.random.default_rng(3)
    # 0.55 * 100 is 55.000000000000007 in floating point: the bound must still be 0.55
    hundred = rng.permutation(np.arange(1, 101) / 100)
    assert GradeBands().fit(hundred).upper_.tolist() == [0.30, 0.55, 0.75, 0.90]
    # quantile between two ranks: the smallest PD with at least that share at or below it
    ten = rng.permutation(np.arange(1, 11) / 100)
    assert GradeBands().fit(ten).upper_.tolist() == [0.03, 0.06, 0.08, 0.09]
    custom = GradeBands(quantiles=(0.1, 0.2, 0.5, 0.95)).fit(hundred)
    assert custom.upper_.tolist() == [0.10, 0.20, 0.50, 0.95]


def test_fitted_shares_match_quantiles() -> None:
    pds = np.random.default_rng(5).beta(1, 20, size=2_000)
    bands = GradeBands().fit(pds)
    shares = pd.Series(bands.transform(pds)).value_counts(normalize=True)[list(GRADES)]
    assert shares.cumsum().to_numpy()[:4] == pytest.approx([0.30, 0.55, 0.75, 0.90], abs=1e-3)


def test_tied_quantiles_are_nudged_strictly_increasing() -> None:
    bands = GradeBands().fit([0.02] * 8 + [0.5, 0.6])
    u = bands.upper_
    assert u[0] == 0.02
    assert u[1] == np.nextafter(0.02, 1.0)
    assert u[2] == np.nextafter(u[1], 1.0)
    assert u[3] == 0.5  # the 9th of 10 PDs
    assert np.all(np.diff(u) > 0)
    assert bands.transform([0.02, 0.5, 0.6]).tolist() == ["A", "D", "E"]


def test_transform_boundaries_belong_to_the_lower_grade() -> None:
    bands = _bands([0.30, 0.55, 0.75, 0.90])
    pds = [0.0, 0.30, np.nextafter(0.30, 1.0), 0.55, 0.75, 0.90, 0.9000001, 1.0]
    assert bands.transform(pds).tolist() == ["A", "A", "B", "B", "C", "D", "E", "E"]


def test_grade_bands_errors() -> None:
    with pytest.raises(NotFittedError, match="not fitted"):
        GradeBands().transform([0.1])
    expected = (
        "The 'quantiles' parameter of GradeBands must be 4 strictly increasing values in "
        "(0, 1); got (0.5, 0.3, 0.75, 0.9) instead."
    )
    with pytest.raises(ValueError, match=re.escape(expected)):
        GradeBands(quantiles=(0.5, 0.3, 0.75, 0.9)).fit([0.1, 0.2])
    with pytest.raises(ValueError, match="4 strictly"):
        GradeBands(quantiles=(0.3, 0.6)).fit([0.1, 0.2])
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        GradeBands().fit([0.1, float("nan")])


# four members in A, two in B, none in C, four in D, two in E
_OBSERVED_PD = [0.05, 0.05, 0.05, 0.05, 0.15, 0.15, 0.35, 0.35, 0.35, 0.35, 0.5, 0.7]
_MONOTONE_Y = [0, 0, 0, 1, 0, 1, 0, 1, 1, 1, 1, 1]


def test_observed_table() -> None:
    table = _bands([0.1, 0.2, 0.3, 0.4]).observed(_OBSERVED_PD, _MONOTONE_Y)
    assert table.index.tolist() == list(GRADES)
    assert table.index.name == "grade"
    assert table["pd_low"].tolist() == [0.0, 0.1, 0.2, 0.3, 0.4]
    assert table["pd_high"].tolist() == [0.1, 0.2, 0.3, 0.4, 1.0]
    assert table["n"].tolist() == [4, 2, 0, 4, 2]
    assert table["defaults"].tolist() == [1, 1, 0, 3, 2]
    assert table["n"].dtype == np.int64
    rates = table["observed_rate"]
    assert rates[["A", "B", "D", "E"]].tolist() == [0.25, 0.5, 0.75, 1.0]
    assert math.isnan(rates["C"])
    assert table.loc["A", "mean_pd"] == pytest.approx(0.05)
    assert table.loc["E", "mean_pd"] == pytest.approx(0.6)
    assert table["mean_pd"].isna().tolist() == [False, False, True, False, False]


def test_is_monotone_true_and_false() -> None:
    bands = _bands([0.1, 0.2, 0.3, 0.4])
    assert bands.is_monotone(_OBSERVED_PD, _MONOTONE_Y)
    worse_a = [0, 1, 1, 1, *_MONOTONE_Y[4:]]  # A observes 0.75, above B's 0.5
    assert not bands.is_monotone(_OBSERVED_PD, worse_a)
    tie = [0, 0, 1, 1, *_MONOTONE_Y[4:]]  # A 0.5 equals B 0.5: not strictly increasing
    assert not bands.is_monotone(_OBSERVED_PD, tie)


def test_observed_rejects_bad_labels() -> None:
    bands = _bands([0.1, 0.2, 0.3, 0.4])
    with pytest.raises(ValueError, match="0/1"):
        bands.observed([0.1, 0.2], [0, 2])
    with pytest.raises(ValueError, match="shape"):
        bands.observed([0.1, 0.2], [0])


def test_grade_bands_dict_round_trip() -> None:
    fitted = GradeBands().fit(np.random.default_rng(1).uniform(0, 0.3, size=500))
    data = json.loads(json.dumps(fitted.to_dict()))
    back = GradeBands.from_dict(data)
    assert back.quantiles == fitted.quantiles
    assert back.upper_.tolist() == fitted.upper_.tolist()
    pds = np.linspace(0, 0.4, 81)
    assert back.transform(pds).tolist() == fitted.transform(pds).tolist()

    unfitted = GradeBands.from_dict(GradeBands(quantiles=(0.2, 0.4, 0.6, 0.8)).to_dict())
    assert unfitted.quantiles == (0.2, 0.4, 0.6, 0.8)
    assert not hasattr(unfitted, "upper_")
    with pytest.raises(ValueError, match="strictly increasing"):
        _bands([0.1, 0.3, 0.2, 0.4])


def test_labelled_fit_is_monotone_where_quantile_cuts_are_not() -> None:
    rng = np.random.default_rng(0)
    p = rng.beta(1, 15, 50)
    y = (rng.random(50) < p).astype(float)
    assert not GradeBands().fit(p).is_monotone(p, y)  # luck of the quantiles
    bands = GradeBands().fit(p, y)
    assert bands.is_monotone(p, y)
    assert np.all(np.diff(bands.upper_) > 0)
    # on a large sample with a real PD ordering the shares stay near the quantiles
    p = rng.beta(1, 15, 6000)
    y = (rng.random(6000) < p).astype(float)
    shares = GradeBands().fit(p, y).observed(p, y)["n"].cumsum().to_numpy()[:4] / 6000
    assert shares == pytest.approx([0.30, 0.55, 0.75, 0.90], abs=0.02)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.floats(0.0, 1.0), min_size=1, max_size=300),
    st.integers(0, 2**32 - 1),
)
@example([0.5, 0.0], 0)  # an empty grade A below a PD of 0 once took that PD in
def test_labelled_fit_is_monotone_by_construction(pds: list[float], seed: int) -> None:
    p = np.asarray(pds)
    y = (np.random.default_rng(seed).random(len(p)) < p).astype(float)
    bands = GradeBands().fit(p, y)
    assert bands.is_monotone(p, y)
    assert np.all(np.diff(bands.upper_) > 0)
    assert bands.observed(p, y)["n"].sum() == len(p)


def test_labelled_fit_checks_its_labels() -> None:
    with pytest.raises(ValueError, match="one 0/1 default label per PD"):
        GradeBands().fit([0.1, 0.2], [0, 2])
    with pytest.raises(ValueError, match="one 0/1 default label per PD"):
        GradeBands().fit([0.1, 0.2], [0])
