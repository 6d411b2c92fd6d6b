"""How close a trained model came to the generator's oracle, on the same test loans.

Only generated ledgers have an oracle. The training command calls this after training, to
judge the model; nothing that trains or scores reads the oracle (tested: outside the
generator, only the command line may import this one function).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd

from features.catalog import CATALOG, feature
from features.generator.run import ORACLE_DIR, read_oracle
from models.metrics import auc

# The target for the demo data: test AUC at least this share of the oracle's.
TARGET_SHARE = 0.97


def has_oracle(ledger_dir: Path) -> bool:
    return any((ledger_dir / ORACLE_DIR).glob("loans-*.parquet"))


def _oracle_loans(ledger_dir: Path, loan_ids: pd.Series) -> pd.DataFrame | None:
    """The oracle's rows of the given loans, in their order (one read); None when the
    ledger has no oracle (an imported ledger) or the oracle lacks some of the loans."""
    if not has_oracle(ledger_dir):
        return None
    truth = read_oracle(ledger_dir).set_index("loan_id")
    ids = pd.Index(loan_ids.astype("str"))
    if not ids.isin(truth.index).all():
        return None
    return truth.loc[ids]


def true_pd(ledger_dir: Path, loan_ids: pd.Series) -> npt.NDArray[np.float64] | None:
    """The oracle's PD of each loan, in the given order; None without an oracle for them."""
    rows = _oracle_loans(ledger_dir, loan_ids)
    return None if rows is None else np.asarray(rows["true_pd_12m"], dtype=np.float64)


def share_of_oracle(y: npt.ArrayLike, truth: npt.ArrayLike, model_auc: float) -> dict[str, float]:
    """Oracle AUC on the same loans and the model's AUC as a share of it."""
    oracle_auc = auc(np.asarray(y), truth)
    return {
        "oracle_test_auc": oracle_auc,
        "auc_share_of_oracle": model_auc / oracle_auc,
        "auc_share_target": TARGET_SHARE,
    }


def compare_with_oracle(
    ledger_dir: Path,
    loan_ids: pd.Series,
    y: npt.ArrayLike,
    model_auc: float,
    reasons: Callable[[], tuple[Sequence[Sequence[str]], npt.ArrayLike]] | None = None,
) -> dict[str, float] | None:
    """:func:`share_of_oracle` for the given loans; None when there is no oracle for them.

    With ``reasons`` (called only when there is an oracle: each loan's adverse reasons'
    risk factors, strongest first, and which loans were referred or declined) also the
    reason fidelity (:func:`fidelity_hits`) over all loans and among those flagged."""
    rows = _oracle_loans(ledger_dir, loan_ids)
    if rows is None:
        return None
    out = share_of_oracle(y, np.asarray(rows["true_pd_12m"], dtype=np.float64), model_auc)
    adverse_factors, flagged = reasons() if reasons is not None else (None, None)
    if adverse_factors is not None and len(adverse_factors) == len(rows):
        hits = fidelity_hits(rows["driver_1"], adverse_factors)
        mask = np.ones(len(rows), dtype=bool) if flagged is None else np.asarray(flagged)
        for key, values in hits.items():
            out[f"reason_fidelity_{key}_all"] = float(values.mean())
            if mask.any():
                out[f"reason_fidelity_{key}_referred_or_declined"] = float(values[mask].mean())
    return out


def reason_fidelity(
    ledger_dir: Path, loan_ids: pd.Series, adverse_factors: Sequence[Sequence[str]]
) -> dict[str, npt.NDArray[np.float64]] | None:
    """:func:`fidelity_hits` against the oracle's main driver of each loan; None when there
    is no oracle for these loans."""
    rows = _oracle_loans(ledger_dir, loan_ids)
    if rows is None or len(rows) != len(adverse_factors):
        return None
    return fidelity_hits(rows["driver_1"], adverse_factors)


def fidelity_hits(
    main_drivers: pd.Series, adverse_factors: Sequence[Sequence[str]]
) -> dict[str, npt.NDArray[np.float64]]:
    """Per loan: whether its main adverse driver is among the risk factors of the first 3
    (``top3``) or the first (``top1``) adverse reasons, and the chance of the top 3 naming
    it (``chance_top3``: their distinct factors over all factors the catalog uses).

    ``adverse_factors`` holds each loan's adverse reasons' risk factors, strongest first.
    The driver is named as the catalog names it (`simulate.TRUE_DRIVERS`), so the catalog
    says which risk factor it is.
    """
    main = [feature(str(d)).risk_factor.value for d in main_drivers]
    factors_in_use = len({f.risk_factor for f in CATALOG})
    pairs = list(zip(main, adverse_factors, strict=True))
    top3 = np.array([m in fs[:3] for m, fs in pairs])
    top1 = np.array([bool(fs) and fs[0] == m for m, fs in pairs])
    chance = np.array([len(set(fs[:3])) / factors_in_use for fs in adverse_factors])
    return {
        "top3": top3.astype(np.float64),
        "top1": top1.astype(np.float64),
        "chance_top3": chance,
    }
