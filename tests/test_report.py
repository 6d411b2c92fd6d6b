"""The validation report: its figures against independent computations, and the HTML page
(self-contained, every section, n/a where a figure is undefined).

The model is trained on a small generated table with catalog feature names (about 2 s),
not on a generated ledger: building features for a ledger would take most of the budget and
the report only needs a model, a test period and a training period."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy.stats import ks_2samp
from sklearn.metrics import roc_auc_score

from features.catalog import feature
from features.wording import format_percent, format_rupiah, round_half_up
from models import plots
from models.fairness import fairness_figures
from models.metrics import psi
from models.policy import RULES
from models.report import (
    WOE_COLUMN,
    ReportInputs,
    category_psi,
    feature_psi,
    gains_table,
    ks_statistic,
    psi_band,
    render_report,
    report_figures,
    write_report_html,
)
from models.split import out_of_time_split
from models.training import TrainingResult, table_spec, train_model

TARGET = "default_12m"
TIME = "application_date"
FAIR = ("gender", "cooperative_profile")
SHAP_ROWS = 300
IMAGE = re.compile(r"data:image/png;base64,[A-Za-z0-9+/=]+")
SECTIONS = (
    "Model and data",
    "Discrimination",
    "Calibration",
    "Score distribution by outcome",
    "Observed default rate by grade",
    "Gains by decile",
    "Decisions and economics",
    "Population stability (PSI)",
    "Fairness",
    "SHAP explanations",
    "WoE scorecard challenger",
)
REASONS = [
    {
        "applicant": "Ibu Sari (A-0042)",
        "pd": 0.083,
        "score": 583,
        "grade": "C",
        "decision": "refer",
        "reasons": [
            {
                "direction": "adverse",
                "group": "character",
                "factor": "late_instalments_12m",
                "text_id": "3 angsuran dalam 12 bulan terakhir dibayar terlambat atau belum dibayar.",
                "text_en": "Instalments due in the last 12 months paid late or still unpaid: 3.",
                "improve_id": "Bayar angsuran sebelum tanggal jatuh tempo.",
                "impact_logodds": 0.61,
                "impact_points": -17.6,
            },
            {
                "direction": "favourable",
                "group": "condition",
                "factor": "loan_purpose",
                "text_id": "Tujuan pinjaman: modal usaha.",
                "text_en": "Loan purpose: working capital.",
                "improve_id": "",
                "impact_logodds": -0.2,
                "impact_points": 5.8,
            },
        ],
    }
]


def _table(n: int = 3000, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    late = rng.poisson(1.0, n).astype(float)
    dpd = rng.exponential(5.0, n)
    purpose = rng.choice(["modal_usaha", "konsumtif", "pendidikan"], n)
    logit = -2.5 + 0.8 * late + 0.03 * dpd + (purpose == "konsumtif") * 0.6
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    dpd[rng.random(n) < 0.1] = np.nan
    return pd.DataFrame(
        {
            "late_instalments_12m": late,
            "current_dpd": dpd,
            "loan_purpose": purpose,
            "gender": rng.choice(["F", "M"], n),
            "cooperative_profile": rng.choice(["urban", "fishing", "farming"], n),
            TIME: pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 500, n), "D"),
            TARGET: y,
        }
    )


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    return _table()


@pytest.fixture(scope="module")
def trained(table: pd.DataFrame) -> TrainingResult:
    spec = table_spec(table, TARGET, TIME, exclude=FAIR)
    return train_model(table, spec, TARGET, TIME, max_rounds=150)


@pytest.fixture(scope="module")
def train_rows(table: pd.DataFrame) -> pd.DataFrame:
    return table[(out_of_time_split(table[TIME]) == "train").to_numpy()].reset_index(drop=True)


def _with_terms(test: pd.DataFrame, seed: int = 7) -> pd.DataFrame:
    """The test rows with loan terms and a ledger income, as loan applications carry them:
    the policy then decides on each loan's own economics and the report shows its returns."""
    rng = np.random.default_rng(seed)
    n = len(test)
    out = test.copy()
    out["loan_amount"] = rng.choice([1_000_000, 2_500_000, 5_000_000, 10_000_000, 20_000_000], n)
    out["tenor_months"] = rng.choice([6, 12, 18, 24], n)
    out["flat_monthly_rate"] = rng.choice([0.01, 0.015, 0.02], n)
    out["estimated_monthly_income"] = rng.choice([3_000_000, 6_000_000, 12_000_000], n)
    return out


