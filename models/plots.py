"""The report's plots (PNG): ROC of the model and the WoE baseline, calibration, score
distribution and observed default rate by grade, all on the test period."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib

matplotlib.use("Agg")  # files only, no screen

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from models.metrics import calibration_table

if TYPE_CHECKING:
    from models.training import TrainingResult


def _roc(y: np.ndarray, score: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    order = np.argsort(-score, kind="stable")
    hits = y[order]
    tpr = np.r_[0, np.cumsum(hits) / max(hits.sum(), 1)]
    fpr = np.r_[0, np.cumsum(1 - hits) / max((1 - hits).sum(), 1)]
    return fpr, tpr


def write_plots(result: TrainingResult, folder: Path) -> list[Path]:
    test = result.test
    target = result.model.metadata["target"]
    y = test[target].to_numpy().astype(int)
    scored = result.model.predict(test)
    pd_ = scored["pd"].to_numpy()
    paths = []

    fig, ax = plt.subplots(figsize=(5, 5))
    for label, score in (
        ("LightGBM", pd_),
        ("WoE scorecard", result.baseline.predict_proba(test[result.baseline.features_])),
    ):
        fpr, tpr = _roc(y, np.asarray(score))
        ax.plot(fpr, tpr, label=label)
    ax.plot([0, 1], [0, 1], ls=":", color="grey")
    ax.set(xlabel="false positive rate", ylabel="true positive rate", title="ROC, test period")
    ax.legend()
    paths.append(_save(fig, folder / "roc.png"))

    table = calibration_table(y, pd_, bins=10)
    fig, ax = plt.subplots(figsize=(5, 5))
    ax.plot(table["mean_pd"], table["observed_rate"], marker="o", label="model")
    top = float(max(table["mean_pd"].max(), table["observed_rate"].max()))
    ax.plot([0, top], [0, top], ls=":", color="grey", label="perfect")
    ax.set(xlabel="predicted PD", ylabel="observed default rate", title="Calibration, test period")
    ax.legend()
    paths.append(_save(fig, folder / "calibration.png"))

    fig, ax = plt.subplots(figsize=(6, 4))
    ax.hist([scored["score"][y == 0], scored["score"][y == 1]], bins=30, stacked=True,
            label=["repaid", "defaulted"])  # fmt: skip
    ax.set(xlabel="score", ylabel="applications", title="Score distribution, test period")
    ax.legend()
    paths.append(_save(fig, folder / "scores.png"))

    grades = pd.DataFrame(result.report["grades"])
    fig, ax = plt.subplots(figsize=(5, 4))
    ax.bar(grades["grade"], grades["observed_rate"].fillna(0))
    ax.set(xlabel="grade", ylabel="observed default rate", title="Default rate by grade")
    paths.append(_save(fig, folder / "grades.png"))
    return paths


def _save(fig: Figure, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path
