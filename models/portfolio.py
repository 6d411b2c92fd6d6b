"""The cooperative's book under stress: what its open loans are expected to lose and to pay
in over the next 12 months, in normal times and in three stress scenarios, against the
instalment the cooperative itself owes its bank (DOMAIN.md: it repays its Himbara loan out
of its members' repayments).

Assumptions (each a parameter; the README repeats them):
- PD of an open loan: a loan already non-performing (kolektibilitas 3-5, more than 90 days
  past due: the model's default) counts as defaulted, PD 1. A performing loan takes the
  model's 12-month PD for the borrower's current profile with the loan's own terms; a
  borrower without a current profile PD 1 (unknown is not safe).
- Expected defaults over the next 12 months: the sum of the performing loans' PDs (the
  model's horizon is 12 months).
- Expected loss: PD x outstanding principal x loss given default (the policy's economics,
  0.75 by default: what savings and the group do not recover).
- Collections over the next 12 months: each open loan's monthly instalment (its whole
  schedule over its tenor) for the months it still has to run, at most 12, times (1 - PD):
  a loan that defaults is counted as paying nothing from now, which is prudent; a
  non-performing loan is counted at nothing.
- The bank instalment: given, or assumed as the annuity on a Himbara loan the size of the
  book's outstanding principal at 6% a year over 36 months (PMK 49/2025's terms).
- Scenarios multiply the odds of default, PD/(1-PD), of the members they hit:
  - `west_monsoon`: members whose income depends on the sea (fishers and seafood
    processors) through December to February, odds x `MONSOON_ODDS`;
  - `bad_month`: a city-wide bad month (a flood, a fuel-price rise) hits everyone, odds x
    `BAD_MONTH_ODDS`;
  - `shocks`: a share of members (default 10%) each hit by their own shock (illness, a
    lost stall), odds x `SHOCK_ODDS` for them: the book's PD is the mix.
  The multipliers are judgement, not estimates: a board changes them to ask "what if".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd

from features.application import application_frame
from features.book import CooperativeBook, PortfolioBook, load_book, loan_positions, portfolio_book
from features.kolektibilitas import NPL_FROM
from features.profile_store import ProfileStore
from models.artifact import AmanahModel

__all__ = [
    "BookRisk",
    "Portfolio",
    "Scenario",
    "assumed_bank_instalment",
    "book_frame",
    "book_risk",
    "cooperative_portfolio",
    "open_loan_pd",
    "portfolio",
    "read_portfolio",
    "scenarios",
    "stressed_book",
    "stressed_pd",
]

MONSOON_ODDS = 2.5
BAD_MONTH_ODDS = 1.6
SHOCK_ODDS = 4.0
SHOCK_RATE = 0.10
SEA_SECTORS = frozenset({"fisher", "seafood_processing"})
HIMBARA_RATE = 0.06
HIMBARA_MONTHS = 36
HORIZON_MONTHS = 12

Floats = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Scenario:
    code: str
    text_id: str
    text_en: str
    odds: float  # multiplier of the odds of default of the members it hits
    sea_only: bool = False
    share: float = 1.0  # share of members hit (below 1: independent shocks)


def scenarios(shock_rate: float = SHOCK_RATE) -> list[Scenario]:
    """The three stress scenarios (module docstring)."""
    if not 0.0 <= shock_rate <= 1.0:
        raise ValueError(f"the shock rate must be between 0 and 1; got {shock_rate}")
    return [
        Scenario("west_monsoon", "Musim angin barat: nelayan dan pengolah hasil laut",
                 "West monsoon: fishers and seafood processors", MONSOON_ODDS, sea_only=True),
        Scenario("bad_month", "Satu bulan buruk di seluruh kota (banjir, harga BBM)",
                 "A city-wide bad month (flood, fuel price)", BAD_MONTH_ODDS),
        Scenario("shocks", f"Guncangan pribadi pada {100 * shock_rate:.0f}% anggota",
                 f"Personal shocks hitting {100 * shock_rate:.0f}% of members", SHOCK_ODDS,
                 share=shock_rate),
    ]  # fmt: skip


def stressed_pd(pd_: Floats, odds: float) -> Floats:
    """PD with its odds multiplied by `odds` (PD 0 and 1 stay)."""
    p = np.clip(pd_, 0.0, 1.0)
    stressed = odds * p / np.maximum(1.0 - p + odds * p, 1e-12)
    return np.where(p >= 1.0, 1.0, stressed)


def assumed_bank_instalment(principal: float) -> float:
    """Monthly annuity on a Himbara loan of `principal` (6% a year, 36 months)."""
    r = HIMBARA_RATE / 12
    return float(principal * r / (1 - (1 + r) ** -HIMBARA_MONTHS)) if principal > 0 else 0.0


def book_frame(
    positions: pd.DataFrame, pd_: Floats | Sequence[float], sectors: Sequence[str]
) -> pd.DataFrame:
    """The open loans with what the figures need: pd, exposure (outstanding principal),
    scheduled (instalments due over the horizon), npl and sea (the borrower's living
    depends on the sea). `positions` are `features.book.loan_positions` rows of open loans
    in the order of `pd_` and `sectors`."""
    tenor = positions["tenor_months"].to_numpy(dtype="float64")
    monthly = positions["amount_due_total"].to_numpy(dtype="float64") / np.maximum(tenor, 1)
    owed = positions["outstanding"].to_numpy(dtype="float64")
    months_left = np.minimum(np.ceil(owed / np.maximum(monthly, 1.0)), HORIZON_MONTHS)
    return pd.DataFrame({
        "pd": np.asarray(pd_, dtype="float64"),
        "exposure": positions["outstanding_principal"].to_numpy(dtype="float64"),
        "scheduled": np.minimum(monthly * months_left, owed),
        "npl": positions["kolektibilitas"].to_numpy(dtype="int64") >= NPL_FROM,
        "sea": np.isin(np.asarray(sectors, dtype=object), list(SEA_SECTORS)),
    })  # fmt: skip


@dataclass(frozen=True)
class BookRisk:
    scenario: str  # "base" or a Scenario code
    expected_defaults: float  # among performing loans, next 12 months
    expected_loss: float  # Rupiah
    collections: float  # expected Rupiah in over the next 12 months
    bank_due: float  # the bank instalments over the same months

    @property
    def coverage(self) -> float | None:
        """Collections over what the cooperative owes its bank in the same months."""
        return self.collections / self.bank_due if self.bank_due > 0 else None


def _scenario_pd(book: pd.DataFrame, scenario: Scenario | None) -> Floats:
    p = book["pd"].to_numpy(dtype="float64")
    if scenario is None:
        return p
    hit = book["sea"].to_numpy(dtype=bool) if scenario.sea_only else np.ones(len(p), dtype=bool)
    mixed = (1 - scenario.share) * p + scenario.share * stressed_pd(p, scenario.odds)
    return np.where(hit, mixed, p)


def book_risk(
    book: pd.DataFrame, scenario: Scenario | None, lgd: float, bank_instalment: float
) -> BookRisk:
    """The book's figures in one scenario (None: as it stands)."""
    npl = book["npl"].to_numpy(dtype=bool)
    p = np.where(npl, 1.0, _scenario_pd(book, scenario))
    return BookRisk(
        scenario="base" if scenario is None else scenario.code,
        expected_defaults=float(p[~npl].sum()),
        expected_loss=float((p * book["exposure"].to_numpy(dtype="float64")).sum() * lgd),
        collections=float(((1 - p) * book["scheduled"].to_numpy(dtype="float64")).sum()),
        bank_due=bank_instalment * HORIZON_MONTHS,
    )