@pytest.fixture(scope="module")
def full(trained: TrainingResult, train_rows: pd.DataFrame) -> ReportInputs:
    test = _with_terms(trained.test)
    test[WOE_COLUMN] = trained.baseline.predict_proba(test[trained.baseline.features_])
    return ReportInputs(
        model=trained.model,
        test=test,
        target=TARGET,
        train=train_rows,
        model_name="amanah-pd",
        model_version="7",
        reference={"late_instalments_12m": 0.0, "current_dpd": 0.0, "loan_purpose": "modal_usaha"},
        reason_examples=REASONS,
        oracle={"oracle_test_auc": 0.81, "auc_share_of_oracle": 0.93, "auc_share_target": 0.97},
        fidelity={"top3_all": 0.87, "top3_referred_or_declined": 0.78, "chance_top3": 0.2},
        periods=trained.report["periods"],
        rows=trained.report["rows"],
        shap_rows=SHAP_ROWS,
    )


@pytest.fixture(scope="module")
def page(full: ReportInputs) -> str:
    return render_report(full)


@pytest.fixture(scope="module")
def figures(full: ReportInputs) -> dict[str, Any]:
    return report_figures(full)


@pytest.fixture(scope="module")
def scored(full: ReportInputs) -> pd.DataFrame:
    """The test rows' answers, computed apart from the report."""
    return full.model.predict(full.test, reasons=False)


def _text(page: str) -> str:
    """The page without its embedded images (base64 may spell anything)."""
    return IMAGE.sub("", page)


def test_ks_and_gini_agree_with_scipy_and_sklearn(
    full: ReportInputs, figures: dict[str, Any]
) -> None:
    y = full.test[TARGET].to_numpy()
    pd_ = full.model.predict(full.test, reasons=False)["pd"].to_numpy()
    d = figures["discrimination"]
    assert d["ks"] == pytest.approx(ks_2samp(pd_[y == 1], pd_[y == 0]).statistic, abs=1e-12)
    assert d["gini"] == pytest.approx(2 * roc_auc_score(y, pd_) - 1, abs=1e-12)
    assert d["n"] == len(y) and d["defaults"] == int(y.sum())
    woe = full.test[WOE_COLUMN].to_numpy()
    challenger = figures["challenger"]
    assert challenger["available"] and challenger["rows"] == len(y)
    assert challenger["model"]["gini"] == pytest.approx(d["gini"])
    assert challenger["woe"]["gini"] == pytest.approx(2 * roc_auc_score(y, woe) - 1, abs=1e-12)
    assert challenger["woe"]["ks"] == pytest.approx(
        ks_2samp(woe[y == 1], woe[y == 0]).statistic, abs=1e-12
    )
    # ties: a coarse score, and the KS is still the largest CDF gap
    rng = np.random.default_rng(3)
    labels, coarse = rng.integers(0, 2, 500), rng.integers(0, 6, 500).astype(float)
    ks, at = ks_statistic(labels, coarse)
    assert ks == pytest.approx(ks_2samp(coarse[labels == 1], coarse[labels == 0]).statistic)
    assert at in set(coarse)
    with pytest.raises(ValueError, match="both"):
        ks_statistic(np.zeros(5), np.arange(5.0))
    json.dumps(figures, allow_nan=False)  # JSON-ready: no NaN anywhere


def test_gains_table_adds_up(full: ReportInputs, figures: dict[str, Any]) -> None:
    gains = pd.DataFrame(figures["gains"])
    y = full.test[TARGET].to_numpy()
    assert gains["n"].sum() == len(y) and gains["defaults"].sum() == y.sum()
    assert gains["cum_capture"].iloc[-1] == pytest.approx(1.0)
    assert gains["cum_share_of_loans"].iloc[-1] == pytest.approx(1.0)
    assert gains["cum_lift"].iloc[-1] == pytest.approx(1.0)
    assert (gains["cum_capture"].diff().dropna() >= 0).all()
    assert (gains["pd_min"].iloc[:-1].to_numpy() >= gains["pd_max"].iloc[1:].to_numpy()).all()
    assert len(gains) == 10
    # tied PDs share a decile: four distinct PDs give four rows, none split
    rng = np.random.default_rng(1)
    tied = rng.choice([0.02, 0.05, 0.1, 0.3], 400)
    labels = (rng.random(400) < tied).astype(int)
    table = gains_table(labels, tied)
    assert len(table) == 4 and (table["pd_min"] == table["pd_max"]).all()
    assert table["n"].tolist() == [int((tied == v).sum()) for v in (0.3, 0.1, 0.05, 0.02)]
    # no defaults at all: capture and lift are undefined, not a crash
    assert gains_table(np.zeros(50), rng.random(50))["cum_capture"].isna().all()


