"""What the policy's decisions come to on an evaluated period: decision shares, how often
each rule fired, and where the policy sits on the strategy curve of its own economics.
Pure: scored rows in, plain figures out, for the training report, the validation report
and the benchmarks."""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np
import pandas as pd

from models.economics import policy_position, strategy_curve
from models.fairness import fairness_figures
from models.policy import DECISIONS, DecisionPolicy

__all__ = ["TERMS", "decision_figures", "decision_summary"]

TERMS = ("loan_amount", "tenor_months", "flat_monthly_rate")


def decision_figures(
    scored: pd.DataFrame, rows: pd.DataFrame, y: np.ndarray, policy: DecisionPolicy
) -> dict[str, Any]:
    """Shares of approve / refer / decline, the share of applications each rule fired on,
    grade A-B approval, and (where the rows carry loan terms) the policy's position and
    the strategy curve: approving the safest share of applications, on the same terms."""
    n = len(scored)
    decision = scored["decision"].astype(str)
    codes = Counter(code for fired in scored["rule_codes"] for code in fired)
    out: dict[str, Any] = {
        "applications": n,
        "shares": {d: float((decision == d).mean()) if n else float("nan") for d in DECISIONS},
        "rules": {code: count / n for code, count in codes.most_common()} if n else {},
    }
    top = scored["grade"].isin(["A", "B"]).to_numpy()
    out["top_grades"] = {
        "share": float(top.mean()) if n else float("nan"),
        "approved": float((decision[top] == "approve").mean()) if top.any() else float("nan"),
    }
    if not all(c in rows.columns for c in TERMS) or n == 0:
        return out
    amount, tenor, rate = (pd.to_numeric(rows[c]).to_numpy(dtype=float) for c in TERMS)
    if "approved_amount" in scored.columns:
        # an approval lends what the policy offered (a counter-offer lends less)
        offered = pd.to_numeric(scored["approved_amount"]).to_numpy(dtype=float, na_value=np.nan)
        amount = np.where(np.isnan(offered), amount, offered)
    econ = policy.economics
    pd_ = scored["pd"].to_numpy(dtype=float)
    approved = (decision == "approve").to_numpy()
    out["policy"] = policy_position(approved, pd_, y, amount, tenor, rate, econ)
    out["curve"] = strategy_curve(pd_, y, amount, tenor, rate, econ).to_dict(orient="records")
    return out


def decision_summary(
    scored: pd.DataFrame, rows: pd.DataFrame, y: np.ndarray, policy: DecisionPolicy
) -> dict[str, float]:
    """The policy's figures as flat numbers (for metrics and a one-line summary): decision
    shares, the lowest share of grade A-B approved in any cooperative profile, the fairness
    screens the gate reads, and the return per Rupiah lent among approved loans."""
    figures = decision_figures(scored, rows, y, policy)
    out = {f"{d}_share": v for d, v in figures["shares"].items()}
    fair = fairness_figures(scored["decision"], scored["pd"], scored["grade"], y, rows)
    if "cooperative_profile" in fair:
        top = fair["cooperative_profile"]["top_grades_approved"]
        out["top_grades_approved_min"] = min(top.values()) if top else float("nan")
        out["equal_risk_ratio_cooperative_profile"] = fair["cooperative_profile"]["grade_adjusted"][
            "ratio"
        ]
    if "gender" in fair:
        out["four_fifths_gender"] = fair["gender"]["four_fifths"]["ratio"]
    position = figures.get("policy")
    if position is not None:
        for k in ("default_rate", "expected_return_per_rupiah", "realised_return_per_rupiah"):
            out[f"approved_{k}"] = position[k]
    return out