@dataclass(frozen=True)
class Portfolio:
    cooperative_id: str
    as_of: str
    open_loans: int
    performing_loans: int
    outstanding_principal: float
    loss_given_default: float
    bank_instalment: float
    bank_instalment_assumed: bool
    base: BookRisk
    stressed: list[BookRisk]
    scenarios: list[Scenario]
    bands: PortfolioBook | None = None  # owed and in arrears, by kolektibilitas


def portfolio(
    cooperative_id: str,
    as_of: str,
    book: pd.DataFrame,
    lgd: float,
    bank_instalment: float | None = None,
    shock_rate: float = SHOCK_RATE,
) -> Portfolio:
    """The book as it stands and under every scenario (module docstring)."""
    if not 0.0 <= lgd <= 1.0:
        raise ValueError(f"loss given default must be between 0 and 1; got {lgd}")
    if bank_instalment is not None and bank_instalment < 0:
        raise ValueError(f"the bank instalment cannot be negative; got {bank_instalment}")
    exposure = float(book["exposure"].sum())
    instalment = assumed_bank_instalment(exposure) if bank_instalment is None else bank_instalment
    chosen = scenarios(shock_rate)
    return Portfolio(
        cooperative_id=cooperative_id,
        as_of=as_of,
        open_loans=len(book),
        performing_loans=int((~book["npl"].to_numpy(dtype=bool)).sum()),
        outstanding_principal=exposure,
        loss_given_default=lgd,
        bank_instalment=instalment,
        bank_instalment_assumed=bank_instalment is None,
        base=book_risk(book, None, lgd, instalment),
        stressed=[book_risk(book, s, lgd, instalment) for s in chosen],
        scenarios=chosen,
    )