def test_psi_is_zero_against_itself_and_flags_a_shift(
    full: ReportInputs, train_rows: pd.DataFrame
) -> None:
    same = report_figures(ReportInputs(model=full.model, test=full.test, target=TARGET,
                                       train=full.test, shap_rows=0))  # fmt: skip
    assert same["psi"]["score"]["psi"] == pytest.approx(0.0, abs=1e-12)
    assert all(r["psi"] == pytest.approx(0.0, abs=1e-12) for r in same["psi"]["features"])
    assert {r["band"] for r in same["psi"]["features"]} == {"stable"}

    shifted = full.test.copy()
    shifted["current_dpd"] = shifted["current_dpd"] + 40.0
    moved = report_figures(ReportInputs(model=full.model, test=shifted, target=TARGET,
                                        train=train_rows, shap_rows=0))  # fmt: skip
    by_name = {r["feature"]: r for r in moved["psi"]["features"]}
    assert by_name["current_dpd"]["psi"] > 0.25 and by_name["current_dpd"]["band"] == "shifted"
    assert by_name["loan_purpose"]["band"] == "stable"
    assert moved["psi"]["features"][0]["feature"] == "current_dpd"  # worst first

    # categorical shares, missing values a bin of their own
    a = pd.Series(["x"] * 50 + ["y"] * 50)
    assert category_psi(a, a) == 0.0
    assert category_psi(a, pd.Series(["x"] * 50 + [None] * 50)) > 0.25
    assert category_psi(a, pd.Series(["x"] * 90 + ["y"] * 10)) > 0.25
    # numeric: models.metrics.psi without missing values; a missing share counts as drift
    v = pd.Series(np.random.default_rng(2).normal(size=400))
    w = v + 0.1
    assert feature_psi(v, w) == psi(v.to_numpy(), w.to_numpy())
    gaps = v.copy()
    gaps.iloc[:200] = np.nan
    assert feature_psi(v, v) == 0.0 and feature_psi(v, gaps) > 0.25
    assert [psi_band(x) for x in (0.05, 0.1, 0.25, 0.26, None, float("nan"))] == [
        "stable", "watch", "watch", "shifted", "n/a", "n/a"
    ]  # fmt: skip


def test_html_is_self_contained_with_every_section(
    full: ReportInputs, page: str, tmp_path: Path
) -> None:
    text = _text(page)
    assert "http://" not in page and "https://" not in page
    assert not re.search(r"<(script|link|iframe)\b", page, re.I)
    assert not re.search(r"\b(src|href)\s*=\s*[\"'](?!data:image/png;base64,|#)", page)
    assert page.count('src="data:image/png;base64,') >= 11  # ROC x2, KS, ..., curve, SHAP 1 + 3
    for heading in (*SECTIONS, "Examples of reasons", "Against the oracle", "Reason fidelity"):
        assert f"<h2>{heading}" in page, heading
    assert "@media print" in page and "Signed off by" in page
    # the reference applicant with the catalog's words
    assert "Reference applicant" in text
    assert feature("late_instalments_12m").description_en in text
    assert feature("loan_purpose").description_id in text
    # a reason example, in both languages, with its 5C group
    assert "Ibu Sari (A-0042)" in text
    assert REASONS[0]["reasons"][0]["text_id"] in text
    assert REASONS[0]["reasons"][0]["text_en"] in text
    assert "Character / Watak" in text and "memberatkan" in text
    assert "amanah-pd" in text and "version 7" in text
    assert "Gender" in text and "Cooperative profile" in text and "WoE scorecard" in text
    assert not re.search(r"\bnan\b", text, re.I)
    path = write_report_html(full, tmp_path / "out" / "report.html")
    assert path.read_text("utf-8").startswith("<!DOCTYPE html>")


