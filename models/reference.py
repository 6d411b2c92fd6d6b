"""The reference applicant that reasons are measured against.

Baseline Shapley explains how a member's log-odds differ from one reference applicant's, so
the reference decides what "adverse" means. Amanah's reference is the typical member in
good standing: per feature, the median among the validation period's applicants who
repaid (the latest period the model was developed on, so they look most like today's
applicants) (their most common category for categorical features), and missing where most of
them have no value (a first-time borrower has no on-time share to compare). A member then
hears what makes her riskier or safer than a typical good member, in that member's own
terms; the reference is stored in the artifact, logged to MLflow and shown in the model
card.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

__all__ = ["fit_reference", "reference_matrix_row"]

# a feature missing for more than this share of repaid applicants is missing in the reference
MISSING_SHARE = 0.5


def fit_reference(
    frame: pd.DataFrame,
    y: npt.ArrayLike,
    features: Sequence[str],
    categorical: Sequence[str],
) -> dict[str, float | str | None]:
    """The reference applicant from training rows (``y`` 1 = default, 0 = repaid)."""
    labels = np.asarray(y)
    good = frame.loc[labels == 0] if (labels == 0).any() else frame
    reference: dict[str, float | str | None] = {}
    for name in features:
        column = good[name]
        if column.isna().mean() > MISSING_SHARE:
            reference[name] = None
        elif name in categorical:
            counts = column.dropna().astype("str").value_counts()
            # ties broken by the text, so the reference does not depend on row order
            top = counts[counts == counts.max()].index
            reference[name] = str(sorted(top)[0])
        else:
            reference[name] = float(np.nanmedian(pd.to_numeric(column).to_numpy(dtype=float)))
    return reference


def reference_matrix_row(
    reference: Mapping[str, Any],
    features: Sequence[str],
    categories: Mapping[str, Sequence[str]],
) -> npt.NDArray[np.float64]:
    """The reference as one row of the model's float matrix (category codes, NaN missing)."""
    row = np.full(len(features), np.nan)
    for j, name in enumerate(features):
        value = reference.get(name)
        if value is None:
            continue
        if name in categories:
            known = list(categories[name])
            if str(value) in known:
                row[j] = known.index(str(value))
        else:
            row[j] = float(value)
    return row
