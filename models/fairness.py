"""The fairness screen of an evaluation: what the report shows and the gate judges.

Two questions, kept apart (DOMAIN.md "Fairness"; README "Fairness screen"):

* **Gender**: women and men are screened on their approval rates directly, the
  four-fifths rule (lowest over highest rate at least 0.8). Nothing in a cooperative's
  lending justifies a gap by gender, so this is a hard check.
* **Cooperative profile** (a stand-in for area and ethnicity): coastal, food-production,
  peri-urban and urban-trade cooperatives differ in true risk (a fishing enclave's west
  monsoon is real), so unequal approval rates alone say nothing. The screen asks whether
  members of *equal risk* are approved at equal rates: each group's approvals against
  those it would get at the pooled approval rate of each grade (indirect standardisation),
  and the four-fifths rule on those standardised rates. Beside it, the unconditional ratio
  is reported for context, and calibration by group checks that a PD means the same risk
  in every group.

Calibration by group: a group fails when its mean PD and its observed default rate differ
by more than `CALIBRATION_GAP` and by more than `CALIBRATION_Z` standard errors (the
binomial spread of its defaults given the PDs), so a small group is not failed for noise.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from models.grades import GRADES
from models.metrics import calibration_by_group, four_fifths

__all__ = [
    "CALIBRATION_GAP",
    "CALIBRATION_Z",
    "FAIRNESS",
    "MIN_GROUP",
    "fairness_figures",
    "grade_adjusted_ratio",
    "group_calibration",
]

FAIRNESS = ("gender", "cooperative_profile")
# screened on approval rates as they are
UNCONDITIONAL = frozenset({"gender"})
MIN_GROUP = 30  # rows a group needs to enter a ratio
CALIBRATION_GAP = 0.02
CALIBRATION_Z = 3.0
TOP_GRADES = ("A", "B")


def grade_adjusted_ratio(
    approved: npt.ArrayLike, group: npt.ArrayLike, grade: npt.ArrayLike, min_n: int = MIN_GROUP
) -> dict[str, Any]:
    """Approval rates standardised for risk grade: per group, approvals over the approvals
    it would get at the pooled approval rate of each of its members' grades, and the
    lowest over the highest of those among groups of at least ``min_n`` (NaN when fewer
    than two groups qualify or none would expect an approval). Also each grade's approval
    rate per group."""
    a = np.asarray(approved, dtype=bool)
    g = np.asarray(group).astype(str)
    k = np.asarray(grade).astype(str)
    frame = pd.DataFrame({"a": a, "g": g, "k": k})
    pooled = frame.groupby("k")["a"].mean()
    frame["expected"] = frame["k"].map(pooled).astype(float)
    per = frame.groupby("g").agg(
        n=("a", "size"), approved=("a", "sum"), expected=("expected", "sum")
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        per["standardised"] = per["approved"] / per["expected"]
    eligible = per[(per["n"] >= min_n) & (per["expected"] > 0)]["standardised"]
    ratio = math.nan
    if len(eligible) >= 2 and eligible.max() > 0:
        ratio = float(eligible.min() / eligible.max())
    by_grade = frame.groupby(["k", "g"])["a"].agg(["size", "mean"]).reset_index()
    return {
        "ratio": ratio,
        "standardised": {str(i): float(v) for i, v in per["standardised"].items()},
        "groups_too_small": sorted(str(i) for i in per.index[per["n"] < min_n]),
        "by_grade": [
            {"grade": str(gr), "group": str(grp), "n": int(n), "rate": float(rate)}
            for gr, grp, n, rate in by_grade.itertuples(index=False)
            if gr in GRADES
        ],
    }


def group_calibration(
    y: npt.ArrayLike, pd_: npt.ArrayLike, group: npt.ArrayLike, min_n: int = MIN_GROUP
) -> dict[str, Any]:
    """Calibration by group with its noise (module docstring): the table, and the groups
    whose PD is off beyond both the gap and the z-limit (``miscalibrated``)."""
    t = np.asarray(y, dtype=float)
    p = np.asarray(pd_, dtype=float)
    groups = np.asarray(group).astype(str)
    table = calibration_by_group(t, p, groups)
    spread = pd.Series(p * (1 - p)).groupby(groups).sum()
    se = np.sqrt(table["group"].map(spread).to_numpy(dtype=float)) / table["n"].to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        z = table["difference"].to_numpy() / se
    table["z"] = z
    off = (
        (table["n"].to_numpy() >= min_n)
        & (np.abs(table["difference"].to_numpy()) > CALIBRATION_GAP)
        & (np.abs(z) > CALIBRATION_Z)
    )
    return {
        "table": table.to_dict(orient="records"),
        "miscalibrated": [str(gr) for gr in table["group"][off]],
        "max_gap": float(np.abs(table["difference"]).max()) if len(table) else math.nan,
    }


def fairness_figures(
    decision: pd.Series,
    pd_: npt.ArrayLike,
    grade: npt.ArrayLike,
    y: npt.ArrayLike,
    rows: pd.DataFrame,
) -> dict[str, dict[str, Any]]:
    """Per fairness column present in ``rows``: the unconditional four-fifths screen on
    approvals and on "not declined", the grade-adjusted ratio, calibration by group, and
    the share of grade A-B members approved per group."""
    approved = (decision == "approve").to_numpy()
    not_declined = (decision != "decline").to_numpy()
    grades = np.asarray(grade).astype(str)
    top = np.isin(grades, TOP_GRADES)
    out: dict[str, dict[str, Any]] = {}
    for column in FAIRNESS:
        if column not in rows.columns:
            continue
        groups = rows[column].astype("str").to_numpy()
        top_rates = (
            pd.Series(approved[top]).groupby(groups[top]).mean().to_dict() if top.any() else {}
        )
        out[column] = {
            "screen": "unconditional" if column in UNCONDITIONAL else "grade_adjusted",
            "four_fifths": four_fifths(approved, groups, MIN_GROUP),
            "four_fifths_not_declined": four_fifths(not_declined, groups, MIN_GROUP),
            "grade_adjusted": grade_adjusted_ratio(approved, groups, grades),
            "calibration": group_calibration(y, pd_, groups),
            "top_grades_approved": {str(k): float(v) for k, v in top_rates.items()},
        }
    return out