def test_report_without_train_reference_or_baseline(trained: TrainingResult) -> None:
    test = trained.test.drop(columns=["pd_woe_baseline"])  # training now stores it
    bare = ReportInputs(model=trained.model, test=test, target=TARGET, shap_rows=SHAP_ROWS)
    figures = report_figures(bare)
    bare_scored = trained.model.predict(test, reasons=False)
    assert figures["psi"]["available"] is False
    assert figures["challenger"]["available"] is False
    assert figures["header"]["reference"] is None
    assert figures["header"]["periods"]["test"][0] <= figures["header"]["periods"]["test"][1]
    page = render_report(bare)
    text = _text(page)
    for heading in SECTIONS:
        assert f"<h2>{heading}" in page, heading
    assert "no training-period rows were given" in text
    assert f"no {WOE_COLUMN} column" in text
    assert "Reference applicant" not in text
    assert "<h2>Examples of reasons" not in page and "<h2>Against the oracle" not in page
    assert page.count("data:image/png;base64,") >= 9
    # no loan terms: decisions and rules still shown, the economics of returns are not
    decisions = figures["decisions"]
    assert decisions["terms_available"] is False
    assert decisions["policy"] is None and decisions["curve"] == []
    shares = bare_scored["decision"].value_counts(normalize=True)
    for d, share in decisions["shares"].items():
        assert share == pytest.approx(shares.get(d, 0.0), abs=1e-12)
    assert "the test rows carry no loan terms" in text
    assert "Strategy curve: default rate" not in text
    assert not re.search(r"\bnan\b", text, re.I)


def test_one_class_group_and_one_class_test_period_read_na(trained: TrainingResult) -> None:
    test = trained.test.copy()
    repaid = test.index[test[TARGET] == 0][:40]
    test.loc[repaid, "gender"] = "X"  # a group with no defaults: AUC undefined
    inputs = ReportInputs(model=trained.model, test=test, target=TARGET, shap_rows=0)
    figures = report_figures(inputs)
    groups = {g["group"]: g for g in figures["fairness"]["gender"]["groups"]}
    assert groups["X"]["auc"] is None and groups["X"]["defaults"] == 0
    assert groups["F"]["auc"] is not None
    row = re.search(r"<tr><td>X</td>.*?</tr>", render_report(inputs))
    assert row is not None and "n/a" in row.group(0)

    # nothing but repaid loans: discrimination is n/a, the rest still renders
    only_repaid = trained.test[trained.test[TARGET] == 0]
    inputs = ReportInputs(model=trained.model, test=only_repaid, target=TARGET, shap_rows=0)
    figures = report_figures(inputs)
    assert figures["discrimination"]["auc"] is None and figures["discrimination"]["ks"] is None
    assert figures["gains"][-1]["cum_capture"] is None
    json.dumps(figures, allow_nan=False)
    text = _text(render_report(inputs))
    assert "Plot not available" in text and "SHAP was switched off" in text
    assert not re.search(r"\bnan\b", text, re.I)


def _section(page: str, anchor: str) -> str:
    found = re.search(rf'<section id="{anchor}">.*?</section>', page, re.S)
    assert found is not None, anchor
    return _text(found.group(0))


