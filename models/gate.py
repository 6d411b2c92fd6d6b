"""The promotion rule, apart from the registry: the figures a challenger is judged on, the
checks they must pass, and whether a model with figures nobody could compute may be
promoted (never, not even when forced). Pure functions; `models.registry.promote` does
the MLflow I/O around them.

Checks (thresholds in `Gate`):

* ``calibration``: the challenger's calibration error on its test period;
* ``auc`` and ``psi``: against the champion on the same test period, when there is one;
* ``four_fifths_gender``: approval-rate ratio by gender, unconditional (a hard check);
* ``equal_risk_cooperative_profile``: approval rates of members of equal risk (grade-
  adjusted, `models.fairness`) by cooperative profile;
* ``calibration_by_<group column>``: no group whose PD is off beyond noise.
The unconditional ratio by cooperative profile is a figure, reported, not a check.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from models.fairness import UNCONDITIONAL, fairness_figures
from models.metrics import auc, calibration_error, psi

__all__ = ["Gate", "Verdict", "gate_figures", "judge", "undefined_figures"]


@dataclass(frozen=True)
class Gate:
    auc_tolerance: float = 0.01  # the challenger may lose at most this much AUC
    max_calibration_error: float = 0.03
    max_psi: float = 0.25  # challenger vs champion score distributions on the test period
    min_four_fifths: float = 0.8


@dataclass(frozen=True)
class Verdict:
    checks: dict[str, bool]
    passed: bool
    promoted: bool
    forced: bool
    undefined: list[str]  # figures a check reads that are NaN or infinite


def undefined_figures(figures: Mapping[str, Any]) -> list[str]:
    """Figures that could not be computed: an AUC without defaults, a ratio without
    approvals. Missing evidence, not a failed threshold."""
    return sorted(
        k
        for k, v in figures.items()
        if isinstance(v, float | int) and not isinstance(v, bool) and not math.isfinite(v)
    )


def gate_figures(
    challenger: pd.DataFrame,
    test: pd.DataFrame,
    y: np.ndarray,
    champion: pd.DataFrame | None = None,
) -> dict[str, Any]:
    """The figures the gate reads, from the challenger's (and the champion's) answers on
    the challenger's test period: pd, score, grade and decision per row; ``test`` holds
    the fairness columns."""
    pd_ = challenger["pd"].to_numpy(dtype=float)
    figures: dict[str, Any] = {
        "challenger_auc": auc(y, pd_),
        "challenger_calibration_error": calibration_error(y, pd_),
    }
    fairness = fairness_figures(challenger["decision"], pd_, challenger["grade"], y, test)
    for column, fair in fairness.items():
        figures[f"four_fifths_{column}"] = fair["four_fifths"]["ratio"]
        figures[f"not_declined_ratio_{column}"] = fair["four_fifths_not_declined"]["ratio"]
        figures[f"equal_risk_ratio_{column}"] = fair["grade_adjusted"]["ratio"]
        figures[f"miscalibrated_groups_{column}"] = len(fair["calibration"]["miscalibrated"])
    if champion is not None:
        figures["champion_auc"] = auc(y, champion["pd"].to_numpy(dtype=float))
        figures["psi_vs_champion"] = psi(
            champion["score"].to_numpy(dtype=float), challenger["score"].to_numpy(dtype=float)
        )
    return figures


def _checks(figures: Mapping[str, Any], gate: Gate) -> dict[str, tuple[bool, tuple[str, ...]]]:
    """Each check's outcome and the figures it reads."""
    checks: dict[str, tuple[bool, tuple[str, ...]]] = {
        "calibration": (
            figures["challenger_calibration_error"] <= gate.max_calibration_error,
            ("challenger_calibration_error",),
        )
    }
    if "champion_auc" in figures:
        checks["auc"] = (
            figures["challenger_auc"] >= figures["champion_auc"] - gate.auc_tolerance,
            ("challenger_auc", "champion_auc"),
        )
    if "psi_vs_champion" in figures:
        checks["psi"] = (figures["psi_vs_champion"] <= gate.max_psi, ("psi_vs_champion",))
    columns = [k.removeprefix("four_fifths_") for k in figures if k.startswith("four_fifths_")]
    for column in columns:
        key = f"four_fifths_{column}" if column in UNCONDITIONAL else f"equal_risk_ratio_{column}"
        name = f"four_fifths_{column}" if column in UNCONDITIONAL else f"equal_risk_{column}"
        checks[name] = (bool(figures[key] >= gate.min_four_fifths), (key,))
        off = f"miscalibrated_groups_{column}"
        if off in figures:
            checks[f"calibration_by_{column}"] = (figures[off] == 0, (off,))
    return checks


def judge(figures: Mapping[str, Any], gate: Gate, force: bool = False) -> Verdict:
    """Passed when every check passes and every figure a check reads is defined; a forced
    promotion overrides failed thresholds, never undefined figures."""
    checks = _checks(figures, gate)
    read = {f for _, names in checks.values() for f in names}
    undefined = undefined_figures({k: v for k, v in figures.items() if k in read})
    outcome = {name: bool(ok) for name, (ok, _) in checks.items()}
    passed = all(outcome.values()) and not undefined
    promoted = passed or (force and not undefined)
    return Verdict(outcome, passed, promoted, promoted and not passed, undefined)