def open_loan_pd(
    model: AmanahModel, active: pd.DataFrame, profiles: pd.DataFrame, on: pd.Timestamp
) -> Floats:
    """PD of each open loan (module docstring): 1 when non-performing or when the borrower
    has no current profile, else the model's PD for her current profile (`profiles`, one
    row per member) with the loan's own terms, scored as of `on`. `active` holds
    member_id, principal, tenor_months, purpose, flat_monthly_rate and kolektibilitas."""
    npl = active["kolektibilitas"].to_numpy() >= NPL_FROM
    pd_ = np.ones(len(active))
    members = active["member_id"].astype("str")
    known = members.isin(set(profiles["member_id"].astype("str"))).to_numpy() & ~npl
    if known.any():
        requests = pd.DataFrame({
            "member_id": members[known].to_numpy(),
            "amount": active["principal"].to_numpy()[known],
            "tenor_months": active["tenor_months"].to_numpy()[known],
            "purpose": active["purpose"].astype("str").to_numpy()[known],
            "flat_monthly_rate": active["flat_monthly_rate"].to_numpy()[known],
            "application_date": on.date(),
        })  # fmt: skip
        scored = model.predict(application_frame(profiles, requests), reasons=False)
        pd_[known] = scored["pd"].to_numpy(dtype=float)
    return pd_


def cooperative_portfolio(
    model: AmanahModel,
    positions: pd.DataFrame,
    loans: pd.DataFrame,
    profiles: pd.DataFrame,
    *,
    cooperative_id: str,
    as_of: pd.Timestamp,
    bank_instalment: float | None = None,
    shock_rate: float = SHOCK_RATE,
) -> Portfolio:
    """One cooperative's `portfolio` from its loan positions (`features.book.loan_positions`),
    its loans' terms (purpose, flat_monthly_rate) and its members' current profiles."""
    terms = ["purpose", "flat_monthly_rate"]
    open_ = positions[~positions["closed"].to_numpy(dtype=bool)]
    active = open_.drop(columns=[c for c in terms if c in open_.columns]).merge(
        loans[["loan_id", *terms]], on="loan_id", how="left"
    )
    sector = dict(zip(profiles["member_id"].astype("str"),
                      profiles["business_sector"].astype("str"), strict=True))  # fmt: skip
    sectors = [sector.get(m, "") for m in active["member_id"].astype("str")]
    pd_ = open_loan_pd(model, active, profiles, as_of) if len(active) else np.ones(0)
    lgd = float(model.policy.economics.loss_given_default)
    found = portfolio(
        cooperative_id, as_of.date().isoformat(), book_frame(active, pd_, sectors), lgd,
        bank_instalment, shock_rate,
    )  # fmt: skip
    return replace(found, bands=portfolio_book(positions))


def stressed_book(
    model: AmanahModel,
    profiles: ProfileStore,
    book: CooperativeBook,
    positions: pd.DataFrame,
    bank_instalment: float | None = None,
    shock_rate: float = SHOCK_RATE,
) -> Portfolio:
    """`cooperative_portfolio` of a loaded book, profiles read from the profile store."""
    open_ = positions[~positions["closed"].astype(bool)]
    members = open_["member_id"].astype("str")
    rows = profiles.profiles(sorted(set(members[open_["kolektibilitas"] < NPL_FROM])))
    on = max(pd.Timestamp(profiles.as_of), pd.Timestamp(book.as_of))
    return cooperative_portfolio(
        model, positions, book.loans, rows, cooperative_id=book.cooperative_id, as_of=on,
        bank_instalment=bank_instalment, shock_rate=shock_rate,
    )  # fmt: skip


def read_portfolio(
    model: AmanahModel,
    ledger: Path,
    features: Path,
    cooperative_id: str,
    bank_instalment: float | None = None,
    shock_rate: float = SHOCK_RATE,
) -> Portfolio:
    """`amanah portfolio`: one cooperative's book from a ledger folder and the current
    profiles of a features folder (KeyError for a cooperative the ledger does not hold)."""
    book = load_book(ledger, cooperative_id)
    return stressed_book(
        model, ProfileStore(features), book, loan_positions(book), bank_instalment, shock_rate
    )