def test_decisions_section_matches_the_scored_rows(
    full: ReportInputs, figures: dict[str, Any], scored: pd.DataFrame, page: str
) -> None:
    d = figures["decisions"]
    n = len(full.test)
    assert d["applications"] == n and d["terms_available"] is True
    # the decision shares and counts are the scored decisions'
    counts = scored["decision"].value_counts()
    assert d["counts"] == {k: int(counts.get(k, 0)) for k in ("approve", "refer", "decline")}
    for k, share in d["shares"].items():
        assert share == pytest.approx(counts.get(k, 0) / n, abs=1e-12)
    assert d["counts"]["approve"] > 0 and d["counts"]["decline"] > 0  # the data exercise both
    # every fired rule, how often, most frequent first, with the policy's officer text
    fired = Counter(code for codes in scored["rule_codes"] for code in codes)
    assert {r["code"]: r["count"] for r in d["rules"]} == dict(fired)
    assert [r["count"] for r in d["rules"]] == sorted(fired.values(), reverse=True)
    for r in d["rules"]:
        assert r["share"] == pytest.approx(fired[r["code"]] / n)
        assert r["text_en"] == RULES[r["code"]].text_en
        assert r["decision"] == RULES[r["code"]].decision

    # the policy's position, against the economics computed by hand (models/economics.py)
    econ = full.model.policy.economics
    assert d["economics"] == econ.to_dict()
    approved = (scored["decision"] == "approve").to_numpy()
    y = full.test[TARGET].to_numpy(dtype=float)[approved]
    tenor, rate = (
        full.test[c].to_numpy(dtype=float)[approved] for c in ("tenor_months", "flat_monthly_rate")
    )
    # an approval lends what the policy offered: the request, or less on a counter-offer
    amount = scored["approved_amount"].to_numpy(dtype=float)[approved]
    assert (amount <= full.test["loan_amount"].to_numpy(dtype=float)[approved]).all()
    earned = amount * (rate * tenor + econ.admin_fee_rate)
    cost = amount * econ.cost_of_funds_annual / 12 * (tenor + 1) / 2 + econ.operating_cost_per_loan
    realised = (1 - y) * earned - y * econ.loss_given_default * amount - cost
    p = d["policy"]
    assert p["approval_rate"] == pytest.approx(approved.mean())
    assert p["approved"] == approved.sum()
    assert p["default_rate"] == pytest.approx(y.mean())
    assert p["realised_return"] == pytest.approx(realised.sum())
    assert p["realised_return_per_rupiah"] == pytest.approx(realised.sum() / amount.sum())
    # the policy's own expected return per loan (whole Rupiah) adds up to the position's
    per_loan = scored["expected_return"].to_numpy(dtype=float)[approved]
    assert p["expected_return"] == pytest.approx(per_loan.sum(), abs=0.5 * approved.sum() + 1)
    # the strategy curve: 20 points, approving everyone at the end
    curve = pd.DataFrame(d["curve"])
    assert len(curve) == 20 and curve["approval_rate"].is_monotonic_increasing
    assert curve["approval_rate"].iloc[-1] == 1.0
    assert curve["default_rate"].iloc[-1] == pytest.approx(full.test[TARGET].mean())
    assert curve["pd_cut_off"].is_monotonic_increasing

    # the page: the section, its tables, the plot and the position in words
    html = _section(page, "decisions")
    assert "<h2>Decisions and economics" in html and "Keputusan dan ekonomi pinjaman" in html
    labels = {
        "approve": "approve (Setujui)",
        "refer": "refer (Rujuk)",
        "decline": "decline (Tolak)",
    }
    for k, label in labels.items():
        row = f"<tr><td>{label}</td><td>{d['counts'][k]:,}</td><td>{100 * d['shares'][k]:.1f}%</td>"
        assert row in html, row
    for r in d["rules"]:
        assert f"<code>{r['code']}</code>" in html
    assert "Rp 50.000 per loan" in html and "Rp 5.000.000, 12 months" in html
    assert html.count("<tr><td>") >= 20 + 1 + 3 + len(d["rules"])
    assert "Strategy curve: default rate among approved" in html
    assert re.search(r'<section id="decisions">.*?data:image/png;base64,.*?</section>', page, re.S)
    rupiah = format_rupiah(int(round_half_up(p["expected_return"])))
    assert (
        f"The policy approves {format_percent(p['approval_rate'], 'en', 1)} of applications "
        f"({int(p['approved'])} of {n}); {format_percent(p['default_rate'], 'en', 1)} of those "
        f"default; expected return {rupiah} "
        f"({format_percent(p['expected_return_per_rupiah'], 'en', 2)} of the amount lent"
    ) in html
    assert f"Kebijakan menyetujui {format_percent(p['approval_rate'], 'id', 1)} pengajuan" in html
    realised_rp = format_rupiah(int(round_half_up(p["realised_return"])))
    assert f"realised {realised_rp}" in html


def test_strategy_curve_plot_marks_the_policy(figures: dict[str, Any]) -> None:
    d = figures["decisions"]
    fig = plots.strategy_curve_figure(pd.DataFrame(d["curve"]), d["policy"])
    risk, money = fig.axes[:2]
    p = d["policy"]
    stars = [line for line in risk.lines if line.get_marker() == "*"]
    assert len(stars) == 1
    assert stars[0].get_xdata()[0] == pytest.approx(p["approval_rate"])
    assert stars[0].get_ydata()[0] == pytest.approx(p["default_rate"])
    ys = sorted(line.get_ydata()[0] for line in money.lines if line.get_marker() == "*")
    assert ys == pytest.approx(
        sorted([p["expected_return_per_rupiah"], p["realised_return_per_rupiah"]])
    )
    curve = [line for line in risk.lines if line.get_marker() == "o"]
    assert list(curve[0].get_xdata()) == pytest.approx([r["approval_rate"] for r in d["curve"]])
    assert plots.png_data_uri(fig).startswith("data:image/png;base64,")


