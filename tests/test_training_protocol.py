"""How a model is developed and what it ships: the columns a table may not use, the evidence
it needs, cross-validation and the refit for tables without time, the refit on training and
validation periods for tables with time, the family chosen, and the gate's refusal of
figures nobody can compute."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pandas.testing as pdt
import pytest

from models.artifact import AmanahModel
from models.gate import Gate, judge, undefined_figures
from models.metrics import auc
from models.reasons import reason_records
from models.training import (
    AMANAH_TARGET,
    OUT_OF_FOLD_COLUMN,
    TableError,
    TrainingResult,
    check_evidence,
    table_spec,
    train_model,
)
from tests.test_models import _own_table

ROUNDS = 300


@pytest.fixture(scope="module")
def cross_validated() -> tuple[pd.DataFrame, TrainingResult]:
    frame = _own_table(2000, seed=3)
    spec = table_spec(frame, "y", None)
    return frame, train_model(frame, spec, "y", None, max_rounds=ROUNDS, family="lightgbm")


@pytest.fixture(scope="module")
def scorecard_model() -> tuple[pd.DataFrame, TrainingResult]:
    frame = _own_table(2000, seed=4)
    spec = table_spec(frame, "y", None)
    return frame, train_model(
        frame, spec, "y", None, max_rounds=ROUNDS, family="woe_scorecard", folds=3
    )


def test_the_demo_training_table_keeps_its_outcomes_ids_and_dates_out(
    training_table: pd.DataFrame,
) -> None:
    """The new user's mistake from the issue: the demo's own training table as a table."""
    spec = table_spec(training_table, AMANAH_TARGET, None)
    must_go = {"loan_id", "member_id", "cooperative_id", "dpd30_12m", "dpd60_12m", "labelled",
               "application_date", "gender", "cooperative_profile"}  # fmt: skip
    assert must_go <= set(spec.dropped), set(spec.dropped)
    assert not must_go & set(spec.names)
    assert all(why for why in spec.dropped.values())
    assert "outcome" in spec.dropped["dpd30_12m"] and "_id" in spec.dropped["loan_id"]
    assert "date" in spec.dropped["application_date"]
    for declared in ("declared_monthly_income", "declared_household_expenses", "income_verified"):
        assert "loan form" in spec.dropped[declared]
    # every column is either a feature or listed with its reason
    assert set(spec.names) | set(spec.dropped) | {AMANAH_TARGET} == set(training_table.columns)


def test_identifiers_copies_of_the_target_and_user_exclusions_are_listed() -> None:
    frame = _own_table(600, seed=1)
    frame["row_number"] = np.arange(1000, 1600)  # a running number under a neutral name
    frame["reference"] = [f"REF-{i:05d}" for i in range(600)]  # a text identifier
    frame["flag"] = frame["y"].map({0: "ok", 1: "written off"})  # the target in disguise
    frame["joined"] = pd.date_range("2024-01-01", periods=600).astype("str")  # dates as text
    frame["branch"] = "north"  # constant
    spec = table_spec(frame, "y", None, exclude=("income",))
    assert spec.names == ["late_payments", "region"]
    assert spec.dropped["income"] == "excluded by --exclude"
    assert "identifier" in spec.dropped["row_number"]
    assert "identifier" in spec.dropped["reference"]
    assert "separates the target" in spec.dropped["flag"]
    assert "date" in spec.dropped["joined"]
    assert "one value" in spec.dropped["branch"]
    # genuine features with many values are no identifiers
    frame["amount"] = np.random.default_rng(0).integers(500, 90_000, 600)
    assert "amount" in table_spec(frame, "y", None).names
    with pytest.raises(TableError, match="--exclude names columns the table does not have: nope"):
        table_spec(frame, "y", None, exclude=("nope",))


def test_too_little_evidence_is_refused_with_the_part_named() -> None:
    check_evidence({"the test period": np.array([0] * 40 + [1] * 30)})  # enough
    with pytest.raises(TableError, match=r"the test period holds 29 defaults and 40 repaid"):
        check_evidence({"the test period": np.array([0] * 40 + [1] * 29)})
    small = _own_table(150, seed=2)
    with pytest.raises(TableError, match="too little evidence"):
        train_model(small, table_spec(small, "y", None), "y", None, max_rounds=50)


def test_cross_validation_reports_out_of_fold_figures_and_ships_a_refit(
    cross_validated: tuple[pd.DataFrame, TrainingResult],
) -> None:
    frame, result = cross_validated
    report, model = result.report, result.model
    assert report["evaluation"].startswith("out-of-fold (5-fold")
    assert report["rows"]["labelled"] == len(frame) == len(result.test)
    oof = result.test[OUT_OF_FOLD_COLUMN].to_numpy()
    y = result.test["y"].to_numpy()
    # the report's AUC is the out-of-fold margins' (ranks survive calibration), not the
    # shipped model's in-sample answers on the same rows
    assert report["auc"] == pytest.approx(auc(y, model.calibrator.predict(oof)))
    in_sample = auc(y, model.predict(result.test, reasons=False)["pd"].to_numpy())
    assert in_sample > report["auc"] + 0.005
    # the shipped booster is one refit on every labelled row with the chosen rounds
    assert model.booster is not None
    assert model.booster.num_trees() == model.metadata["best_iteration"]
    assert model.metadata["refit"].startswith("all labelled rows")
    selection = report["family_selection"]
    assert selection["chosen"] == model.family and selection["asked_for"] == "lightgbm"
    assert {"lightgbm_auc", "woe_scorecard_auc", "lightgbm_lead_standard_error"} <= set(selection)


def test_the_family_is_chosen_by_cross_validation_unless_asked_for() -> None:
    """On a nearly additive table with few columns the scorecard is as good as LightGBM
    across folds, and the one-standard-error rule ships the simpler one."""
    from models.training import _family

    assert _family(0.80, 0.79, "auto") == "lightgbm"
    assert _family(0.79, 0.80, "auto") == "woe_scorecard"
    assert _family(0.80, 0.80, "auto") == "lightgbm"  # a tie: LightGBM
    assert _family(0.70, 0.90, "lightgbm") == "lightgbm"
    frame = _own_table(2000, seed=3)
    result = train_model(frame, table_spec(frame, "y", None), "y", None, max_rounds=ROUNDS)
    selection = result.report["family_selection"]
    lead = selection["lightgbm_auc"] - selection["woe_scorecard_auc"]
    expected = "lightgbm" if lead > selection["lightgbm_lead_standard_error"] else "woe_scorecard"
    assert result.model.family == selection["chosen"] == expected


def test_out_of_time_model_is_refit_on_training_and_validation_periods(
    trained: TrainingResult,
) -> None:
    model, report = trained.model, trained.report
    assert model.booster is not None
    assert model.booster.num_trees() == model.metadata["best_iteration"]
    assert model.metadata["refit"].startswith("training and validation periods")
    periods = report["periods"]
    assert len(trained.train) > 0
    assert pd.to_datetime(trained.train["application_date"]).max() <= pd.Timestamp(
        periods["valid"][1]
    )
    # the report's test figures are the shipped model's, on a period it never saw
    y = trained.test[AMANAH_TARGET].to_numpy()
    shipped = model.predict(trained.test, reasons=False)["pd"].to_numpy()
    assert report["auc"] == pytest.approx(auc(y, shipped))
    assert report["evaluation"] == "test period (out of time), shipped model"


def test_the_scorecard_family_serves_the_same_contract(
    scorecard_model: tuple[pd.DataFrame, TrainingResult],
    cross_validated: tuple[pd.DataFrame, TrainingResult],
    tmp_path: Path,
) -> None:
    frame, result = scorecard_model
    model = result.model
    assert model.family == "woe_scorecard" and model.booster is None
    assert result.report["family_selection"]["asked_for"] == "woe_scorecard"
    rows = frame.head(200)
    scored = model.predict(rows, lang="id")
    other = cross_validated[1].model.predict(rows, lang="id")
    assert list(scored.columns) == list(other.columns)
    assert set(scored["grade"]) <= set("ABCDE") and scored["pd"].between(0, 1).all()
    # points below the best bin: never negative, and they add up to the scorecard's margin
    X = model.matrix(rows)
    phi, margin = model.explainer.explain_with_margin(X)
    assert (phi >= -1e-12).all()
    np.testing.assert_allclose(phi.sum(1) + model.explainer.base_value_, margin, atol=1e-9)
    card = result.baseline  # the refit scorecard the artifact was built from
    expected = card.decision_function(model.prepare(rows)[card.features_])
    np.testing.assert_allclose(margin, expected, atol=1e-9)
    reasons = reason_records(scored)
    worst = int(np.argmax(phi.sum(1)))
    assert reasons[worst] and all(r["direction"] == "adverse" for r in reasons[worst])
    model.save(tmp_path / "card")
    back = AmanahModel.load(tmp_path / "card")
    pdt.assert_frame_equal(back.predict(rows), model.predict(rows))
    assert back.card()["family"] == "woe_scorecard"
    assert not (tmp_path / "card" / "booster.txt").exists()


def test_the_gate_never_promotes_undefined_figures_even_when_forced() -> None:
    figures = {"challenger_auc": 0.5, "challenger_calibration_error": 0.01,
               "four_fifths_gender": float("nan"), "challenger_version": "3"}  # fmt: skip
    assert undefined_figures(figures) == ["four_fifths_gender"]
    judged = judge(figures, Gate(), force=True)
    assert not judged.passed and not judged.promoted and judged.undefined
    failed = judge({**figures, "four_fifths_gender": 0.5}, Gate(), force=True)
    assert failed.promoted and failed.forced and not failed.passed
    clean = judge({**figures, "four_fifths_gender": 0.9}, Gate())
    assert clean.passed and clean.promoted and not clean.forced


def test_an_applicant_outside_the_models_experience_is_named_and_referred(
    trained: TrainingResult,
) -> None:
    model = trained.model
    rows = trained.test.head(4).reset_index(drop=True)
    rows["business_sector"] = rows["business_sector"].astype("object")  # as a CSV gives it
    rows["current_dpd"] = 0.0
    _low, high = model.experience.bounds("late_instalments_12m")
    assert high is not None
    rows.loc[1, "late_instalments_12m"] = high + 5  # later than anyone in training
    rows.loc[2, "business_sector"] = "pertambangan_bulan"  # a sector nobody had
    rows.loc[3, "membership_months"] = 10_000  # longer than anyone: the safe side
    for scored in (
        model.predict(rows, lang="en"),
        pd.DataFrame(model.predict_records(rows.to_dict("records"), lang="en")),
    ):
        outside = scored["outside_experience"].tolist()
        assert outside[1] == [{"feature": "late_instalments_12m", "kind": "above_range"}]
        assert outside[2] == [{"feature": "business_sector", "kind": "unseen_category"}]
        assert outside[3] == [] and outside[0] == []
        for i in (1, 2):
            assert "OUTSIDE_EXPERIENCE" in scored.loc[i, "rule_codes"]
            assert scored.loc[i, "decision"] in ("refer", "decline")
        assert "outside the model's experience" in scored.loc[1, "reason_en"]
        assert "OUTSIDE_EXPERIENCE" not in scored.loc[3, "rule_codes"]
    by_id = model.predict(rows.iloc[[2]], lang="id")
    assert "di luar pengalaman model" in by_id["reason_id"].iloc[0]


def test_train_table_lists_what_it_kept_out_and_predict_says_what_lies_outside(
    tmp_path: Path,
) -> None:
    from typer.testing import CliRunner

    from serving.cli import app

    frame = _own_table(1500, seed=6)
    frame["loan_ref"] = [f"L-{i}" for i in range(len(frame))]
    frame["dpd30_12m"] = frame["y"]
    frame.to_csv(tmp_path / "own.csv", index=False)
    runner = CliRunner()
    args = ["train", "--table", str(tmp_path / "own.csv"), "--target", "y", "--out",
            str(tmp_path / "m"), "--exclude", "region"]  # fmt: skip
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    flat = " ".join(result.output.split())
    assert "Not a feature: loan_ref (an identifier" in flat
    assert "Not a feature: dpd30_12m (another outcome column" in flat
    assert "Not a feature: region (excluded by --exclude)" in flat
    assert "Shipped family: " in flat and "Out-of-fold AUC" in flat
    unknown = runner.invoke(app, [*args[:-1], "nope"])
    assert unknown.exit_code == 2 and "does not have: nope" in unknown.output
    scoring = frame.head(3).copy()
    scoring.loc[1, "late_payments"] = 99  # later than anyone in training
    scoring.to_csv(tmp_path / "new.csv", index=False)
    result = runner.invoke(app, ["predict", "--model", str(tmp_path / "m"), "--table",
                                 str(tmp_path / "new.csv"), "--out", str(tmp_path / "s.csv")])  # fmt: skip
    assert result.exit_code == 0, result.output
    scored = pd.read_csv(tmp_path / "s.csv", keep_default_na=False)
    assert scored.loc[1, "outside_experience"] == "late_payments:above_range"
    assert "OUTSIDE_EXPERIENCE" in scored.loc[1, "rule_codes"]
    assert scored.loc[0, "outside_experience"] == ""
