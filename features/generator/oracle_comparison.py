"""How close a trained model came to the generator's oracle, on the same test loans.

Only generated ledgers have an oracle. The training command calls this after training, to
judge the model; nothing that trains or scores reads the oracle (tested: outside the
generator, only the command line may import this one function).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd

from features.generator.run import ORACLE_DIR, read_oracle
from models.metrics import auc

# The target for the demo data: test AUC at least this share of the oracle's.
TARGET_SHARE = 0.97


def has_oracle(ledger_dir: Path) -> bool:
    return any((ledger_dir / ORACLE_DIR).glob("loans-*.parquet"))


def true_pd(ledger_dir: Path, loan_ids: pd.Series) -> npt.NDArray[np.float64] | None:
    """The oracle's PD of each loan, in the given order; None when the ledger has no oracle
    (an imported ledger) or the oracle lacks some of the loans."""
    if not has_oracle(ledger_dir):
        return None
    truth = read_oracle(ledger_dir).set_index("loan_id")["true_pd_12m"]
    ids = pd.Index(loan_ids.astype("str"))
    if not ids.isin(truth.index).all():
        return None
    return np.asarray(truth.loc[ids].to_numpy(), dtype=np.float64)


def share_of_oracle(y: npt.ArrayLike, truth: npt.ArrayLike, model_auc: float) -> dict[str, float]:
    """Oracle AUC on the same loans and the model's AUC as a share of it."""
    oracle_auc = auc(np.asarray(y), truth)
    return {
        "oracle_test_auc": oracle_auc,
        "auc_share_of_oracle": model_auc / oracle_auc,
        "auc_share_target": TARGET_SHARE,
    }


def compare_with_oracle(
    ledger_dir: Path, loan_ids: pd.Series, y: npt.ArrayLike, model_auc: float
) -> dict[str, float] | None:
    """:func:`share_of_oracle` for the given loans; None when there is no oracle for them."""
    truth = true_pd(ledger_dir, loan_ids)
    return None if truth is None else share_of_oracle(y, truth, model_auc)