def test_fairness_section_uses_the_fairness_screen(
    full: ReportInputs, figures: dict[str, Any], scored: pd.DataFrame, page: str
) -> None:
    y = full.test[TARGET].to_numpy(dtype=float)
    pd_ = scored["pd"].to_numpy(dtype=float)
    expected = fairness_figures(scored["decision"], pd_, scored["grade"], y, full.test)
    fair = figures["fairness"]
    assert set(fair) == {"gender", "cooperative_profile"}
    gender, profile = fair["gender"], fair["cooperative_profile"]
    # gender: the unconditional four-fifths screen; cooperative profile: equal risk
    assert gender["screen"] == "unconditional" and profile["screen"] == "grade_adjusted"
    assert gender["ratio"] == pytest.approx(expected["gender"]["four_fifths"]["ratio"])
    adjusted = expected["cooperative_profile"]["grade_adjusted"]["ratio"]
    assert profile["ratio"] == pytest.approx(adjusted)
    assert profile["approval_ratio"] == pytest.approx(
        expected["cooperative_profile"]["four_fifths"]["ratio"]
    )
    # the grade-adjusted ratio by hand: approvals over those at each grade's pooled rate
    frame = pd.DataFrame(
        {
            "a": (scored["decision"] == "approve").to_numpy(),
            "g": full.test["cooperative_profile"].astype(str).to_numpy(),
            "k": scored["grade"].astype(str).to_numpy(),
        }
    )
    at_pooled = frame["k"].map(frame.groupby("k")["a"].mean()).groupby(frame["g"]).sum()
    standardised = frame.groupby("g")["a"].sum() / at_pooled
    assert profile["ratio"] == pytest.approx(standardised.min() / standardised.max())
    rows = {r["group"]: r for r in profile["groups"]}
    for g, value in standardised.items():
        assert rows[g]["standardised_approval"] == pytest.approx(value)
        part = frame[frame["g"] == g]
        assert rows[g]["approval_rate"] == pytest.approx(part["a"].mean())
        top = part[part["k"].isin(["A", "B"])]
        assert rows[g]["top_grades_approved"] == pytest.approx(top["a"].mean())
        assert rows[g]["n"] == len(part)
    for column in ("gender", "cooperative_profile"):
        f, e = fair[column], expected[column]
        assert f["passes"] == (f["ratio"] >= 0.8)
        assert f["miscalibrated"] == e["calibration"]["miscalibrated"]
        table = {str(r["group"]): r for r in e["calibration"]["table"]}
        for r in f["groups"]:
            assert r["z"] == pytest.approx(table[r["group"]]["z"])
            assert r["difference"] == pytest.approx(table[r["group"]]["difference"])
            assert r["miscalibrated"] == (r["group"] in f["miscalibrated"])
        assert len(f["by_grade"]) == len(e["grade_adjusted"]["by_grade"])

    # the page: each column's screen, its ratio and verdict, the context ratio, the tables
    html = _section(page, "fairness")
    gender_html, profile_html = html.split("<h3>Cooperative profile", 1)
    verdict = {True: "passes", False: "fails"}
    assert (
        f"Approval-rate ratio (unconditional)</th><td>{gender['ratio']:.3f} "
        f"<span class='{'flag-pass' if gender['passes'] else 'flag-fail'}'>four-fifths "
        f"screen: {verdict[gender['passes']]}"
    ) in gender_html
    assert (
        f"Equal-risk approval ratio (grade-adjusted)</th><td>{profile['ratio']:.3f} "
        f"<span class='{'flag-pass' if profile['passes'] else 'flag-fail'}'>four-fifths "
        f"screen: {verdict[profile['passes']]}"
    ) in profile_html
    assert (
        f"Unconditional approval-rate ratio (context)</th><td>{profile['approval_ratio']:.3f}"
        in profile_html
    )
    assert "members of equal risk" in profile_html and "a hard check" in gender_html
    for part in (gender_html, profile_html):
        assert "standardised approval" in part and "miscalibrated" in part
        assert "Approval rate within each grade by group" in part
    urban = next(r for r in profile["by_grade"] if r["grade"] == "A" and r["group"] == "urban")
    assert f"{100 * urban['rate']:.1f}% <span class='note'>(n {urban['n']})" in profile_html
