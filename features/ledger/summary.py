"""What an officer or analyst wants to see first about a ledger: size and loan outcomes."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from features.labels import past_due_within, window_closed
from features.ledger.contracts import TABLE_ORDER
from features.ledger.enums import LoanStatus
from features.ledger.store import Ledger


@dataclass(frozen=True)
class LedgerSummary:
    rows: dict[str, int]
    cooperatives: int
    members: int
    loans_disbursed: int
    loans_rejected: int
    as_of: pd.Timestamp
    by_profile: pd.DataFrame  # profile -> cooperatives, members, labelled loans, default rate


def summarise(ledger: Ledger, as_of: pd.Timestamp | None = None) -> LedgerSummary:
    """Counts per table and the 12-month > 90 DPD default rate by cooperative profile.

    Only loans whose 12-month window closed before `as_of` (default: the ledger's own as-of
    day) are counted, so open loans are never counted as good.
    """
    rows = {t: sum(ledger.manifest["tables"].get(t, {}).values()) for t in TABLE_ORDER}
    coops = ledger.read("cooperatives", columns=["cooperative_id", "profile"])
    members = ledger.read("members", columns=["member_id", "cooperative_id"])
    loans = ledger.read(
        "loans", columns=["loan_id", "cooperative_id", "status", "disbursement_date"]
    )
    installments = ledger.read(
        "installments", columns=["loan_id", "installment_no", "due_date", "amount_due"]
    )
    repayments = ledger.read("repayments", columns=["loan_id", "date", "amount"])
    as_of = ledger.as_of if as_of is None else as_of
    disbursed = loans[loans["disbursement_date"].notna()]
    closed = window_closed(disbursed, as_of)
    default = past_due_within(disbursed, installments, repayments)
    outcome = disbursed[["loan_id", "cooperative_id"]].assign(
        closed=closed.to_numpy(), default=default.reindex(disbursed["loan_id"]).to_numpy()
    )
    labelled = outcome[outcome["closed"]].merge(coops, on="cooperative_id")
    by_profile = (
        coops.groupby("profile")
        .size()
        .rename("cooperatives")
        .to_frame()
        .join(members.merge(coops, on="cooperative_id").groupby("profile").size().rename("members"))
        .join(
            labelled.groupby("profile")["default"]
            .agg(["size", "mean"])
            .rename(columns={"size": "labelled_loans", "mean": "default_rate"})
        )
        .fillna({"members": 0, "labelled_loans": 0})
    )
    return LedgerSummary(
        rows=rows,
        cooperatives=len(coops),
        members=len(members),
        loans_disbursed=int(loans["status"].eq(LoanStatus.DISBURSED).sum()),
        loans_rejected=int(loans["status"].eq(LoanStatus.REJECTED).sum()),
        as_of=as_of,
        by_profile=by_profile,
    )
