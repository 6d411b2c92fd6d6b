"""Which columns of a brought table may be features, and why each other one is not.

A new user points `amanah train --table` at whatever table she has. Identifiers, other
outcome columns and dates in it would make a model that looks excellent and is worthless
(the demo's own training table scored AUC 0.996 on `loan_id`, `dpd30_12m` and `labelled`),
so they are kept out by rule, and every column kept out is listed with its reason.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import pandas as pd
import pandas.api.types as ptypes

from features.application import DECLARED_COLUMNS
from features.pipeline import LABELS
from models.metrics import auc

# a text column with a distinct value on this share of its rows names rows, not applicants
IDENTIFIER_SHARE = 0.9
# alone, a column this predictive of the target is an outcome, never an applicant's attribute
LEAK_AUC = 0.97
_SHRINK = 20  # pseudo-rows at the overall default rate per value
_LABEL_NAME = re.compile(
    r"^(dpd\d+|default(ed)?|bad|is_bad|label(led)?|target|outcome|write_?off)(_\w+)?$"
)
_DATE_TEXT = re.compile(r"^\d{4}-\d{2}-\d{2}|^\d{1,2}[/.-]\d{1,2}[/.-]\d{4}")
_OUTCOME_NAMES = frozenset((*LABELS, "labelled"))


def screen_columns(
    frame: pd.DataFrame,
    target: str,
    y: pd.Series,
    time_column: str | None,
    exclude: Sequence[str] = (),
    kept_out: Sequence[str] = (),
) -> tuple[list[str], dict[str, str]]:
    """The feature columns in table order, and {column: reason} for every other column.

    `exclude` is the user's own list (`--exclude`); `kept_out` the columns kept for the
    fairness screen. `y` is the target as 0/1 with NA for unlabelled rows."""
    labelled = y.notna().to_numpy()
    target01 = y[labelled].astype(int).to_numpy()
    names: list[str] = []
    dropped: dict[str, str] = {}
    for column in frame.columns:
        if column in (target, time_column):
            continue
        reason = _reason(
            str(column), frame[column], frame[column][labelled], target01, exclude, kept_out
        )
        if reason is None:
            names.append(str(column))
        else:
            dropped[str(column)] = reason
    return names, dropped


def _reason(
    name: str,
    column: pd.Series,
    labelled: pd.Series,
    y: np.ndarray,
    exclude: Sequence[str],
    kept_out: Sequence[str],
) -> str | None:
    if name in exclude:
        return "excluded by --exclude"
    if name in kept_out:
        return "kept for the fairness screen only, never a feature"
    if name in DECLARED_COLUMNS:
        return "declared on the loan form: the policy reads it, never a feature"
    if name.lower() == "id" or name.lower().endswith("_id"):
        return "an identifier (its name ends in _id)"
    if name.lower() in _OUTCOME_NAMES or _LABEL_NAME.match(name.lower()):
        return "another outcome column (known only after the loan), never a feature"
    values = labelled.dropna()
    if values.empty:
        return "no value on any labelled row"
    if _is_date(column):
        return "a date (give it as --time-column for an out-of-time split)"
    if values.nunique() < 2:
        return f"one value on every labelled row ({values.iloc[0]!r})"
    if _is_identifier(values):
        return "an identifier (a different value on nearly every row)"
    separation = _alone_auc(labelled, y)
    if separation >= LEAK_AUC:
        return (
            f"alone it separates the target almost perfectly (AUC {separation:.3f}): an "
            "outcome or a copy of the target, not an applicant's attribute"
        )
    return None


def _is_date(column: pd.Series) -> bool:
    if ptypes.is_datetime64_any_dtype(column):
        return True
    if ptypes.is_numeric_dtype(column) or isinstance(column.dtype, pd.CategoricalDtype):
        return False
    sample = column.dropna().astype("str").head(200)
    return bool(len(sample)) and float(sample.str.match(_DATE_TEXT).mean()) >= 0.9


def _is_identifier(values: pd.Series) -> bool:
    n = len(values)
    if n < 20:
        return False
    distinct = values.nunique()
    if not ptypes.is_numeric_dtype(values) or isinstance(values.dtype, pd.CategoricalDtype):
        return distinct >= IDENTIFIER_SHARE * n
    if ptypes.is_bool_dtype(values) or not ptypes.is_integer_dtype(values):
        return False
    # a running number: every value distinct, and nearly every number in its range used
    span = float(values.max()) - float(values.min()) + 1
    return bool(distinct == n and span <= 1.05 * n)


def _alone_auc(column: pd.Series, y: np.ndarray) -> float:
    """AUC of the column's own default rate per value (its bins for numbers), either way
    round: how well this one column separates the target."""
    if ptypes.is_numeric_dtype(column) and not isinstance(column.dtype, pd.CategoricalDtype):
        x = pd.to_numeric(column).astype("float64").to_numpy(na_value=np.nan)
        values = pd.Series(np.where(np.isnan(x), -np.inf, x))
        if values.nunique() > 20:
            values = pd.Series(pd.qcut(values.rank(method="first"), 20, labels=False))
        key: np.ndarray = values.to_numpy()
    else:
        key = column.astype("str").fillna("<missing>").to_numpy(dtype=object)
    # shrunk towards the overall rate, so a value held by a handful of rows cannot look like
    # a perfect separator by chance
    groups = pd.Series(y).groupby(key)
    bad, n = groups.transform("sum").to_numpy(), groups.transform("size").to_numpy()
    rate = (bad + _SHRINK * y.mean()) / (n + _SHRINK)
    a = auc(y, rate)
    return float(max(a, 1 - a))
